// Fuzzes the safetensors reader, and the checkpoint loader on top of it (metadata parsing).
#include <tinynn/nn/train/checkpoint.h>

#include "fuzz_input.h"

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  const std::string path = tinynn::fuzz::write_input(data, size, ".safetensors");
  tinynn::fuzz::expect_only_tinynn_errors([&] { tinynn::nn::load_safetensors(path); });
  tinynn::fuzz::expect_only_tinynn_errors([&] { tinynn::nn::read_progress(path); });
  return 0;
}
