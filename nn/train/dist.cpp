// tinynn::dist on MPI (and NCCL for GPU tensors), or a world of one without them.
#include "dist.h"

#include <fmt/format.h>

#include <algorithm>
#include <cstdlib>
#include <thread>

#include "../../autograd/autograd.h"
#include "../../core/creation.h"
#include "../../core/ops.h"
#include "../../core/parallel.h"
#include "../../core/shape_ops.h"
#include "../flat_parameters.h"

#ifdef TINYNN_HAVE_MPI
#include <mpi.h>
#endif
#ifdef TINYNN_HAVE_NCCL
#include <nccl.h>

#include "../../kernels/cuda/cuda_backend.h"
#endif

namespace tinynn::dist {

namespace {

#ifdef TINYNN_HAVE_MPI
// A process counts as part of a job only when a launcher started it (mpirun, srun, hydra): MPI
// would otherwise start a singleton runtime, which costs time and prints warnings in containers,
// for a world of one.
bool launched_by_mpi() {
  for (const char* var : {"OMPI_COMM_WORLD_SIZE", "PMIX_RANK", "PMI_SIZE", "PMI_RANK"})
    if (std::getenv(var) != nullptr) return true;
  return false;
}

struct World {
  bool active = false;  // MPI initialized by us
  int rank = 0, size = 1, local_rank = 0, local_size = 1;
};

void finalize_at_exit() {
  int finalized = 0;
  MPI_Finalized(&finalized);
  if (!finalized) MPI_Finalize();
}

World& world() {
  static World w = [] {
    World x;
    if (!launched_by_mpi()) return x;
    int initialized = 0;
    MPI_Initialized(&initialized);
    if (!initialized) {
      int provided = 0;
      // Only the training thread calls MPI (the loader's thread never does).
      MPI_Init_thread(nullptr, nullptr, MPI_THREAD_FUNNELED, &provided);
      std::atexit(finalize_at_exit);
    }
    x.active = true;
    MPI_Comm_rank(MPI_COMM_WORLD, &x.rank);
    MPI_Comm_size(MPI_COMM_WORLD, &x.size);
    MPI_Comm node;
    MPI_Comm_split_type(MPI_COMM_WORLD, MPI_COMM_TYPE_SHARED, x.rank, MPI_INFO_NULL, &node);
    MPI_Comm_rank(node, &x.local_rank);
    MPI_Comm_size(node, &x.local_size);
    MPI_Comm_free(&node);
    return x;
  }();
  return w;
}

MPI_Datatype mpi_type(DType t) {
  switch (t) {
    case DType::Float32: return MPI_FLOAT;
    case DType::Float64: return MPI_DOUBLE;
    case DType::Int64: return MPI_INT64_T;
    default: break;
  }
  throw DTypeError("tinynn::dist: unsupported dtype");
}

// MPI counts are ints: large buffers go in pieces.
template <class F>
void in_chunks(std::int64_t count, std::size_t element_size, char* data, F&& call) {
  constexpr std::int64_t kChunk = std::int64_t{1} << 30;
  for (std::int64_t done = 0; done < count; done += kChunk)
    call(data + static_cast<std::size_t>(done) * element_size, static_cast<int>(std::min(kChunk, count - done)));
}
#endif

#ifdef TINYNN_HAVE_NCCL
#define TINYNN_NCCL_CHECK(call)                                                                              \
  do {                                                                                                       \
    const ncclResult_t r_ = (call);                                                                          \
    if (r_ != ncclSuccess)                                                                                   \
      throw DeviceError(fmt::format("tinynn::dist: {} failed: {} ({}:{})", #call, ncclGetErrorString(r_), __FILE__, __LINE__)); \
  } while (0)

ncclDataType_t nccl_type(DType t) {
  switch (t) {
    case DType::Float32: return ncclFloat32;
    case DType::Float64: return ncclFloat64;
    case DType::Int64: return ncclInt64;
    default: break;
  }
  throw DTypeError("tinynn::dist: unsupported dtype");
}

// One NCCL communicator for the job, made on first use: rank 0's unique id travels by MPI.
ncclComm_t nccl_comm(cuda::CudaBackend& gpu) {
  static ncclComm_t comm = nullptr;
  if (comm == nullptr) {
    ncclUniqueId id;
    if (rank() == 0) TINYNN_NCCL_CHECK(ncclGetUniqueId(&id));
    MPI_Bcast(&id, sizeof id, MPI_BYTE, 0, MPI_COMM_WORLD);
    gpu.activate();
    TINYNN_NCCL_CHECK(ncclCommInitRank(&comm, world_size(), id, rank()));
  }
  return comm;
}
#endif

void check_dense(const Tensor& t, const char* what) {
  if (!t.defined()) throw ValueError(fmt::format("tinynn::dist::{}: the tensor is undefined", what));
  if (!t.is_contiguous())
    throw ValueError(fmt::format("tinynn::dist::{}: the tensor must be contiguous (call .contiguous() first)", what));
}

}  // namespace

bool built_with_mpi() {
#ifdef TINYNN_HAVE_MPI
  return true;
#else
  return false;
#endif
}

bool built_with_nccl() {
#ifdef TINYNN_HAVE_NCCL
  return true;
#else
  return false;
#endif
}

std::string description() {
#ifdef TINYNN_HAVE_MPI
  char library[MPI_MAX_LIBRARY_VERSION_STRING];
  int length = 0, version = 0, subversion = 0;
  MPI_Get_library_version(library, &length);
  MPI_Get_version(&version, &subversion);
  std::string name(library, static_cast<std::size_t>(std::max(length, 0)));
  name = name.substr(0, name.find_first_of(",\n"));
  return fmt::format("{} (MPI {}.{}){}", name, version, subversion, built_with_nccl() ? ", NCCL for GPU tensors" : "");
#else
  return "not compiled in";
#endif
}

void init(int*, char***) {
#ifdef TINYNN_HAVE_MPI
  world();
#endif
}

int rank() {
#ifdef TINYNN_HAVE_MPI
  return world().rank;
#else
  return 0;
#endif
}

int world_size() {
#ifdef TINYNN_HAVE_MPI
  return world().size;
#else
  return 1;
#endif
}

int local_rank() {
#ifdef TINYNN_HAVE_MPI
  return world().local_rank;
#else
  return 0;
#endif
}

int local_size() {
#ifdef TINYNN_HAVE_MPI
  return world().local_size;
#else
  return 1;
#endif
}

int default_threads() {
  const int hardware = static_cast<int>(std::max(1u, std::thread::hardware_concurrency()));
  return std::max(1, std::min(available_cores(), hardware / std::max(1, local_size())));
}

void all_reduce_sum(Tensor& t) {
  check_dense(t, "all_reduce_sum");
  if (world_size() == 1 || t.numel() == 0) return;
#ifdef TINYNN_HAVE_MPI
  if (t.device().is_cuda()) {
#ifdef TINYNN_HAVE_NCCL
    auto& gpu = static_cast<cuda::CudaBackend&>(backend_for(t.device()));
    TINYNN_NCCL_CHECK(ncclAllReduce(t.raw_data(), t.raw_data(), static_cast<std::size_t>(t.numel()), nccl_type(t.dtype()),
                                    ncclSum, nccl_comm(gpu), gpu.stream()));
#else
    Tensor host = t.to(Device::cpu());
    all_reduce_sum(host);
    NoGradGuard no_grad;
    t.copy_(host);
#endif
    return;
  }
  in_chunks(t.numel(), dtype_size(t.dtype()), static_cast<char*>(t.raw_data()), [&](char* p, int n) {
    MPI_Allreduce(MPI_IN_PLACE, p, n, mpi_type(t.dtype()), MPI_SUM, MPI_COMM_WORLD);
  });
#endif
}

void all_reduce_sum(std::vector<double>& values) {
  if (world_size() == 1 || values.empty()) return;
#ifdef TINYNN_HAVE_MPI
  MPI_Allreduce(MPI_IN_PLACE, values.data(), static_cast<int>(values.size()), MPI_DOUBLE, MPI_SUM, MPI_COMM_WORLD);
#endif
}

void broadcast(Tensor& t, int root) {
  check_dense(t, "broadcast");
  if (root < 0 || root >= world_size())
    throw ValueError(fmt::format("tinynn::dist::broadcast: root {} is not a rank of this job (0..{})", root, world_size() - 1));
  if (world_size() == 1 || t.numel() == 0) return;
#ifdef TINYNN_HAVE_MPI
  if (t.device().is_cuda()) {  // rare (start of training): through host memory, NCCL or not
    Tensor host = t.to(Device::cpu());
    broadcast(host, root);
    NoGradGuard no_grad;
    t.copy_(host);
    return;
  }
  in_chunks(t.numel(), dtype_size(t.dtype()), static_cast<char*>(t.raw_data()),
            [&](char* p, int n) { MPI_Bcast(p, n, mpi_type(t.dtype()), root, MPI_COMM_WORLD); });
#endif
}

void barrier() {
#ifdef TINYNN_HAVE_MPI
  if (world_size() > 1) MPI_Barrier(MPI_COMM_WORLD);
#endif
}

void abort_job(int code) {
#ifdef TINYNN_HAVE_MPI
  if (world().active) MPI_Abort(MPI_COMM_WORLD, code);
#endif
  std::exit(code);
}

namespace {
void broadcast_each(const nn::NamedTensors& tensors) {
  NoGradGuard no_grad;
  for (const auto& [name, t] : tensors) {
    Tensor handle = t;  // shares the module's storage
    broadcast(handle);
  }
}
}  // namespace

void broadcast_buffers(nn::Module& model) {
  if (world_size() > 1) broadcast_each(model.named_buffers());
}

void broadcast_parameters(nn::Module& model) {
  if (world_size() == 1) return;
  broadcast_each(model.named_parameters());
  broadcast_buffers(model);
}

Device device_for_rank(Device device) {
  if (world_size() == 1 || !device.is_cuda()) return device;
  const int gpus = cuda_device_count();
  return gpus > 0 ? Device::cuda(local_rank() % gpus) : device;
}

void GradientAllReduce::sum_gradients(const std::vector<Tensor>& all_params) {
  if (world_size() == 1 || all_params.empty()) return;
  NoGradGuard no_grad;
  // Which parameters some rank has a gradient for: the others keep none, as in one process.
  has_grad_.assign(all_params.size(), 0.0);
  for (std::size_t i = 0; i < all_params.size(); ++i) has_grad_[i] = all_params[i].grad().defined() ? 1.0 : 0.0;
  all_reduce_sum(has_grad_);
  params_.clear();
  for (std::size_t i = 0; i < all_params.size(); ++i)
    if (has_grad_[i] > 0) params_.push_back(all_params[i]);
  const std::vector<Tensor>& params = params_;
  if (params.empty()) return;
  for (Tensor p : params)  // a handle: the gradient set is the parameter's
    if (!p.grad().defined()) p.set_grad(zeros_like(p));
  const bool uniform = std::all_of(params.begin(), params.end(), [&](const Tensor& p) {
    return p.dtype() == params[0].dtype() && p.device() == params[0].device();
  });
  if (Tensor in_place = nn::flat_gradient_view(params); in_place.defined()) {
    all_reduce_sum(in_place);  // the gradients tile one buffer (nn::FlatParameters): no copies
    return;
  }
  if (!uniform) {  // mixed dtypes or devices: one all-reduce per gradient
    for (Tensor p : params) {
      Tensor g = p.grad().contiguous();
      all_reduce_sum(g);
      p.set_grad(g);
    }
    return;
  }
  std::int64_t total = 0;
  for (const Tensor& p : params) total += p.numel();
  if (!flat_.defined() || flat_.numel() != total || flat_.dtype() != params[0].dtype() || flat_.device() != params[0].device())
    flat_ = empty({total}, params[0].dtype(), params[0].device());
  std::int64_t at = 0;
  for (const Tensor& p : params) {
    flat_.narrow(0, at, p.numel()).copy_(p.grad().reshape({p.numel()}));
    at += p.numel();
  }
  all_reduce_sum(flat_);
  at = 0;
  for (const Tensor& p : params) {
    Tensor g = p.grad();
    g.copy_(flat_.narrow(0, at, p.numel()).reshape(p.shape()));
    at += p.numel();
  }
}

DataParallel::DataParallel(nn::Module& model) : params_(model.parameters()) { broadcast_parameters(model); }

void DataParallel::sync() {
  reducer_.sum_gradients(params_);
  if (world_size() == 1) return;
  NoGradGuard no_grad;
  const double inverse = 1.0 / world_size();
  for (Tensor& p : params_) {
    Tensor g = p.grad();
    g.copy_(g * inverse);
  }
}

}  // namespace tinynn::dist
