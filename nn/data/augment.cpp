// Random crop with padding and horizontal flip, per sample, in one pass over the batch.
#include "augment.h"

#include <fmt/format.h>

#include "../../core/creation.h"
#include "../../core/error.h"
#include "../../core/random.h"
#include "dataset.h"

namespace tinynn::nn {

// images, out [B, C, H, W]: out[b, c, i, j] = padded[b, c, i + dy_b, j' + dx_b] with j' = W - 1 - j
// when sample b is flipped, where padded is the image with crop_padding fill values on each side.
Tensor augment_batch(const Tensor& images, const Augmentation& a, std::uint64_t seed, std::int64_t epoch, std::int64_t batch) {
  if (!a.active()) return images;
  if (images.dim() != 4 || images.dtype() != DType::Float32 || !images.device().is_cpu())
    throw DataError(fmt::format("tinynn::nn::augment_batch: expected float32 image batches [B, C, H, W] on the CPU, got {} {} on {}",
                                dtype_name(images.dtype()), shape_str(images.shape()), images.device().str()));
  const std::int64_t n = images.shape()[0], c = images.shape()[1], h = images.shape()[2], w = images.shape()[3];
  // A stream of its own per (epoch, batch): 2^20 batches an epoch before streams could meet.
  Generator gen(seed ^ 0xa5a5'0000'0000'0000ULL);
  gen.set_state(gen.seed(), (static_cast<std::uint64_t>(epoch) << 20 | static_cast<std::uint64_t>(batch)) << 8);
  const std::int64_t p = a.crop_padding;
  const std::vector<std::int64_t> dy = randint(0, 2 * p + 1, {n}, {DType::Int64}, &gen).to_vector<std::int64_t>();
  const std::vector<std::int64_t> dx = randint(0, 2 * p + 1, {n}, {DType::Int64}, &gen).to_vector<std::int64_t>();
  const std::vector<std::int64_t> flip = randint(0, a.horizontal_flip ? 2 : 1, {n}, {DType::Int64}, &gen).to_vector<std::int64_t>();
  const Tensor src = images.contiguous();
  Tensor out = empty(images.shape());
  const float* in = src.data_ptr<float>();
  float* o = out.data_ptr<float>();
  const auto fill = static_cast<float>(a.fill);
  for (std::int64_t b = 0; b < n; ++b)
    for (std::int64_t ch = 0; ch < c; ++ch) {
      const float* plane = in + (b * c + ch) * h * w;
      float* dst = o + (b * c + ch) * h * w;
      for (std::int64_t i = 0; i < h; ++i) {
        const std::int64_t row = i + dy[static_cast<std::size_t>(b)] - p;
        for (std::int64_t j = 0; j < w; ++j) {
          const std::int64_t jj = flip[static_cast<std::size_t>(b)] ? w - 1 - j : j;
          const std::int64_t col = jj + dx[static_cast<std::size_t>(b)] - p;
          dst[i * w + j] = row >= 0 && row < h && col >= 0 && col < w ? plane[row * w + col] : fill;
        }
      }
    }
  return out;
}

}  // namespace tinynn::nn
