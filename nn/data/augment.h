// Data augmentation for image batches, seeded and deterministic: random crops from the image
// zero-padded on each side (torchvision's RandomCrop(size, padding)) and random horizontal flips.
// The draws of batch b of epoch e come from Philox at (seed, stream (e, b)) alone, so a run resumed
// mid-epoch sees the same augmented batches as an uninterrupted one, on any thread count.
#pragma once
#include <cstdint>

#include "../../core/tensor.h"

namespace tinynn::nn {

struct Augmentation {
  std::int64_t crop_padding = 0;  // 0: no crop; p: crop H x W out of the image padded by p
  bool horizontal_flip = false;   // mirror left-right with probability 1/2
  double fill = 0.0;              // the padding's value (a black pixel after the data's transforms)
  bool active() const { return crop_padding > 0 || horizontal_flip; }
};

// images [B, C, H, W] float32 on the CPU -> a new augmented batch of the same shape.
Tensor augment_batch(const Tensor& images, const Augmentation& augmentation, std::uint64_t seed, std::int64_t epoch,
                     std::int64_t batch);

}  // namespace tinynn::nn
