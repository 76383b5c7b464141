// Version string and the backends compiled into this build.
#include "version.h"

#include <fmt/format.h>

namespace tinynn {

std::string version() {
  return fmt::format("{}.{}.{}", TINYNN_VERSION_MAJOR, TINYNN_VERSION_MINOR, TINYNN_VERSION_PATCH);
}

bool built_with_onednn() {
#ifdef TINYNN_HAVE_ONEDNN
  return true;
#else
  return false;
#endif
}

bool built_with_cuda() {
#ifdef TINYNN_HAVE_CUDA
  return true;
#else
  return false;
#endif
}

std::string build_summary() {
  return fmt::format("tinynn {} (backends: cpu{}{})", version(), built_with_onednn() ? "+onednn" : " (reference kernels)",
                     built_with_cuda() ? ", cuda" : "");
}

}  // namespace tinynn
