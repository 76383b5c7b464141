// Thread count through OpenMP, which oneDNN (built with the OpenMP runtime) shares.
#include <tinynn/core/parallel.h>

#ifdef _OPENMP
#include <omp.h>
#endif

namespace tinynn {

void set_num_threads(int threads) {
#ifdef _OPENMP
  omp_set_num_threads(threads > 0 ? threads : omp_get_num_procs());
#else
  (void)threads;
#endif
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
