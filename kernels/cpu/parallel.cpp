// Thread count through OpenMP, which oneDNN (built with the OpenMP runtime) shares.
#include <tinynn/core/parallel.h>

#ifdef _OPENMP
#include <omp.h>
#endif
#if defined(__SSE__)
#include <xmmintrin.h>
#endif

#include <sched.h>

#include <algorithm>
#include <cstdio>
#include <fstream>
#include <sstream>
#include <string>

namespace tinynn {

namespace {

bool flushing = false;

// MXCSR is per thread: set on the caller and on each thread of the OpenMP pool.
void apply_flush_denormal() {
#if defined(__SSE__)
  constexpr unsigned kBits = 0x8040;  // FTZ (bit 15) and DAZ (bit 6)
  auto apply = [] { _mm_setcsr(flushing ? (_mm_getcsr() | kBits) : (_mm_getcsr() & ~kBits)); };
  apply();
#ifdef _OPENMP
#pragma omp parallel
  apply();
#endif
#endif
}

}  // namespace

void set_num_threads(int threads) {
#ifdef _OPENMP
  omp_set_num_threads(threads > 0 ? threads : omp_get_num_procs());
  if (flushing) apply_flush_denormal();  // threads the pool adds start with IEEE subnormals
#else
  (void)threads;
#endif
}

bool set_flush_denormal(bool enabled) {
#if defined(__SSE__)
  flushing = enabled;
  apply_flush_denormal();
  return true;
#else
  (void)enabled;
  return false;
#endif
}

bool flush_denormal() { return flushing; }

CpuShare::CpuShare() { valid_ = read(busy_, total_, self_, cpus_); }

// Only the CPUs this process may run on count (taskset, cpusets, containers): busy cores
// elsewhere take nothing from it. Times are in clock ticks, summed over those CPUs.
bool CpuShare::read(std::uint64_t& busy, std::uint64_t& total, std::uint64_t& self, int& cpus) const {
  cpu_set_t mask;
  CPU_ZERO(&mask);
  if (sched_getaffinity(0, sizeof mask, &mask) != 0) return false;
  std::ifstream stat("/proc/stat");
  busy = total = 0;
  cpus = 0;
  for (std::string line; std::getline(stat, line);) {
    int cpu = -1;
    if (line.rfind("cpu", 0) != 0 || std::sscanf(line.c_str(), "cpu%d", &cpu) != 1 || cpu < 0 || cpu >= CPU_SETSIZE ||
        !CPU_ISSET(cpu, &mask))
      continue;  // the "cpu" total line, or a CPU this process may not use
    std::istringstream fields(line.substr(line.find(' ')));
    std::uint64_t v[8] = {};  // user nice system idle iowait irq softirq steal
    for (std::uint64_t& x : v)
      if (!(fields >> x)) return false;
    const std::uint64_t b = v[0] + v[1] + v[2] + v[5] + v[6] + v[7];
    busy += b;
    total += b + v[3] + v[4];
    ++cpus;
  }
  if (cpus == 0) return false;
  std::ifstream me("/proc/self/stat");
  std::string line;
  if (!std::getline(me, line)) return false;
  // Fields after the command name (in parentheses, possibly with spaces): utime and stime are
  // the 12th and 13th of them.
  std::istringstream rest(line.substr(line.rfind(')') + 2));
  std::string field;
  for (int i = 0; i < 11; ++i) rest >> field;
  std::uint64_t utime = 0, stime = 0;
  if (!(rest >> utime >> stime)) return false;
  self = utime + stime;
  return true;
}

double CpuShare::other_processes_cores() {
  std::uint64_t busy = 0, total = 0, self = 0;
  int cpus = 0;
  if (!valid_ || !read(busy, total, self, cpus) || cpus != cpus_ || total <= total_) {
    valid_ = read(busy_, total_, self_, cpus_);  // start over (the CPU set changed, or nothing elapsed)
    return 0.0;
  }
  const double elapsed_per_cpu = static_cast<double>(total - total_) / cpus;
  const double others = (static_cast<double>(busy - busy_) - static_cast<double>(self - self_)) / elapsed_per_cpu;
  busy_ = busy, total_ = total, self_ = self;
  return std::max(0.0, others);
}

int threads_for_share(int cores, double others, int current) {
  const int wanted = std::max(1, cores - static_cast<int>(others + 0.5));  // a core held more than half the time
  if (wanted < current) return wanted;
  // Taken back only when the others are nearly gone from it.
  const int back = std::max(1, cores - static_cast<int>(others + 0.67));
  return std::max(current, std::min(back, cores));
}

int available_cores() {
#ifdef _OPENMP
  return omp_get_num_procs();
#else
  return 1;
#endif
}

int num_threads() {
#ifdef _OPENMP
  return omp_get_max_threads();
#else
  return 1;
#endif
}

}  // namespace tinynn
