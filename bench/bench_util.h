// Timing helpers for benchmarks: run a callable repeatedly and report the median.
#pragma once
#include <algorithm>
#include <chrono>
#include <utility>
#include <vector>

namespace tinynn::bench {

// Median seconds per call over `repeats` timed batches of `calls_per_repeat` calls each,
// after `warmup` untimed calls (the machines are noisy: the median ignores stray slow runs).
template <class F>
double median_seconds(F&& f, int repeats, int calls_per_repeat = 1, int warmup = 2) {
  for (int i = 0; i < warmup; ++i) f();
  std::vector<double> times;
  times.reserve(static_cast<std::size_t>(repeats));
  for (int r = 0; r < repeats; ++r) {
    const auto start = std::chrono::steady_clock::now();
    for (int c = 0; c < calls_per_repeat; ++c) f();
    const auto stop = std::chrono::steady_clock::now();
    times.push_back(std::chrono::duration<double>(stop - start).count() / calls_per_repeat);
  }
  std::nth_element(times.begin(), times.begin() + times.size() / 2, times.end());
  return times[times.size() / 2];
}

// Seconds per call of each callable, measured in alternating rounds (a, b, a, b, ...) so that
// slow phases of a noisy machine hit both alike; returns the two medians.
template <class A, class B>
std::pair<double, double> interleaved_median_seconds(A&& a, B&& b, int rounds, int calls_per_round = 1) {
  a();
  b();
  std::vector<double> ta, tb;
  auto time_calls = [calls_per_round](auto& f) {
    const auto start = std::chrono::steady_clock::now();
    for (int c = 0; c < calls_per_round; ++c) f();
    return std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count() / calls_per_round;
  };
  for (int r = 0; r < rounds; ++r) {
    ta.push_back(time_calls(a));
    tb.push_back(time_calls(b));
  }
  auto median = [](std::vector<double>& v) {
    std::nth_element(v.begin(), v.begin() + v.size() / 2, v.end());
    return v[v.size() / 2];
  };
  return {median(ta), median(tb)};
}

}  // namespace tinynn::bench
