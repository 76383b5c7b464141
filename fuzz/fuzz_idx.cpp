// Fuzzes the IDX reader (gzip or raw). The first input byte chooses the role of the rest: an images
// file (even) read with a valid labels file, or a labels file (odd) read with a valid images file.
#include <tinynn/nn/data/dataset.h>

#include "fuzz_input.h"

namespace {
struct ValidFiles {
  std::string images, labels;  // 1 image of 1x1 pixel, 1 label
};
const ValidFiles& valid_files() {
  static const ValidFiles files = [] {
    const std::uint8_t images[] = {0, 0, 8, 3, 0, 0, 0, 1, 0, 0, 0, 1, 0, 0, 0, 1, 7};
    const std::uint8_t labels[] = {0, 0, 8, 1, 0, 0, 0, 1, 3};
    return ValidFiles{tinynn::fuzz::write_input(images, sizeof(images), ".valid_images"),
                      tinynn::fuzz::write_input(labels, sizeof(labels), ".valid_labels")};
  }();
  return files;
}
}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  if (size == 0) return 0;
  const bool as_labels = data[0] % 2 == 1;
  const std::string input = tinynn::fuzz::write_input(data + 1, size - 1, ".input");
  tinynn::fuzz::expect_only_tinynn_errors([&] {
    if (as_labels) tinynn::nn::load_idx(valid_files().images, input);
    else tinynn::nn::load_idx(input, valid_files().labels);
  });
  return 0;
}
