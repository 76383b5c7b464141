// Fuzzes the image loader (stb_image: PNG, JPEG, BMP, GIF, PNM, ...) with and without resizing.
#include <tinynn/nn/data/dataset.h>

#include "fuzz_input.h"

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  const std::string path = tinynn::fuzz::write_input(data, size, ".img");
  tinynn::fuzz::expect_only_tinynn_errors([&] { tinynn::nn::load_image(path, 1, std::nullopt); });
  tinynn::fuzz::expect_only_tinynn_errors([&] { tinynn::nn::load_image(path, 3, std::make_pair(5, 7)); });
  return 0;
}
