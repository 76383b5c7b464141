// See detail/channel_blocked.h.
#include "detail/channel_blocked.h"

#include <fmt/format.h>

#include "backend.h"
#include "error.h"

namespace tinynn::detail {

void ChannelBlocked::materialize(void* plain) const {
  const Shape& s = blocked_.shape();  // [N, C/B, H, W, B]
  const std::int64_t n = s[0], cb = s[1], h = s[2], w = s[3], b = s[4];
  Backend& backend = backend_for(blocked_.device());
  const std::int64_t nchw[4] = {n, cb * b, h, w};
  if (backend.channel_blocked_to_plain(nchw, static_cast<int>(b), plain, blocked_.raw_data())) return;
  // Both as [N, C/B, B, H, W]: plain is contiguous so; blocked holds lane l of block b at stride 1.
  ElementwisePlan<2> plan;
  plan.ndim = 5;
  const std::int64_t shape[5] = {n, cb, b, h, w};
  const std::int64_t to[5] = {cb * b * h * w, b * h * w, h * w, w, 1};
  const std::int64_t from[5] = {cb * h * w * b, h * w * b, 1, w * b, b};
  for (int d = 0; d < 5; ++d) plan.shape[d] = shape[d], plan.strides[0][d] = to[d], plan.strides[1][d] = from[d];
  backend.copy(plan, DType::Float32, plain, DType::Float32, blocked_.raw_data());
}

Tensor channel_blocked_buffer(const Shape& plain, int lanes, Device device) {
  if (plain.size() != 4 || lanes <= 0 || plain[1] % lanes != 0)
    throw ValueError(fmt::format("tinynn: (internal) a channel-blocked layout of {} lanes for {}: needs [N, C, H, W] with C "
                                 "a multiple of the lanes", lanes, shape_str(plain)));
  return empty({plain[0], plain[1] / lanes, plain[2], plain[3], lanes}, DType::Float32, device);
}

Tensor channel_blocked_of(const Tensor& t, int lanes) {
  if (!t.defined() || t.dim() != 4 || t.dtype() != DType::Float32 || t.offset() != 0 || !t.is_contiguous()) return {};
  const auto* twin = dynamic_cast<const ChannelBlocked*>(t.impl()->storage->twin());
  if (twin == nullptr) return {};
  const Shape& b = twin->blocked().shape();
  const Shape& s = t.shape();
  if (b[4] != lanes || b[0] != s[0] || b[1] * b[4] != s[1] || b[2] != s[2] || b[3] != s[3]) return {};
  return twin->blocked();
}

bool has_twin(const Tensor& t) { return t.defined() && t.impl()->storage->twin() != nullptr; }

void set_channel_blocked(const Tensor& t, Tensor blocked, bool plain_written) {
  t.impl()->storage->set_twin(std::make_shared<ChannelBlocked>(std::move(blocked)), plain_written);
}

}  // namespace tinynn::detail
