// A float32 [N, C, H, W] tensor's values also in the channel-blocked layout [N][C/B][H][W][B] (C a
// multiple of B) that oneDNN's convolutions read and write: set on the tensor's storage (its twin,
// core/storage.h) by the convolution or conv block that wrote them, and read by the next one in place
// of a reorder; any other reader sees the plain values (written from the twin first where they were
// not, by the backend's channel_blocked_to_plain where it has one).
#pragma once
#include "../storage.h"
#include "../tensor.h"

namespace tinynn::detail {

class ChannelBlocked final : public StorageTwin {
 public:
  explicit ChannelBlocked(Tensor blocked) : blocked_(std::move(blocked)) {}
  // blocked [N, C/B, H, W, B] -> plain [N, C, H, W], through the device's channel_blocked_to_plain, else its copy.
  void materialize(void* plain) const override;
  const Tensor& blocked() const { return blocked_; }

 private:
  Tensor blocked_;
};

// A buffer for a [N, C, H, W] float32 tensor's values in the layout of `lanes` lanes: [N, C/B, H, W, B].
Tensor channel_blocked_buffer(const Shape& plain, int lanes, Device device);
// t's values in that layout when t is the whole of a storage whose twin holds them; else undefined.
Tensor channel_blocked_of(const Tensor& t, int lanes);
// Whether t's storage has a twin (of any layout): a cheap test before asking a backend about layouts.
bool has_twin(const Tensor& t);
// Sets the twin of t (a fresh tensor, the whole of its storage): `blocked` from channel_blocked_buffer.
// plain_written false: t's plain values are written from it when first read.
void set_channel_blocked(const Tensor& t, Tensor blocked, bool plain_written);

}  // namespace tinynn::detail
