// Where a tensor's memory lives: the CPU or one CUDA GPU.
#pragma once
#include <cstddef>
#include <string>

namespace tinynn {

enum class DeviceType { CPU, CUDA };

struct Device {
  DeviceType type = DeviceType::CPU;
  int index = 0;

  static Device cpu() { return {DeviceType::CPU, 0}; }
  static Device cuda(int index = 0) { return {DeviceType::CUDA, index}; }
  // Parses "cpu", "cuda", "cuda:1"; throws ValueError otherwise.
  static Device parse(const std::string& text);

  bool is_cpu() const { return type == DeviceType::CPU; }
  bool is_cuda() const { return type == DeviceType::CUDA; }
  std::string str() const;  // "cpu", "cuda:0"
  bool operator==(const Device& o) const { return type == o.type && index == o.index; }
  bool operator!=(const Device& o) const { return !(*this == o); }
};

// True when tinynn was compiled with CUDA and a GPU answers.
bool cuda_available();
int cuda_device_count();  // 0 when not compiled in or no driver/GPU
// "NVIDIA H100 80GB HBM3, 79.1 GiB, compute capability 9.0"; throws DeviceError for a GPU that is not there.
std::string cuda_device_description(int index);

// What a device's caching allocator has done: blocks asked of the system (malloc, cudaMalloc) so
// far, and bytes now held for reuse. A training loop in steady state asks for no new blocks.
struct MemoryStats {
  std::size_t system_allocations = 0;
  std::size_t cached_bytes = 0;
};
MemoryStats memory_stats(Device device);

}  // namespace tinynn
