// The training step, written once: forward -> data loss -> + L1/L2 penalties -> backward ->
// clipping (global norm, then value) -> optimizer step. The trainer, custom loops and the
// step-order test all run it.
#pragma once
#include <cmath>
#include <memory>
#include <optional>
#include <vector>

#include "../core/backend.h"
#include "batch_part.h"
#include "flat_parameters.h"
#include "losses.h"
#include "module.h"
#include "optim.h"
#include "regularization.h"

namespace tinynn::nn {

// Data-parallel training: how a process's step joins the others'. The sums are over all processes.
class StepReducer {
 public:
  virtual ~StepReducer() = default;
  virtual void sum_gradients(const std::vector<Tensor>& params) = 0;  // each gradient becomes the sum
  virtual void sum(std::vector<double>& values) = 0;
};

struct StepOptions {
  std::optional<double> clip_max_norm;  // scale all gradients together to at most this global norm
  double clip_norm_type = 2.0;          // the norm clipped and reported
  std::optional<double> clip_value;     // then clamp every gradient element to [-value, value]
  bool count_correct = false;           // classification: count the argmax hits of the batch
  StepReducer* reducer = nullptr;       // data-parallel: gradients and statistics summed across processes
};

struct StepResult {
  double loss = NAN;       // the data loss, penalties excluded
  double penalty = 0.0;    // the L1/L2 penalty added to it
  double grad_norm = NAN;  // before clipping
  double correct = 0.0;    // with count_correct
  bool stepped = false;    // false for a non-finite loss or gradient norm: no update, gradients zeroed
};

class TrainStep {
 public:
  // The model's trainable parameters are moved into one flat buffer (FlatParameters) when they
  // share a dtype and device: their gradients are then written in place and normed in one pass,
  // and on the CPU the L1/L2 penalties' gradients are added in one pass after backward.
  TrainStep(Module& model, Optimizer& optimizer, LossFn loss, StepOptions options = {}, const GlobalPenalty& global = {});
  // One step on a batch. What it reads back (loss, norm, penalty, hits) is read together: one
  // wait per step on a GPU. A non-finite step still runs backward; its gradients are dropped.
  // Data-parallel (`part` names this process's rows of the global batch, and the options a
  // reducer): the objective is weighted by the rows' share of the global batch, so the summed
  // gradient is the global batch's; the result's loss, hits and norm are the global batch's.
  StepResult operator()(const Tensor& inputs, const Tensor& targets, const BatchPart& part = {});

 private:
  Module& model_;
  Optimizer& optimizer_;
  LossFn loss_;
  StepOptions options_;
  Tensor add_penalty_gradients(double scale);

  std::vector<Tensor> params_;
  std::unique_ptr<FlatParameters> flat_;
  PenaltyTerms penalties_;
  bool fused_penalties_ = false;
  std::vector<PenaltyTensors> penalty_tensors_;
};

}  // namespace tinynn::nn
