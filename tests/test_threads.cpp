// The CPU thread pool's process-wide settings: flushing subnormals on every thread, and the share
// of the cores other processes take (what the trainer's automatic thread count follows).
#include <sys/wait.h>
#include <unistd.h>

#include <chrono>
#include <thread>

#include "test_helpers.h"

using namespace tinynn;

TEST_CASE("set_flush_denormal: subnormal floats compute as zero on every thread, and back", "[threads][denormal]") {
  // 1e-39 is subnormal in float32 (the normal range ends at 1.2e-38). A million elements run on
  // every thread of the pool, so each thread's flag is exercised.
  const Tensor x = full({1 << 20}, 1e-39);
  const bool before = flush_denormal();
  REQUIRE(set_flush_denormal(true));
  CHECK(flush_denormal());
  const std::vector<float> flushed = (x * 1.0).to_vector<float>();
  CHECK(std::all_of(flushed.begin(), flushed.end(), [](float v) { return v == 0.0f; }));
  set_flush_denormal(false);
  const std::vector<float> ieee = (x * 1.0).to_vector<float>();
  CHECK(std::all_of(ieee.begin(), ieee.end(), [](float v) { return v > 0.0f && v < 1.2e-38f; }));
  set_flush_denormal(before);
}

TEST_CASE("threads_for_share: one thread fewer per core others hold, taken back only once they leave it", "[threads]") {
  CHECK(threads_for_share(2, 0.0, 2) == 2);
  CHECK(threads_for_share(2, 0.4, 2) == 2);   // less than half a core: kept
  CHECK(threads_for_share(2, 1.0, 2) == 1);   // a core taken
  CHECK(threads_for_share(2, 2.0, 2) == 1);   // at least one thread
  CHECK(threads_for_share(2, 0.4, 1) == 1);   // hysteresis: still a third of a core busy
  CHECK(threads_for_share(2, 0.2, 1) == 2);   // gone: taken back
  CHECK(threads_for_share(8, 2.6, 8) == 5);
  CHECK(threads_for_share(8, 2.6, 5) == 5);
}

TEST_CASE("CpuShare counts another process's busy core, not this process's own", "[threads]") {
  CpuShare share;
  const pid_t child = fork();
  REQUIRE(child >= 0);
  if (child == 0) {  // spins for 0.6 s
    const auto end = std::chrono::steady_clock::now() + std::chrono::milliseconds(600);
    volatile double x = 0;
    while (std::chrono::steady_clock::now() < end) x = x + 1;
    _exit(0);
  }
  int status = 0;
  waitpid(child, &status, 0);
  // Other tests may run at the same time and only add to it.
  CHECK(share.other_processes_cores() >= 0.4);
}
