// The per-element formulas of batch normalization that the CPU loops and the CUDA kernels share
// (see BatchNormPlan); the per-channel sums around them are each backend's own.
#pragma once
#include <cstdint>

#include <tinynn/core/host_device.h>

namespace tinynn::batch_norm_math {

// y = (x - mean) invstd weight + bias as y = x scale + shift: the channel's terms folded once
// (weight/bias null: 1 and 0).
template <class T>
struct Affine {
  T scale, shift;
};
template <class T>
TINYNN_HD inline Affine<T> fold(T mean, T invstd, const T* weight, const T* bias, std::int64_t c) {
  const T scale = invstd * (weight ? weight[c] : T(1));
  return {scale, (bias ? bias[c] : T(0)) - mean * scale};
}

// gx as an affine function of g and x per channel, gx = dg g + dx x + d0: from
// gx = scale (g - sum_g / count - xhat sum_gxhat / count) with xhat = (x - mean) invstd and
// scale = weight invstd (training), or gx = scale g (eval: the statistics are constants).
struct InputGrad {
  double dg = 0, dx = 0, d0 = 0;
};
TINYNN_HD inline InputGrad input_grad(double scale, double mean, double invstd, double sum_g, double sum_gxhat, double count,
                                      bool batch_statistics) {
  if (!batch_statistics) return {scale, 0.0, 0.0};
  const double b = scale * invstd * sum_gxhat / count;
  return {scale, -b, -scale * sum_g / count + b * mean};
}

}  // namespace tinynn::batch_norm_math
