// Thread count through OpenMP, which oneDNN (built with the OpenMP runtime) shares.
#include <tinynn/core/parallel.h>

#ifdef _OPENMP
#include <omp.h>
#endif
#if defined(__SSE__)
#include <xmmintrin.h>
#endif

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
