// The CPU thread count shared by tinynn's loops and oneDNN (one OpenMP pool).
#pragma once
#include <cstdint>

namespace tinynn {

void set_num_threads(int threads);  // <= 0: every available core
int num_threads();
int available_cores();  // the cores this process may run on

// Subnormal floats flushed to zero (x86's FTZ and DAZ bits) on the calling thread and on every
// thread of the pool, or IEEE subnormals again (false: the default, as PyTorch's). Arithmetic on
// subnormals is dozens of times slower; a run whose weights stop changing fills its momentum with
// them. The trainer turns it on (training.flush_denormal). Returns false, changing nothing, on a
// CPU without the bits (like torch.set_flush_denormal).
bool set_flush_denormal(bool enabled);
bool flush_denormal();

// How many cores other processes kept busy, on average, since the last call (or construction):
// the busy time of the CPUs this process may run on (/proc/stat) minus this process's own
// (/proc/self/stat), so threads of ours that spin or compute never count. An OpenMP team waits for its slowest thread, so a thread
// that shares its core with another process slows every parallel region (2 threads ran an epoch
// 2.6x slower than 1 with one of 2 cores taken): the trainer gives such cores up (see
// threads_for_share). 0 where /proc cannot be read.
class CpuShare {
 public:
  CpuShare();
  double other_processes_cores();

 private:
  bool read(std::uint64_t& busy, std::uint64_t& total, std::uint64_t& self, int& cpus) const;
  std::uint64_t busy_ = 0, total_ = 0, self_ = 0;
  int cpus_ = 0;
  bool valid_ = false;
};

// The threads to run with when `cores` are available and other processes keep `others` of them
// busy: one fewer for each core they hold for more than half the time, at least 1. `current`
// gives the hysteresis: a core is taken back only once they use less than a third of one.
int threads_for_share(int cores, double others, int current);

}  // namespace tinynn
