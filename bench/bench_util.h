// Timing helpers for benchmarks: run callables repeatedly and report medians.
#pragma once
#include <algorithm>
#include <chrono>
#include <utility>
#include <vector>

namespace tinynn::bench {

// Seconds per call, averaged over `calls` back-to-back calls.
template <class F>
double seconds_per_call(F& f, int calls) {
  const auto start = std::chrono::steady_clock::now();
  for (int c = 0; c < calls; ++c) f();
  return std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count() / calls;
}

inline double median(std::vector<double> v) {
  std::nth_element(v.begin(), v.begin() + static_cast<long>(v.size() / 2), v.end());
  return v[v.size() / 2];
}

// Median seconds per call over `repeats` timed batches of `calls_per_repeat` calls each,
// after `warmup` untimed calls (the machines are noisy: the median ignores stray slow runs).
template <class F>
double median_seconds(F&& f, int repeats, int calls_per_repeat = 1, int warmup = 2) {
  for (int i = 0; i < warmup; ++i) f();
  std::vector<double> times;
  for (int r = 0; r < repeats; ++r) times.push_back(seconds_per_call(f, calls_per_repeat));
  return median(times);
}

// Seconds per call of each callable, measured in alternating rounds (a, b, a, b, ...) so that
// slow phases of a noisy machine hit both alike; returns the two medians.
template <class A, class B>
std::pair<double, double> interleaved_median_seconds(A&& a, B&& b, int rounds, int calls_per_round = 1) {
  a();
  b();
  std::vector<double> ta, tb;
  for (int r = 0; r < rounds; ++r) {
    ta.push_back(seconds_per_call(a, calls_per_round));
    tb.push_back(seconds_per_call(b, calls_per_round));
  }
  return {median(ta), median(tb)};
}

}  // namespace tinynn::bench
