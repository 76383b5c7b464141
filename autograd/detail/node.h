// Graph nodes: one per recorded op output (FormulaNode) or per leaf variable (AccumulateGrad).
// Edges point from a node to the nodes of its inputs, so a graph is reached from its outputs.
#pragma once
#include <memory>
#include <string>
#include <vector>

#include "../../core/detail/autograd_hooks.h"
#include "../../core/tensor.h"

namespace tinynn::detail {

class Node;

// Autograd state of a tensor that requires grad.
struct AutogradMeta {
  bool requires_grad = false;
  Tensor grad;                             // accumulated gradient (leaves, or retained)
  std::shared_ptr<Node> grad_fn;           // the op that produced it; null for leaves
  std::weak_ptr<Node> grad_accumulator;    // leaves: their AccumulateGrad node, shared by all uses
  Tensor grad_slot;                        // leaves: where backward() writes grad (set_grad_slot)
};

class Node {
 public:
  Node();
  virtual ~Node();
  Node(const Node&) = delete;
  Node& operator=(const Node&) = delete;

  virtual std::string name() const = 0;
  // Gradients for each input edge (undefined where an input needs none), given the gradient
  // of this node's output. Runs in grad mode when the backward creates a graph. `into[i]`, when
  // defined, is memory input i's gradient may be written into (a leaf's grad slot, seen through
  // the views between); a formula that can write there does and returns that tensor.
  virtual std::vector<Tensor> apply(const Tensor& grad, const std::vector<Tensor>& into) = 0;
  // Drops the tensors saved for backward; a later apply() throws.
  virtual void release_saved() { released_ = true; }
  bool released() const { return released_; }

  std::vector<std::shared_ptr<Node>> next;  // per input: its grad_fn or accumulator, or null
  std::vector<Shape> input_shapes;          // a gradient for input i must have this shape

 protected:
  // Moves every reference this node holds to other nodes into `out` (for iterative freeing).
  virtual void give_up_references(std::vector<std::shared_ptr<Node>>& out);
  // Called by destructors: frees the graph behind this node without recursion, since a graph
  // of 100,000 chained ops freed by nested destructors would overflow the stack.
  void free_graph_iteratively();

 private:
  bool released_ = false;
};

// Adds incoming gradients into a leaf's grad().
class AccumulateGrad final : public Node {
 public:
  explicit AccumulateGrad(std::shared_ptr<TensorImpl> leaf);
  ~AccumulateGrad() override;
  std::string name() const override { return "AccumulateGrad"; }
  std::vector<Tensor> apply(const Tensor& grad, const std::vector<Tensor>& into) override;
  void release_saved() override {}  // nothing saved: may run any number of times
  const std::shared_ptr<TensorImpl>& leaf() const { return leaf_; }
  // The leaf's grad slot while it holds no gradient (so one incoming gradient may be written
  // there directly); otherwise undefined.
  Tensor free_slot() const;

 private:
  Tensor free_or_held_slot() const;  // the leaf's grad slot when it fits the leaf, else undefined
  std::shared_ptr<TensorImpl> leaf_;
};

// A recorded op: its record (inputs saved), its output kept detached (no reference cycle),
// and the backward formula for its kind.
class FormulaNode final : public Node {
 public:
  FormulaNode(OpRecord record, const Tensor& output);
  ~FormulaNode() override;
  std::string name() const override;
  std::vector<Tensor> apply(const Tensor& grad, const std::vector<Tensor>& into) override;
  void release_saved() override;
  // For a view op (permute, reshape) whose input's gradient may go into `input_into`: the same
  // view of it, where this node's own incoming gradient may go. Undefined for other ops.
  Tensor view_of(const Tensor& input_into) const;
  bool is_view() const { return record_.kind == OpKind::Permute || record_.kind == OpKind::Reshape; }

 protected:
  void give_up_references(std::vector<std::shared_ptr<Node>>& out) override;

 private:
  OpRecord record_;
  Tensor output_;  // detached
  std::vector<std::uint64_t> saved_versions_;  // storage versions of the inputs when recorded
};

// The node a gradient for `t` flows into: its grad_fn, or (for a leaf requiring grad) its
// accumulator, created on first use. Null when t does not require grad.
std::shared_ptr<Node> gradient_edge(const Tensor& t);
AutogradMeta& autograd_meta(const Tensor& t);  // creates it when absent

// The backward formula of each op kind (autograd/formulas*.cpp). `needs[i]` says whether
// input i wants a gradient; entries for the others may stay undefined. `into` (empty, or one
// entry per input): see Node::apply.
std::vector<Tensor> backward_formula(const OpRecord& rec, const Tensor& output, const Tensor& grad,
                                     const std::vector<bool>& needs, const std::vector<Tensor>& into);

// True when a and b are the same elements of the same storage (one may be the other's alias).
bool same_view(const Tensor& a, const Tensor& b);

}  // namespace tinynn::detail
