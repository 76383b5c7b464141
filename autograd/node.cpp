// Node lifetime (counted, freed iteratively), leaf accumulation, and recording of ops.
#include "detail/node.h"

#include <fmt/format.h>

#include <atomic>

#include "../core/error.h"
#include "../core/grad_mode.h"
#include "../core/ops.h"

namespace tinynn::detail {

namespace {
std::atomic<std::int64_t> g_live_nodes{0};
std::atomic<std::int64_t> g_recorded[static_cast<int>(OpKind::Count_)];
}  // namespace

std::int64_t recorded_op_count(OpKind kind) { return g_recorded[static_cast<int>(kind)]; }

std::int64_t live_node_count() { return g_live_nodes; }

Node::Node() { ++g_live_nodes; }
Node::~Node() { --g_live_nodes; }

void Node::give_up_references(std::vector<std::shared_ptr<Node>>& out) {
  for (auto& n : next)
    if (n) out.push_back(std::move(n));
  next.clear();
}

void Node::free_graph_iteratively() {
  std::vector<std::shared_ptr<Node>> pending;
  give_up_references(pending);
  while (!pending.empty()) {
    std::shared_ptr<Node> node = std::move(pending.back());
    pending.pop_back();
    // The last owner empties the node before it dies, so its destructor has nothing to recurse into.
    if (node.use_count() == 1) node->give_up_references(pending);
  }
}

// ---- leaves -------------------------------------------------------------------------------

AccumulateGrad::AccumulateGrad(std::shared_ptr<TensorImpl> leaf) : leaf_(std::move(leaf)) {}
AccumulateGrad::~AccumulateGrad() = default;

bool same_view(const Tensor& a, const Tensor& b) {
  return a.defined() && b.defined() && a.impl()->storage == b.impl()->storage && a.offset() == b.offset() &&
         a.shape() == b.shape() && a.strides() == b.strides() && a.dtype() == b.dtype();
}

std::vector<Tensor> AccumulateGrad::apply(const Tensor& grad, const std::vector<Tensor>&) {
  AutogradMeta& meta = *leaf_->autograd;
  // Without create_graph the stored gradient is plain data; with it, it stays differentiable.
  const Tensor g = is_grad_enabled() ? grad : grad.detach();
  const Tensor slot = free_or_held_slot();
  if (slot.defined() && !is_grad_enabled() && (!meta.grad.defined() || same_view(meta.grad, slot))) {
    // The gradient lives in its slot: written there by the formula, copied, or added.
    if (!meta.grad.defined()) {
      if (!same_view(g, slot)) Tensor(slot).copy_(g);
    } else {
      Tensor(slot).copy_(slot + g);
    }
    meta.grad = slot;
    return {};
  }
  meta.grad = meta.grad.defined() ? meta.grad + g : g;
  return {};
}

Tensor AccumulateGrad::free_or_held_slot() const {
  // A slot that no longer fits the leaf (moved to another device or dtype since) is not used.
  const Tensor leaf(leaf_);
  const Tensor& slot = leaf_->autograd->grad_slot;
  const bool fits = slot.defined() && slot.shape() == leaf.shape() && slot.dtype() == leaf.dtype() && slot.device() == leaf.device();
  return fits ? slot : Tensor();
}

Tensor AccumulateGrad::free_slot() const { return leaf_->autograd->grad.defined() ? Tensor() : free_or_held_slot(); }

// ---- recorded ops -------------------------------------------------------------------------

FormulaNode::FormulaNode(OpRecord record, const Tensor& output) : record_(std::move(record)), output_(output.detach()) {
  next.reserve(record_.inputs.size());
  for (const Tensor& in : record_.inputs) {
    next.push_back(gradient_edge(in));
    input_shapes.push_back(in.shape());
    saved_versions_.push_back(in.impl()->storage->version());
  }
}

FormulaNode::~FormulaNode() { free_graph_iteratively(); }

void FormulaNode::give_up_references(std::vector<std::shared_ptr<Node>>& out) {
  Node::give_up_references(out);
  // The inputs' own grad_fns were just moved to `out`, so freeing the inputs recurses no further.
  record_.inputs.clear();
  record_.saved.clear();
  output_ = Tensor();
}

namespace {
// "leaky_relu" -> "LeakyRelu", for PyTorch-style node names.
std::string camel_case(const char* snake) {
  std::string out;
  bool upper = true;
  for (const char* c = snake; *c != '\0'; ++c) {
    if (*c == '_') {
      upper = true;
      continue;
    }
    out += upper ? static_cast<char>(std::toupper(static_cast<unsigned char>(*c))) : *c;
    upper = false;
  }
  return out;
}
}  // namespace

std::string FormulaNode::name() const {
  switch (record_.kind) {
    case OpKind::Unary: return camel_case(unary_op_name(record_.unary)) + "Backward";
    case OpKind::Binary: return camel_case(binary_op_name(record_.binary)) + "Backward";
    default: return fmt::format("{}Backward", op_kind_name(record_.kind));
  }
}

void FormulaNode::release_saved() {
  Node::release_saved();
  record_.inputs.clear();
  record_.saved.clear();
  output_ = Tensor();
}

std::vector<Tensor> FormulaNode::apply(const Tensor& grad, const std::vector<Tensor>& into) {
  if (released())
    throw Error(fmt::format("tinynn::backward: {} was already run and its saved tensors freed; call the first "
                            "backward() with retain_graph=true to backward through a graph twice", name()));
  for (std::size_t i = 0; i < record_.inputs.size(); ++i)
    if (record_.inputs[i].impl()->storage->version() != saved_versions_[i])
      throw Error(fmt::format("tinynn::backward: input {} of {} (shape {}) was modified in place after it was saved "
                              "for the gradient; compute on a clone() instead", i, name(),
                              shape_str(record_.inputs[i].shape())));
  std::vector<bool> needs(next.size());
  for (std::size_t i = 0; i < next.size(); ++i) needs[i] = next[i] != nullptr;
  return backward_formula(record_, output_, grad, needs, into);
}

Tensor FormulaNode::view_of(const Tensor& input_into) const {
  switch (record_.kind) {
    case OpKind::Permute: return input_into.permute(record_.axes);
    case OpKind::Reshape:
      return output_.defined() && input_into.is_contiguous() ? input_into.view(output_.shape()) : Tensor();
    default: return Tensor();
  }
}

// ---- recording ----------------------------------------------------------------------------

AutogradMeta& autograd_meta(const Tensor& t) {
  auto& impl = *t.impl();
  if (!impl.autograd) impl.autograd = std::make_shared<AutogradMeta>();
  return *impl.autograd;
}

std::shared_ptr<Node> gradient_edge(const Tensor& t) {
  if (!t.defined() || !t.impl()->autograd || !t.impl()->autograd->requires_grad) return nullptr;
  AutogradMeta& meta = *t.impl()->autograd;
  if (meta.grad_fn) return meta.grad_fn;
  auto acc = meta.grad_accumulator.lock();
  if (!acc) {
    acc = std::make_shared<AccumulateGrad>(t.impl());
    meta.grad_accumulator = acc;
  }
  return acc;
}

void record_op(OpRecord record, const Tensor& output) {
  ++g_recorded[static_cast<int>(record.kind)];
  auto node = std::make_shared<FormulaNode>(std::move(record), output);
  AutogradMeta& meta = autograd_meta(output);
  meta.requires_grad = true;
  meta.grad_fn = std::move(node);
}

}  // namespace tinynn::detail
