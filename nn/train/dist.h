// Data-parallel training across processes: the MPI job a process was started in (`mpirun -np N`),
// its collectives on tensors, and the gradient all-reduce the trainer and custom loops run after
// backward. GPU tensors go through NCCL when tinynn was built with it (its communicator set up
// through MPI), else through host memory. Without MPI (a plain start, or a build without it) a
// process is rank 0 of 1 and every collective returns its input.
#pragma once
#include <string>
#include <vector>

#include "../../core/tensor.h"
#include "../module.h"
#include "../train_step.h"

namespace tinynn::dist {

bool built_with_mpi();
bool built_with_nccl();
// "Open MPI v4.1.4 (MPI 3.1), NCCL" or "not compiled in".
std::string description();

// Joins the job (MPI_Init_thread) once per process; later calls do nothing. The tinynn command
// calls it first thing. Collectives called before it initialize MPI themselves.
void init(int* argc = nullptr, char*** argv = nullptr);
int rank();
int world_size();
int local_rank();  // this rank's place among them
int local_size();  // ranks of the job on this machine (they share its cores)
inline bool is_main() { return rank() == 0; }

// Every rank gets the elementwise sum of every rank's `t` (in place). All ranks pass the same
// shape and dtype (float32, float64 or int64); CPU or CUDA.
void all_reduce_sum(Tensor& t);
void all_reduce_sum(std::vector<double>& values);
// Every rank's `t` becomes root's (in place).
void broadcast(Tensor& t, int root = 0);
void barrier();
// Ends every rank of the job with `code` at once (MPI_Abort): the way out of an error on one rank
// that the others, waiting in a collective, would never learn of. Without MPI: std::exit(code).
[[noreturn]] void abort_job(int code);

// The CPU threads a rank should use by default: the cores it may run on, shared with the other
// ranks on its machine (at least 1).
int default_threads();

// Makes every rank's parameters and buffers rank 0's (or only the buffers: batch norm's running
// statistics, which each rank updates from its own rows).
void broadcast_parameters(nn::Module& model);
void broadcast_buffers(nn::Module& model);

// Where a rank computes when asked for a GPU without an index ("auto", "cuda"): its own GPU,
// local rank modulo the GPUs of its machine. Other devices, and a world of one, as given.
Device device_for_rank(Device device);

// Sums gradients across ranks through one flat buffer (one all-reduce a step, not one per
// parameter; parameters of mixed dtypes or devices take one each): what nn::TrainStep calls
// between backward and clipping. A parameter without a gradient on some rank contributes zeros
// there and receives the sum; one that no rank has a gradient for keeps none (so the optimizer
// skips it, as in one process). With data-parallel steps weighted by
// each rank's share of the global batch (TrainStep does), the sum is the global batch's gradient.
class GradientAllReduce final : public nn::StepReducer {
 public:
  void sum_gradients(const std::vector<Tensor>& params) override;
  void sum(std::vector<double>& values) override { all_reduce_sum(values); }

 private:
  Tensor flat_;  // reused every step: no allocation after the first
  std::vector<double> has_grad_;
  std::vector<Tensor> params_;
};

// For custom training loops: broadcasts the model from rank 0 at construction; after each
// backward, sync() makes every gradient the mean over ranks (each rank having run its own
// batch), so every rank's optimizer takes the same step.
class DataParallel {
 public:
  explicit DataParallel(nn::Module& model);
  void sync();

 private:
  std::vector<Tensor> params_;
  GradientAllReduce reducer_;
};

}  // namespace tinynn::dist
