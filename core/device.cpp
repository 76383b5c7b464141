// Device names, parsing, and the backend registry.
#include <fmt/format.h>

#include "backend.h"
#include "error.h"

namespace tinynn {

std::string Device::str() const {
  return is_cpu() ? std::string("cpu") : fmt::format("cuda:{}", index);
}

Device Device::parse(const std::string& text) {
  if (text == "cpu") return cpu();
  if (text == "cuda") return cuda(0);
  if (text.rfind("cuda:", 0) == 0) {
    const std::string num = text.substr(5);
    if (!num.empty() && num.find_first_not_of("0123456789") == std::string::npos && num.size() < 6)
      return cuda(std::stoi(num));
  }
  throw ValueError(fmt::format("tinynn::Device: unknown device '{}': expected 'cpu', 'cuda' or 'cuda:N'", text));
}

int cuda_device_count() { return detail::cuda_device_count_impl(); }
bool cuda_available() { return cuda_device_count() > 0; }
std::string cuda_device_description(int index) {
  if (index < 0 || index >= cuda_device_count())
    throw DeviceError(fmt::format("tinynn: there is no CUDA device {} ({} present)", index, cuda_device_count()));
  return detail::cuda_device_description_impl(index);
}
MemoryStats memory_stats(Device device) { return backend_for(device).memory_stats(); }

namespace {
Backend* g_cpu_override = nullptr;
}  // namespace

void detail::set_cpu_backend_override(Backend* backend) { g_cpu_override = backend; }

Backend& backend_for(Device device) {
  if (device.is_cpu()) return g_cpu_override != nullptr ? *g_cpu_override : detail::cpu_backend();
  const int count = cuda_device_count();
  if (device.index < 0 || device.index >= count) {
    if (detail::cuda_backend(0) == nullptr && count == 0)
      throw DeviceError(fmt::format("tinynn: device {} requested, but {}", device.str(),
                                    "no CUDA device is available (or tinynn was built without CUDA)"));
    throw DeviceError(fmt::format("tinynn: device {} requested, but only {} CUDA device(s) are present",
                                  device.str(), count));
  }
  return *detail::cuda_backend(device.index);
}

}  // namespace tinynn
