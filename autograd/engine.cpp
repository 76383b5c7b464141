// The backward engine: counts how many edges lead into each node reachable from the roots,
// then runs nodes once all their gradient contributions have arrived (an iterative
// topological order: no recursion, so 100,000-op chains are fine).
#include <fmt/format.h>

#include <unordered_map>
#include <unordered_set>

#include "../core/creation.h"
#include "../core/error.h"
#include "../core/grad_mode.h"
#include "../core/ops.h"
#include "autograd.h"
#include "detail/node.h"

namespace tinynn {

namespace detail {

namespace {

struct Root {
  std::shared_ptr<Node> node;
  Tensor grad;
};

// The nodes whose inputs lead (through any path) to a node in `targets`: those a grad() must run.
// Nodes in reverse topological order (inputs before the nodes that use them), from Kahn's order.
std::unordered_set<Node*> nodes_feeding(const std::vector<Root>& roots, const std::unordered_map<Node*, int>& dependencies,
                                        const std::unordered_map<Node*, std::size_t>& targets) {
  std::unordered_map<Node*, int> remaining = dependencies;
  std::vector<Node*> order, ready;
  std::unordered_set<Node*> seeded;
  for (const Root& r : roots)
    if (remaining[r.node.get()] == 0 && seeded.insert(r.node.get()).second) ready.push_back(r.node.get());
  while (!ready.empty()) {
    Node* n = ready.back();
    ready.pop_back();
    order.push_back(n);
    for (const auto& next : n->next)
      if (next && --remaining[next.get()] == 0) ready.push_back(next.get());
  }
  std::unordered_set<Node*> reaches, feeds;  // reaches: is a target or feeds one
  for (auto it = order.rbegin(); it != order.rend(); ++it) {
    bool any = false;
    for (const auto& next : (*it)->next) any = any || (next && reaches.count(next.get()) > 0);
    if (any) feeds.insert(*it);
    if (any || targets.count(*it) > 0) reaches.insert(*it);
  }
  return feeds;
}

// When `captures` is non-empty, gradients reaching those nodes are returned instead of being
// accumulated into leaves (grad()); otherwise leaves accumulate (backward()).
std::vector<Tensor> run_backward(const std::vector<Root>& roots, bool retain_graph, bool create_graph,
                                 const std::vector<std::shared_ptr<Node>>& captures) {
  // Incoming-edge counts over the reachable graph.
  std::unordered_map<Node*, int> dependencies;
  std::vector<Node*> stack;
  for (const Root& r : roots)
    if (dependencies.emplace(r.node.get(), 0).second) stack.push_back(r.node.get());
  while (!stack.empty()) {
    Node* n = stack.back();
    stack.pop_back();
    for (const auto& next : n->next) {
      if (!next) continue;
      auto [it, inserted] = dependencies.emplace(next.get(), 0);
      ++it->second;
      if (inserted) stack.push_back(next.get());
    }
  }

  // Where a node's incoming gradient may be written directly: a leaf's free grad slot, seen
  // through the view ops on the way (Linear's W^T), when that gradient is the only one flowing
  // there. Plain backward only: under create_graph gradients must stay differentiable.
  const std::unordered_map<Node*, int> edges_in = dependencies;
  auto destination = [&edges_in](Node* n) {
    std::vector<const FormulaNode*> views;
    while (n != nullptr && edges_in.at(n) == 1) {
      if (const auto* acc = dynamic_cast<const AccumulateGrad*>(n)) {
        Tensor into = acc->free_slot();
        for (auto v = views.rbegin(); v != views.rend() && into.defined(); ++v) into = (*v)->view_of(into);
        return into;
      }
      const auto* view = dynamic_cast<const FormulaNode*>(n);
      if (view == nullptr || view->next.size() != 1 || !view->is_view()) return Tensor();
      views.push_back(view);
      n = view->next[0].get();
    }
    return Tensor();
  };

  std::unordered_map<Node*, std::size_t> capture_index;
  for (std::size_t i = 0; i < captures.size(); ++i)
    if (captures[i]) capture_index.emplace(captures[i].get(), i);
  std::vector<Tensor> captured(captures.size());
  const bool accumulate = captures.empty();
  // grad(): only nodes with a captured node behind them need to run; the graph upstream of the
  // inputs asked for is skipped (a formula that calls grad() itself would otherwise redo it).
  const std::unordered_set<Node*> feeds_capture = accumulate ? std::unordered_set<Node*>{} : nodes_feeding(roots, dependencies, capture_index);

  std::unordered_map<Node*, Tensor> pending;  // summed incoming gradient per node
  auto add_grad = [&pending](Node* n, const Tensor& g) {
    Tensor& slot = pending[n];
    slot = slot.defined() ? slot + g : g;
  };
  for (const Root& r : roots) add_grad(r.node.get(), r.grad);

  // Keep each node alive while it runs (release_saved may free its last other owner).
  std::vector<std::shared_ptr<Node>> ready;
  std::unordered_map<Node*, bool> seeded;
  for (const Root& r : roots)
    if (dependencies[r.node.get()] == 0 && !seeded[r.node.get()]) {
      seeded[r.node.get()] = true;
      ready.push_back(r.node);
    }

  const bool previous_mode = is_grad_enabled();
  set_grad_enabled(create_graph);
  try {
    while (!ready.empty()) {
      std::shared_ptr<Node> node = std::move(ready.back());
      ready.pop_back();
      Tensor grad;  // stays undefined when the node was reached but no gradient flowed into it
      if (auto p = pending.find(node.get()); p != pending.end()) {
        grad = std::move(p->second);
        pending.erase(p);
      }
      if (auto c = capture_index.find(node.get()); c != capture_index.end()) captured[c->second] = grad;
      const bool is_leaf_node = dynamic_cast<AccumulateGrad*>(node.get()) != nullptr;
      std::vector<Tensor> input_grads;
      if (grad.defined() && (accumulate || (!is_leaf_node && feeds_capture.count(node.get()) > 0))) {
        std::vector<Tensor> into;
        if (accumulate && !create_graph) {
          into.resize(node->next.size());
          for (std::size_t i = 0; i < node->next.size(); ++i) into[i] = destination(node->next[i].get());
        }
        input_grads = node->apply(grad, into);
        if (!retain_graph) node->release_saved();
      }
      for (std::size_t i = 0; i < node->next.size(); ++i) {
        const auto& next = node->next[i];
        if (!next) continue;
        if (i < input_grads.size() && input_grads[i].defined()) {
          if (input_grads[i].shape() != node->input_shapes[i])
            throw Error(fmt::format("tinynn::backward: {} produced a gradient of shape {} for an input of shape {}",
                                    node->name(), shape_str(input_grads[i].shape()), shape_str(node->input_shapes[i])));
          add_grad(next.get(), input_grads[i]);
        }
        if (--dependencies[next.get()] == 0) ready.push_back(next);
      }
    }
  } catch (...) {
    set_grad_enabled(previous_mode);
    throw;
  }
  set_grad_enabled(previous_mode);
  return captured;
}

}  // namespace

}  // namespace detail

// ---- Tensor's autograd methods -------------------------------------------------------------

bool Tensor::requires_grad() const { return defined() && impl()->autograd && impl()->autograd->requires_grad; }

Tensor& Tensor::requires_grad_(bool enabled) {
  if (enabled && !is_floating(dtype()))
    throw DTypeError(fmt::format("tinynn::requires_grad_: only floating-point tensors can require grad, got {}",
                                 dtype_name(dtype())));
  if (!is_leaf())
    throw ValueError(fmt::format("tinynn::requires_grad_: this tensor is the output of {}; only leaves can change "
                                 "requires_grad (use detach() for a new leaf)", grad_fn_name()));
  if (enabled || impl()->autograd) detail::autograd_meta(*this).requires_grad = enabled;
  return *this;
}

bool Tensor::is_leaf() const { return !(defined() && impl()->autograd && impl()->autograd->grad_fn); }

Tensor Tensor::grad() const { return defined() && impl()->autograd ? impl()->autograd->grad : Tensor(); }

void Tensor::set_grad(const Tensor& gradient) {
  if (gradient.defined() && gradient.shape() != shape())
    throw ShapeError(fmt::format("tinynn::set_grad: gradient of shape {} for a tensor of shape {}",
                                 shape_str(gradient.shape()), shape_str(shape())));
  if (gradient.defined() || impl()->autograd) detail::autograd_meta(*this).grad = gradient;
}

void Tensor::zero_grad() { set_grad(Tensor()); }

void set_grad_slot(const Tensor& leaf, const Tensor& slot) {
  if (!leaf.defined() || !leaf.is_leaf())
    throw ValueError("tinynn::set_grad_slot: only a defined leaf tensor can have a gradient slot");
  if (slot.defined() && (slot.shape() != leaf.shape() || slot.dtype() != leaf.dtype() || slot.device() != leaf.device()))
    throw ShapeError(fmt::format("tinynn::set_grad_slot: a slot {} {} on {} for a tensor {} {} on {}", dtype_name(slot.dtype()),
                                 shape_str(slot.shape()), slot.device().str(), dtype_name(leaf.dtype()),
                                 shape_str(leaf.shape()), leaf.device().str()));
  if (slot.defined() || leaf.impl()->autograd) detail::autograd_meta(leaf).grad_slot = slot.defined() ? slot.detach() : Tensor();
}

std::string Tensor::grad_fn_name() const {
  return defined() && impl()->autograd && impl()->autograd->grad_fn ? impl()->autograd->grad_fn->name() : "";
}

namespace {

// The gradient that seeds a backward from `output`: the given one (shape-checked) or 1 for a scalar.
Tensor seed_gradient(const char* fn, const Tensor& output, const Tensor& gradient) {
  if (!output.requires_grad())
    throw Error(fmt::format("tinynn::{}: the tensor does not require grad and has no grad_fn (was it computed from "
                            "tensors with requires_grad_(), outside a NoGradGuard?)", fn));
  if (!gradient.defined()) {
    if (output.numel() != 1)
      throw ShapeError(fmt::format("tinynn::{}: a gradient is needed for a non-scalar output of shape {}", fn,
                                   shape_str(output.shape())));
    return ones_like(output);
  }
  if (gradient.shape() != output.shape())
    throw ShapeError(fmt::format("tinynn::{}: gradient of shape {} does not match the output's shape {}", fn,
                                 shape_str(gradient.shape()), shape_str(output.shape())));
  return gradient.to(output.dtype());
}

}  // namespace

void Tensor::backward(const Tensor& gradient, bool retain_graph, bool create_graph) const {
  const Tensor seed = seed_gradient("backward", *this, gradient);
  detail::run_backward({{detail::gradient_edge(*this), seed}}, retain_graph || create_graph, create_graph, {});
}

std::vector<Tensor> grad(const std::vector<Tensor>& outputs, const std::vector<Tensor>& inputs,
                         const std::vector<Tensor>& grad_outputs, std::optional<bool> retain_graph, bool create_graph,
                         bool allow_unused) {
  if (!grad_outputs.empty() && grad_outputs.size() != outputs.size())
    throw ValueError(fmt::format("tinynn::grad: {} grad_outputs for {} outputs", grad_outputs.size(), outputs.size()));
  std::vector<detail::Root> roots;
  for (std::size_t i = 0; i < outputs.size(); ++i)
    roots.push_back({detail::gradient_edge(outputs[i]),
                     seed_gradient("grad", outputs[i], grad_outputs.empty() ? Tensor() : grad_outputs[i])});
  std::vector<std::shared_ptr<detail::Node>> captures;
  for (std::size_t i = 0; i < inputs.size(); ++i) {
    if (!inputs[i].requires_grad())
      throw ValueError(fmt::format("tinynn::grad: input {} does not require grad", i));
    captures.push_back(detail::gradient_edge(inputs[i]));
  }
  std::vector<Tensor> grads = detail::run_backward(roots, retain_graph.value_or(create_graph), create_graph, captures);
  for (std::size_t i = 0; i < grads.size(); ++i)
    if (!grads[i].defined() && !allow_unused)
      throw ValueError(fmt::format("tinynn::grad: input {} was not used to compute the outputs (pass allow_unused=true)", i));
  return grads;
}

}  // namespace tinynn
