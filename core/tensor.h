// tinynn::Tensor: a strided view of shared storage with a dtype and a device. Copying a Tensor
// copies a handle (like torch::Tensor); views share storage; `clone()` copies data.
#pragma once
#include <cstdint>
#include <initializer_list>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "device.h"
#include "dtype.h"
#include "scalar.h"
#include "shape.h"
#include "storage.h"

namespace tinynn {

using Axes = std::vector<std::int64_t>;

namespace detail {
struct AutogradMeta;  // defined in autograd/; present when a tensor requires grad
}

struct TensorImpl {
  TensorImpl();
  ~TensorImpl();
  TensorImpl(const TensorImpl&) = delete;
  TensorImpl& operator=(const TensorImpl&) = delete;

  std::shared_ptr<Storage> storage;
  Shape shape;
  Shape strides;  // in elements
  std::int64_t offset = 0;  // in elements, into storage
  DType dtype = DType::Float32;
  std::shared_ptr<detail::AutogradMeta> autograd;
};

class Tensor {
 public:
  Tensor() = default;  // undefined tensor; most operations on it throw
  explicit Tensor(std::shared_ptr<TensorImpl> impl) : impl_(std::move(impl)) {}

  bool defined() const { return impl_ != nullptr; }
  const Shape& shape() const;
  std::int64_t size(std::int64_t axis) const;
  const Shape& strides() const;
  std::int64_t offset() const;
  int dim() const;
  std::int64_t numel() const;
  DType dtype() const;
  Device device() const;
  bool is_contiguous() const;
  bool is_floating_point() const { return is_floating(dtype()); }
  // True when both tensors view the same storage.
  bool shares_storage_with(const Tensor& other) const;

  // Raw access (CPU, or device memory on CUDA). The element at the tensor's offset. Writing through
  // it is not an in-place op: nothing records it (autograd's checks of saved tensors, the blocked
  // copy a conv block may keep beside its output); write with copy_() or another op where those matter.
  void* raw_data() const;
  template <class T> T* data_ptr() const;

  // Value of a one-element tensor, converted to T.
  template <class T = double> T item() const;
  // Value at a full index, converted to T: t.at<float>({1, 2}).
  template <class T = double> T at(std::initializer_list<std::int64_t> index) const;
  // Every element in row-major order, converted to T (copies from the device if needed).
  template <class T> std::vector<T> to_vector() const;

  // Conversions and copies.
  Tensor to(DType t) const;
  Tensor to(Device d) const;
  Tensor contiguous() const;  // self if already contiguous
  Tensor clone() const;
  // In place: writes `src` (broadcast to this shape, converted to this dtype) into this tensor's
  // memory. Refused on a tensor that requires grad while grad mode is on (wrap updates in a
  // NoGradGuard); a tensor saved for a backward that is then modified makes that backward throw.
  Tensor& copy_(const Tensor& src);

  // Views (share storage).
  Tensor reshape(const Shape& shape) const;  // view when possible, else a copy
  Tensor view(const Shape& shape) const;     // throws if a view is impossible
  Tensor transpose(std::int64_t a, std::int64_t b) const;
  Tensor permute(const Axes& order) const;
  Tensor t() const;  // 2-D transpose (0-D and 1-D unchanged)
  Tensor squeeze() const;
  Tensor squeeze(std::int64_t axis) const;
  Tensor unsqueeze(std::int64_t axis) const;
  Tensor flatten(std::int64_t start = 0, std::int64_t end = -1) const;
  Tensor expand(const Shape& shape) const;
  Tensor narrow(std::int64_t axis, std::int64_t start, std::int64_t length) const;
  Tensor slice(std::int64_t axis, std::int64_t start, std::int64_t end, std::int64_t step = 1) const;
  Tensor select(std::int64_t axis, std::int64_t index) const;
  Tensor operator[](std::int64_t index) const { return select(0, index); }

  // Reductions (see reduce.h for the free-function forms).
  Tensor sum(const Axes& axes = {}, bool keepdim = false) const;
  Tensor mean(const Axes& axes = {}, bool keepdim = false) const;
  Tensor max(const Axes& axes = {}, bool keepdim = false) const;
  Tensor min(const Axes& axes = {}, bool keepdim = false) const;
  Tensor argmax(std::optional<std::int64_t> axis = std::nullopt, bool keepdim = false) const;

  // Pointwise shorthands.
  Tensor exp() const;
  Tensor log() const;
  Tensor abs() const;
  Tensor sqrt() const;
  Tensor pow(Scalar exponent) const;
  Tensor matmul(const Tensor& other) const;

  // Autograd (see autograd/autograd.h for grad(), guards and gradcheck).
  bool requires_grad() const;
  // Marks a floating-point leaf as a variable whose gradient backward() accumulates in grad().
  Tensor& requires_grad_(bool enabled = true);
  bool is_leaf() const;          // not produced by a recorded operation
  Tensor grad() const;           // accumulated gradient; undefined until a backward reaches it
  void set_grad(const Tensor& gradient);  // Tensor() clears it ("grad = None")
  void zero_grad();              // clears the gradient, as PyTorch's default set_to_none
  std::string grad_fn_name() const;       // "MatmulBackward", or "" for leaves
  // Same data, cut from the graph: never requires grad.
  Tensor detach() const;
  // Reverse-mode differentiation from this tensor. A non-scalar needs `gradient` (same shape).
  void backward(const Tensor& gradient = Tensor(), bool retain_graph = false, bool create_graph = false) const;

  const std::shared_ptr<TensorImpl>& impl() const { return impl_; }

 private:
  const TensorImpl& checked() const;
  std::shared_ptr<TensorImpl> impl_;
};

// Makes a tensor viewing `storage` (used by ops; users create tensors with creation.h).
Tensor make_tensor(std::shared_ptr<Storage> storage, Shape shape, Shape strides,
                   std::int64_t offset, DType dtype);
// A new contiguous tensor with unspecified contents.
Tensor empty(const Shape& shape, DType dtype = DType::Float32, Device device = Device::cpu());

namespace detail {
// Makes `target` view `source`'s memory instead of its own (same shape, dtype and device); every
// handle to target sees the change and its autograd state stays. No values move: the caller
// copies them first. Flat parameter buffers (nn::FlatParameters) are made this way.
void rebind_memory(const Tensor& target, const Tensor& source);
}  // namespace detail

}  // namespace tinynn
