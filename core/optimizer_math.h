// The per-element optimizer updates, shared by the CPU loop and the CUDA kernel (one pass over
// a parameter and its state instead of a dozen tensor expressions): Adam/AdamW, SGD (momentum,
// dampening, Nesterov), RMSprop (centered, momentum) and Adagrad. The order of operations is
// PyTorch's, and each constant is rounded to T first, exactly as the tensor expressions did, so
// on the CPU (built with -ffp-contract=off) a fused step equals the expressions bit for bit
// (tests/test_optim.cpp keeps them as the oracle); nvcc may fuse a multiply-add, one rounding less.
#pragma once
#include <cmath>

#include "pointwise_table.h"

namespace tinynn {

enum class OptimizerRule { Adam, SGD, RMSprop, Adagrad };

// One step's hyperparameters, for every parameter it updates. `lr` and `weight_decay` are the
// group's; the rest is the rule's (unused fields are ignored).
struct OptimizerStep {
  OptimizerRule rule = OptimizerRule::Adam;
  double lr = 1e-3, weight_decay = 0.0;
  // Adam: betas, eps, decoupled decay (AdamW), amsgrad, bias corrections 1 - beta1^t, sqrt(1 - beta2^t)
  double beta1 = 0.9, beta2 = 0.999, eps = 1e-8;
  bool decoupled = false, amsgrad = false;
  double bias1 = 1.0, bias2_sqrt = 1.0;
  // SGD: momentum, dampening, Nesterov; `first`: the momentum buffer starts as this step's direction
  // RMSprop: alpha (and momentum, eps, centered); Adagrad: lr is already decayed, eps
  double momentum = 0.0, dampening = 0.0, alpha = 0.99;
  bool nesterov = false, first = false, centered = false;
};

// One parameter of a step: n elements; the state buffers, by rule (null when unused):
//   Adam    exp_avg, exp_avg_sq, max_exp_avg_sq (amsgrad)
//   SGD     momentum_buffer (momentum > 0)
//   RMSprop square_avg, grad_avg (centered), momentum_buffer (momentum > 0)
//   Adagrad sum
struct OptimizerTensors {
  std::int64_t n = 0;
  void* param = nullptr;
  void* state[3] = {nullptr, nullptr, nullptr};
  const void* grad = nullptr;
};

// The step's constants, each rounded to T once (as the tensor expressions did), so the
// per-element update is pure T arithmetic that vectorizes.
template <class T>
struct OptimizerConstants {
  T lr, wd, decay_factor, beta1, one_minus_beta1, beta2, one_minus_beta2, bias2_sqrt, eps, step_size;
  T momentum, one_minus_dampening, alpha, one_minus_alpha;
  bool decoupled, coupled;  // which weight decay applies (neither when it is 0)
  bool nesterov, first, centered, has_momentum;
  TINYNN_HD explicit OptimizerConstants(const OptimizerStep& s)
      : lr(T(s.lr)), wd(T(s.weight_decay)), decay_factor(T(1.0 - s.lr * s.weight_decay)), beta1(T(s.beta1)),
        one_minus_beta1(T(1.0 - s.beta1)), beta2(T(s.beta2)), one_minus_beta2(T(1.0 - s.beta2)),
        bias2_sqrt(T(s.bias2_sqrt)), eps(T(s.eps)), step_size(T(s.lr / s.bias1)), momentum(T(s.momentum)),
        one_minus_dampening(T(1.0 - s.dampening)), alpha(T(s.alpha)), one_minus_alpha(T(1.0 - s.alpha)),
        decoupled(s.weight_decay != 0 && s.decoupled && s.rule == OptimizerRule::Adam),
        coupled(s.weight_decay != 0 && !(s.decoupled && s.rule == OptimizerRule::Adam)), nesterov(s.nesterov),
        first(s.first), centered(s.centered), has_momentum(s.momentum != 0) {}
};

// Adam: p (parameter), m/v/vmax (state; vmax only with amsgrad), g (gradient).
template <class T>
TINYNN_HD inline void adam_element(const OptimizerConstants<T>& c, T& p, T& m, T& v, T* vmax, T g) {
  if (c.decoupled) p = p * c.decay_factor;
  if (c.coupled) g = g + p * c.wd;
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

// SGD: d = g (+ wd p); with momentum buf = momentum buf + (1 - dampening) d (d itself on the
// first step), then d = buf, or d + momentum buf (Nesterov); p -= lr d.
template <class T>
TINYNN_HD inline void sgd_element(const OptimizerConstants<T>& c, T& p, T* buf, T g) {
  T d = c.coupled ? g + p * c.wd : g;
  if (c.has_momentum) {
    *buf = c.first ? d : *buf * c.momentum + d * c.one_minus_dampening;
    d = c.nesterov ? d + *buf * c.momentum : *buf;
  }
  p = p - d * c.lr;
}

// RMSprop: sq = alpha sq + (1 - alpha) g²; avg = sqrt(sq - ga²) + eps (centered, ga the running
// mean of g) or sqrt(sq) + eps; p -= lr buf with buf = momentum buf + g / avg, or lr g / avg.
template <class T>
TINYNN_HD inline void rmsprop_element(const OptimizerConstants<T>& c, T& p, T& sq, T* ga, T* buf, T g) {
  if (c.coupled) g = g + p * c.wd;
  sq = sq * c.alpha + g * g * c.one_minus_alpha;
  T avg;
  if (c.centered) {
    *ga = *ga * c.alpha + g * c.one_minus_alpha;
    avg = std::sqrt(sq - *ga * *ga) + c.eps;
  } else {
    avg = std::sqrt(sq) + c.eps;
  }
  if (c.has_momentum) {
    *buf = *buf * c.momentum + g / avg;
    p = p - *buf * c.lr;
  } else {
    p = p - g / avg * c.lr;
  }
}

// Adagrad: sum += g²; p -= lr g / (sqrt(sum) + eps), lr already decayed by the step count.
template <class T>
TINYNN_HD inline void adagrad_element(const OptimizerConstants<T>& c, T& p, T& sum, T g) {
  if (c.coupled) g = g + p * c.wd;
  sum = sum + g * g;
  p = p - g / (std::sqrt(sum) + c.eps) * c.lr;
}

// One element of any rule: i indexes the parameter, its state and its gradient.
template <class T>
TINYNN_HD inline void optimizer_element(OptimizerRule rule, const OptimizerConstants<T>& c, const OptimizerTensors& a,
                                        std::int64_t i) {
  T* p = static_cast<T*>(a.param);
  T* s0 = static_cast<T*>(a.state[0]);
  T* s1 = static_cast<T*>(a.state[1]);
  T* s2 = static_cast<T*>(a.state[2]);
  const T g = static_cast<const T*>(a.grad)[i];
  switch (rule) {
    case OptimizerRule::Adam: adam_element(c, p[i], s0[i], s1[i], s2 != nullptr ? s2 + i : nullptr, g); break;
    case OptimizerRule::SGD: sgd_element(c, p[i], s0 != nullptr ? s0 + i : nullptr, g); break;
    case OptimizerRule::RMSprop:
      rmsprop_element(c, p[i], s0[i], s1 != nullptr ? s1 + i : nullptr, s2 != nullptr ? s2 + i : nullptr, g);
      break;
    case OptimizerRule::Adagrad: adagrad_element(c, p[i], s0[i], g); break;
  }
}

}  // namespace tinynn
