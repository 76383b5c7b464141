// The per-element optimizer updates, shared by the CPU loop and the CUDA kernel (one pass over
// a parameter and its state instead of a dozen tensor expressions). The order of operations is
// PyTorch's, and each constant is rounded to T first, exactly as the tensor expressions did.
#pragma once
#include <cmath>

#include "pointwise_table.h"

namespace tinynn {

struct AdamStep {
  double lr = 1e-3, beta1 = 0.9, beta2 = 0.999, eps = 1e-8, weight_decay = 0.0;
  bool decoupled = false, amsgrad = false;
  double bias1 = 1.0, bias2_sqrt = 1.0;  // 1 - beta1^t and sqrt(1 - beta2^t)
};

// One element: p (parameter), m/v/vmax (state; vmax only with amsgrad), g (gradient).
template <class T>
TINYNN_HD inline void adam_element(const AdamStep& s, T& p, T& m, T& v, T* vmax, T g) {
  if (s.weight_decay != 0) {
    if (s.decoupled) p = p * T(1.0 - s.lr * s.weight_decay);
    else g = g + p * T(s.weight_decay);
  }
  m = m * T(s.beta1) + g * T(1.0 - s.beta1);
  v = v * T(s.beta2) + g * g * T(1.0 - s.beta2);
  T second = v;
  if (vmax != nullptr) {
    *vmax = *vmax > v ? *vmax : v;
    second = *vmax;
  }
  const T denom = std::sqrt(second) / T(s.bias2_sqrt) + T(s.eps);
  p = p - m / denom * T(s.lr / s.bias1);
}

}  // namespace tinynn
