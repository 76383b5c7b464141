// The per-thread grad-mode flag, and the cheap test core ops run before recording a graph.
#include "grad_mode.h"

#include "detail/autograd_hooks.h"

namespace tinynn {

namespace {
thread_local bool g_grad_enabled = true;
}

bool is_grad_enabled() { return g_grad_enabled; }
void set_grad_enabled(bool enabled) { g_grad_enabled = enabled; }

namespace detail {

bool should_record(std::initializer_list<const Tensor*> inputs) {
  if (!g_grad_enabled) return false;
  for (const Tensor* t : inputs)
    if (t->defined() && t->requires_grad()) return true;
  return false;
}

bool should_record(const std::vector<Tensor>& inputs) {
  if (!g_grad_enabled) return false;
  for (const Tensor& t : inputs)
    if (t.defined() && t.requires_grad()) return true;
  return false;
}

const char* op_kind_name(OpKind kind) {
  switch (kind) {
    case OpKind::Unary: return "Unary";
    case OpKind::Binary: return "Binary";
    case OpKind::Where: return "Where";
    case OpKind::Reduce: return "Reduce";
    case OpKind::CumSum: return "CumSum";
    case OpKind::CumProd: return "CumProd";
    case OpKind::Reshape: return "Reshape";
    case OpKind::Permute: return "Permute";
    case OpKind::Expand: return "Expand";
    case OpKind::Slice: return "Slice";
    case OpKind::Select: return "Select";
    case OpKind::SliceBackward: return "SliceBackward";
    case OpKind::Cat: return "Cat";
    case OpKind::Gather: return "Gather";
    case OpKind::ScatterAdd: return "ScatterAdd";
    case OpKind::Matmul: return "Matmul";
    case OpKind::ToDType: return "ToDType";
    case OpKind::ToDevice: return "ToDevice";
    case OpKind::Clone: return "Clone";
    case OpKind::Solve: return "Solve";
    case OpKind::Det: return "Det";
    case OpKind::LogAbsDet: return "LogAbsDet";
    case OpKind::Cholesky: return "Cholesky";
    case OpKind::Svdvals: return "Svdvals";
    case OpKind::Eigvalsh: return "Eigvalsh";
    case OpKind::Pinv: return "Pinv";
    case OpKind::SoftmaxCrossEntropy: return "SoftmaxCrossEntropy";
    case OpKind::BiasActivation: return "BiasActivation";
    case OpKind::Conv2d: return "Conv2d";
    case OpKind::Conv2dBackwardData: return "Conv2dBackwardData";
    case OpKind::Conv2dBackwardWeight: return "Conv2dBackwardWeight";
    case OpKind::AvgPool2d: return "AvgPool2d";
    case OpKind::AvgPool2dBackward: return "AvgPool2dBackward";
    case OpKind::BatchNorm: return "BatchNorm";
    case OpKind::ConvBlock: return "ConvBlock";
    case OpKind::Count_: break;
  }
  return "?";
}

}  // namespace detail
}  // namespace tinynn
