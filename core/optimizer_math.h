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

// The step's constants, each rounded to T once (as the tensor expressions did), so the
// per-element update is pure T arithmetic that vectorizes.
template <class T>
struct AdamConstants {
  T decay_factor, l2, beta1, one_minus_beta1, beta2, one_minus_beta2, bias2_sqrt, eps, step_size;
  bool decoupled, coupled;  // which weight decay applies (neither when it is 0)
  TINYNN_HD explicit AdamConstants(const AdamStep& s)
      : decay_factor(T(1.0 - s.lr * s.weight_decay)), l2(T(s.weight_decay)), beta1(T(s.beta1)),
        one_minus_beta1(T(1.0 - s.beta1)), beta2(T(s.beta2)), one_minus_beta2(T(1.0 - s.beta2)),
        bias2_sqrt(T(s.bias2_sqrt)), eps(T(s.eps)), step_size(T(s.lr / s.bias1)),
        decoupled(s.weight_decay != 0 && s.decoupled), coupled(s.weight_decay != 0 && !s.decoupled) {}
};

// One element: p (parameter), m/v/vmax (state; vmax only with amsgrad), g (gradient).
template <class T>
TINYNN_HD inline void adam_element(const AdamConstants<T>& c, T& p, T& m, T& v, T* vmax, T g) {
  if (c.decoupled) p = p * c.decay_factor;
  if (c.coupled) g = g + p * c.l2;
  m = m * c.beta1 + g * c.one_minus_beta1;
  v = v * c.beta2 + g * g * c.one_minus_beta2;
  T second = v;
  if (vmax != nullptr) {
    *vmax = *vmax > v ? *vmax : v;
    second = *vmax;
  }
  const T denom = std::sqrt(second) / c.bias2_sqrt + c.eps;
  p = p - m / denom * c.step_size;
}

}  // namespace tinynn
