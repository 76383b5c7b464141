// Loss functions with PyTorch's semantics and a `reduction` of mean, sum or none.
#pragma once
#include <functional>
#include <optional>

#include "../core/tensor.h"

namespace tinynn::nn {

// A loss as the trainer and TrainStep take it: (outputs, targets) -> a scalar.
using LossFn = std::function<Tensor(const Tensor& outputs, const Tensor& targets)>;

enum class Reduction { Mean, Sum, None };

Tensor mse_loss(const Tensor& input, const Tensor& target, Reduction reduction = Reduction::Mean);
Tensor l1_loss(const Tensor& input, const Tensor& target, Reduction reduction = Reduction::Mean);
// Quadratic within `delta` of the target, linear beyond: 0.5 d^2 if |d| < delta else delta (|d| - 0.5 delta).
Tensor huber_loss(const Tensor& input, const Tensor& target, double delta = 1.0, Reduction reduction = Reduction::Mean);
// Huber divided by beta: 0.5 d^2 / beta if |d| < beta else |d| - 0.5 beta.
Tensor smooth_l1_loss(const Tensor& input, const Tensor& target, double beta = 1.0,
                      Reduction reduction = Reduction::Mean);

struct CrossEntropyOptions {
  Tensor weight;                 // [C] per-class weights, or undefined
  double label_smoothing = 0.0;  // in [0, 1)
  Reduction reduction = Reduction::Mean;
};
// logits [N, C]; target either int64 class ids [N] or float probabilities [N, C].
// Computed through a stable log-softmax. With class ids and weights, the mean divides by the
// summed weights of the targets (as PyTorch).
Tensor cross_entropy(const Tensor& logits, const Tensor& target, const CrossEntropyOptions& options = {});
// log_probs [N, C], target int64 [N]: -log_probs[i, target[i]] (weighted like cross_entropy).
Tensor nll_loss(const Tensor& log_probs, const Tensor& target, const Tensor& weight = Tensor(),
                Reduction reduction = Reduction::Mean);
// probs in [0, 1]; log terms are clamped at -100 like PyTorch, so 0 and 1 stay finite.
Tensor binary_cross_entropy(const Tensor& probs, const Tensor& target, const Tensor& weight = Tensor(),
                            Reduction reduction = Reduction::Mean);
// Sigmoid + BCE in one stable expression; pos_weight [C] weighs positive examples.
Tensor binary_cross_entropy_with_logits(const Tensor& logits, const Tensor& target, const Tensor& pos_weight = Tensor(),
                                        Reduction reduction = Reduction::Mean);

enum class KLReduction { Mean, Sum, None, BatchMean };
// KL(target || input) with `input` given as log-probabilities (torch.nn.KLDivLoss);
// target as probabilities, or as log-probabilities when log_target.
Tensor kl_div(const Tensor& input, const Tensor& target, KLReduction reduction = KLReduction::Mean,
              bool log_target = false);

}  // namespace tinynn::nn
