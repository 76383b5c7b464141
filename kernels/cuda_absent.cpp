// Built when tinynn is compiled without CUDA: no CUDA backend, zero devices.
#include <tinynn/core/backend.h>

namespace tinynn::detail {
Backend* cuda_backend(int) { return nullptr; }
int cuda_device_count_impl() { return 0; }
std::string cuda_device_description_impl(int) { return {}; }
}  // namespace tinynn::detail
