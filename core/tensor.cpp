// Tensor accessors, element access, conversions, and the view operations (stride arithmetic only).
#include "tensor.h"

#include <fmt/format.h>

#include <algorithm>
#include <atomic>
#include <cstring>

#include "backend.h"
#include "creation.h"
#include "detail/autograd_hooks.h"
#include "detail/dispatch.h"
#include "detail/plan.h"
#include "error.h"
#include "grad_mode.h"
#include "linear.h"
#include "ops.h"
#include "reduce.h"
#include "shape_ops.h"

namespace tinynn {

namespace {
std::atomic<std::int64_t> g_live_tensors{0};
}  // namespace

TensorImpl::TensorImpl() { ++g_live_tensors; }
TensorImpl::~TensorImpl() { --g_live_tensors; }

namespace detail {
std::int64_t live_tensor_count() { return g_live_tensors; }
}  // namespace detail

Tensor Tensor::detach() const {
  const auto& im = checked();
  return make_tensor(im.storage, im.shape, im.strides, im.offset, im.dtype);
}

Tensor make_tensor(std::shared_ptr<Storage> storage, Shape shape, Shape strides, std::int64_t offset,
                   DType dtype) {
  auto impl = std::make_shared<TensorImpl>();
  impl->storage = std::move(storage);
  impl->shape = std::move(shape);
  impl->strides = std::move(strides);
  impl->offset = offset;
  impl->dtype = dtype;
  return Tensor(std::move(impl));
}

void detail::rebind_memory(const Tensor& target, const Tensor& source) {
  if (!target.defined() || !source.defined() || target.shape() != source.shape() || target.dtype() != source.dtype() ||
      target.device() != source.device())
    throw ValueError("tinynn::rebind_memory: the tensors must be defined and of one shape, dtype and device");
  TensorImpl& impl = *target.impl();
  impl.storage = source.impl()->storage;
  impl.strides = source.strides();
  impl.offset = source.offset();
}

Tensor empty(const Shape& shape, DType dtype, Device device) {
  for (auto s : shape)
    if (s < 0) throw ShapeError(fmt::format("tinynn::empty: negative size in shape {}", shape_str(shape)));
  const auto bytes = static_cast<std::size_t>(numel_of(shape)) * dtype_size(dtype);
  auto storage = std::make_shared<Storage>(bytes, device);
  return make_tensor(std::move(storage), shape, contiguous_strides(shape), 0, dtype);
}

const TensorImpl& Tensor::checked() const {
  if (!impl_) throw ValueError("tinynn::Tensor: operation on an undefined tensor");
  return *impl_;
}

const Shape& Tensor::shape() const { return checked().shape; }
const Shape& Tensor::strides() const { return checked().strides; }
std::int64_t Tensor::offset() const { return checked().offset; }
int Tensor::dim() const { return static_cast<int>(checked().shape.size()); }
std::int64_t Tensor::numel() const { return numel_of(checked().shape); }
DType Tensor::dtype() const { return checked().dtype; }
Device Tensor::device() const { return checked().storage->device(); }
std::int64_t Tensor::size(std::int64_t axis) const { return shape()[normalize_axis(axis, dim(), "size")]; }

bool Tensor::is_contiguous() const {
  const auto& im = checked();
  std::int64_t expected = 1;
  for (std::size_t i = im.shape.size(); i-- > 0;) {
    if (im.shape[i] == 1) continue;
    if (im.strides[i] != expected) return false;
    expected *= im.shape[i];
  }
  return true;
}

bool Tensor::shares_storage_with(const Tensor& other) const {
  return defined() && other.defined() && impl_->storage == other.impl_->storage;
}

void* Tensor::raw_data() const {
  const auto& im = checked();
  return static_cast<char*>(im.storage->data()) + im.offset * static_cast<std::int64_t>(dtype_size(im.dtype));
}

template <class T>
T* Tensor::data_ptr() const {
  if (dtype_of<T> != dtype())
    throw DTypeError(fmt::format("tinynn::Tensor::data_ptr: tensor is {}, requested {}", dtype_name(dtype()),
                                 dtype_name(dtype_of<T>)));
  return static_cast<T*>(raw_data());
}

template <class T>
std::vector<T> Tensor::to_vector() const {
  Tensor host = to(Device::cpu()).to(dtype_of<T>).contiguous();
  const T* p = host.data_ptr<T>();
  return std::vector<T>(p, p + host.numel());
}

template <class T>
T Tensor::item() const {
  if (numel() != 1)
    throw ShapeError(fmt::format("tinynn::Tensor::item: tensor of shape {} has {} elements, expected 1",
                                 shape_str(shape()), numel()));
  return to_vector<T>()[0];
}

template <class T>
T Tensor::at(std::initializer_list<std::int64_t> index) const {
  if (static_cast<int>(index.size()) != dim())
    throw IndexError(fmt::format("tinynn::Tensor::at: {} indices given for a tensor of shape {}", index.size(),
                                 shape_str(shape())));
  Tensor t = *this;
  for (auto i : index) t = t.select(0, i);
  return t.item<T>();
}

#define TINYNN_INSTANTIATE(T)                                           \
  template T* Tensor::data_ptr<T>() const;                              \
  template std::vector<T> Tensor::to_vector<T>() const;                 \
  template T Tensor::item<T>() const;                                   \
  template T Tensor::at<T>(std::initializer_list<std::int64_t>) const;
TINYNN_INSTANTIATE(bool)
TINYNN_INSTANTIATE(std::int64_t)
TINYNN_INSTANTIATE(float)
TINYNN_INSTANTIATE(double)
#undef TINYNN_INSTANTIATE

// ---- copies and conversions ---------------------------------------------------------------

namespace detail {
void copy_tensor(const Tensor& dst, const Tensor& src) {
  if (dst.numel() == 0) return;
  auto plan = plan_for<2>(dst, {&src});
  backend_for(dst.device()).copy(plan, dst.dtype(), dst.raw_data(), src.dtype(), src.raw_data());
}
}  // namespace detail



Tensor Tensor::to(DType t) const {
  if (t == dtype()) return *this;
  Tensor out = empty(shape(), t, device());
  detail::copy_tensor(out, *this);
  return detail::recorded({detail::OpKind::ToDType, {*this}}, out);
}

Tensor Tensor::to(Device d) const {
  if (d == device()) return *this;
  Tensor src = contiguous();
  Tensor out = empty(shape(), dtype(), d);
  const std::size_t bytes = static_cast<std::size_t>(numel()) * dtype_size(dtype());
  if (bytes > 0 && src.device().is_cpu()) {
    backend_for(d).copy_from_host(out.raw_data(), src.raw_data(), bytes);
  } else if (bytes > 0 && d.is_cpu()) {
    backend_for(src.device()).copy_to_host(out.raw_data(), src.raw_data(), bytes);
  } else if (bytes > 0) {  // between two GPUs, through the host
    Tensor host = src.to(Device::cpu());
    backend_for(d).copy_from_host(out.raw_data(), host.raw_data(), bytes);
  }
  return detail::recorded({detail::OpKind::ToDevice, {*this}}, out);
}

Tensor Tensor::contiguous() const { return is_contiguous() ? *this : clone(); }

Tensor& Tensor::copy_(const Tensor& src) {
  if (requires_grad() && is_grad_enabled())
    throw ValueError("tinynn::copy_: in-place write into a tensor that requires grad while grad mode is on; "
                     "wrap the update in a NoGradGuard");
  detail::check_same_device("copy_", *this, src);
  if (broadcast_shapes(shape(), src.shape(), "copy_") != shape())
    throw ShapeError(fmt::format("tinynn::copy_: source of shape {} does not broadcast to {}", shape_str(src.shape()),
                                 shape_str(shape())));
  detail::copy_tensor(*this, src);
  impl()->storage->bump_version();
  return *this;
}

Tensor Tensor::clone() const {
  Tensor out = empty(shape(), dtype(), device());
  detail::copy_tensor(out, *this);
  return detail::recorded({detail::OpKind::Clone, {*this}}, out);
}

// ---- views ------------------------------------------------------------------------------

namespace {
// A view of t's storage, recorded as `kind` (with rec's other fields) when t requires grad.
Tensor view_of(const Tensor& t, Shape shape, Shape strides, std::int64_t offset,
               detail::OpRecord rec = {detail::OpKind::Reshape, {}}) {
  Tensor out = make_tensor(t.impl()->storage, std::move(shape), std::move(strides), offset, t.dtype());
  rec.inputs = {t};
  return detail::recorded(std::move(rec), out);
}

detail::OpRecord permute_record(Axes order) {
  detail::OpRecord rec{detail::OpKind::Permute, {}};
  rec.axes = std::move(order);
  return rec;
}

// Resolves one -1 entry and checks the element count.
Shape infer_shape(const Shape& requested, std::int64_t numel, const char* fn, const Shape& from) {
  Shape shape = requested;
  int infer = -1;
  std::int64_t known = 1;
  for (std::size_t i = 0; i < shape.size(); ++i) {
    if (shape[i] == -1) {
      if (infer >= 0) throw ShapeError(fmt::format("tinynn::{}: only one size may be -1 in {}", fn, shape_str(requested)));
      infer = static_cast<int>(i);
    } else if (shape[i] < 0) {
      throw ShapeError(fmt::format("tinynn::{}: invalid size {} in {}", fn, shape[i], shape_str(requested)));
    } else {
      known *= shape[i];
    }
  }
  if (infer >= 0) {
    if (known == 0 || numel % known != 0)
      throw ShapeError(fmt::format("tinynn::{}: cannot reshape {} ({} elements) into {}", fn, shape_str(from), numel,
                                   shape_str(requested)));
    shape[infer] = numel / known;
  } else if (known != numel) {
    throw ShapeError(fmt::format("tinynn::{}: cannot reshape {} ({} elements) into {} ({} elements)", fn,
                                 shape_str(from), numel, shape_str(requested), known));
  }
  return shape;
}

// Strides giving `shape` over the same memory as (old_shape, old_strides), if any exist.
// Old axes are taken in chunks that are contiguous with each other (from the innermost out);
// each chunk must be exactly covered by a run of new axes, which then split its memory evenly.
std::optional<Shape> view_strides(Shape old_shape, Shape old_strides, const Shape& shape) {
  if (numel_of(old_shape) == 0) return contiguous_strides(shape);
  if (old_shape.empty()) old_shape = old_strides = {1};
  Shape strides(shape.size());
  std::int64_t view_axis = static_cast<std::int64_t>(shape.size()) - 1;
  std::int64_t chunk_stride = old_strides.back();
  std::int64_t chunk_numel = 1, view_numel = 1;
  for (std::int64_t d = static_cast<std::int64_t>(old_shape.size()) - 1; d >= 0; --d) {
    chunk_numel *= old_shape[d];
    const bool chunk_ends = d == 0 || (old_shape[d - 1] != 1 && old_strides[d - 1] != chunk_numel * chunk_stride);
    if (!chunk_ends) continue;
    while (view_axis >= 0 && (view_numel < chunk_numel || shape[view_axis] == 1)) {
      strides[view_axis] = view_numel * chunk_stride;
      view_numel *= shape[view_axis];
      --view_axis;
    }
    if (view_numel != chunk_numel) return std::nullopt;
    if (d > 0) {
      chunk_stride = old_strides[d - 1];
      chunk_numel = view_numel = 1;
    }
  }
  if (view_axis != -1) return std::nullopt;
  return strides;
}
}  // namespace

Tensor Tensor::view(const Shape& requested) const {
  const Shape shape = infer_shape(requested, numel(), "view", this->shape());
  auto strides = view_strides(this->shape(), this->strides(), shape);
  if (!strides)
    throw ShapeError(fmt::format("tinynn::view: cannot view {} with strides {} as {} without a copy; use reshape",
                                 shape_str(this->shape()), shape_str(this->strides()), shape_str(shape)));
  return view_of(*this, shape, *strides, offset());
}

Tensor Tensor::reshape(const Shape& requested) const {
  const Shape shape = infer_shape(requested, numel(), "reshape", this->shape());
  if (auto strides = view_strides(this->shape(), this->strides(), shape)) return view_of(*this, shape, *strides, offset());
  return clone().view(shape);
}

Tensor Tensor::transpose(std::int64_t a, std::int64_t b) const {
  const int ia = normalize_axis(a, dim(), "transpose"), ib = normalize_axis(b, dim(), "transpose");
  if (dim() == 0) return *this;
  Shape shape = this->shape(), strides = this->strides();
  std::swap(shape[ia], shape[ib]);
  std::swap(strides[ia], strides[ib]);
  Axes order(static_cast<std::size_t>(dim()));
  for (int i = 0; i < dim(); ++i) order[i] = i;
  std::swap(order[ia], order[ib]);
  return view_of(*this, shape, strides, offset(), permute_record(order));
}

Tensor Tensor::permute(const Axes& order) const {
  if (static_cast<int>(order.size()) != dim())
    throw ShapeError(fmt::format("tinynn::permute: {} axes given for a tensor of shape {}", order.size(), shape_str(shape())));
  Shape shape(order.size()), strides(order.size());
  std::vector<bool> seen(order.size(), false);
  for (std::size_t i = 0; i < order.size(); ++i) {
    const int ax = normalize_axis(order[i], dim(), "permute");
    if (seen[ax]) throw ShapeError(fmt::format("tinynn::permute: axis {} appears twice in the order", order[i]));
    seen[ax] = true;
    shape[i] = this->shape()[ax];
    strides[i] = this->strides()[ax];
  }
  return view_of(*this, shape, strides, offset(), permute_record(order));
}

Tensor Tensor::t() const {
  if (dim() > 2) throw ShapeError(fmt::format("tinynn::t: expects at most 2 dimensions, got shape {}; use transpose", shape_str(shape())));
  return dim() < 2 ? *this : transpose(0, 1);
}

Tensor Tensor::squeeze() const {
  Shape shape, strides;
  for (int i = 0; i < dim(); ++i)
    if (this->shape()[i] != 1) {
      shape.push_back(this->shape()[i]);
      strides.push_back(this->strides()[i]);
    }
  return view_of(*this, shape, strides, offset());
}

Tensor Tensor::squeeze(std::int64_t axis) const {
  const int ax = normalize_axis(axis, dim(), "squeeze");
  if (dim() == 0 || shape()[ax] != 1) return *this;  // PyTorch leaves non-1 axes alone
  Shape shape = this->shape(), strides = this->strides();
  shape.erase(shape.begin() + ax);
  strides.erase(strides.begin() + ax);
  return view_of(*this, shape, strides, offset());
}

Tensor Tensor::unsqueeze(std::int64_t axis) const {
  const int ax = normalize_axis(axis, dim() + 1, "unsqueeze");
  Shape shape = this->shape(), strides = this->strides();
  const std::int64_t stride = ax < dim() ? strides[ax] * shape[ax] : 1;
  shape.insert(shape.begin() + ax, 1);
  strides.insert(strides.begin() + ax, stride);
  return view_of(*this, shape, strides, offset());
}

Tensor Tensor::flatten(std::int64_t start, std::int64_t end) const {
  if (dim() == 0) return reshape({1});
  const int s = normalize_axis(start, dim(), "flatten"), e = normalize_axis(end, dim(), "flatten");
  if (s > e) throw IndexError(fmt::format("tinynn::flatten: start axis {} comes after end axis {}", start, end));
  Shape shape(this->shape().begin(), this->shape().begin() + s);
  std::int64_t merged = 1;
  for (int i = s; i <= e; ++i) merged *= this->shape()[i];
  shape.push_back(merged);
  shape.insert(shape.end(), this->shape().begin() + e + 1, this->shape().end());
  return reshape(shape);
}

Tensor Tensor::expand(const Shape& target) const {
  if (target.size() < static_cast<std::size_t>(dim()))
    throw ShapeError(fmt::format("tinynn::expand: cannot expand {} to fewer dimensions {}", shape_str(shape()), shape_str(target)));
  const std::size_t lead = target.size() - dim();
  Shape shape(target.size()), strides(target.size(), 0);
  for (std::size_t i = 0; i < target.size(); ++i) {
    const bool existing = i >= lead;
    const std::int64_t have = existing ? this->shape()[i - lead] : 1;
    const std::int64_t want = target[i] == -1 && existing ? have : target[i];
    if (have != want && have != 1)
      throw ShapeError(fmt::format("tinynn::expand: cannot expand {} to {}: size {} at axis {} is not 1",
                                   shape_str(this->shape()), shape_str(target), have, i));
    shape[i] = want;
    strides[i] = existing && have == want ? this->strides()[i - lead] : 0;
  }
  return view_of(*this, shape, strides, offset(), {detail::OpKind::Expand, {}});
}

Tensor Tensor::slice(std::int64_t axis, std::int64_t start, std::int64_t end, std::int64_t step) const {
  const int ax = normalize_axis(axis, dim(), "slice");
  if (dim() == 0) throw IndexError("tinynn::slice: cannot slice a 0-d tensor");
  if (step <= 0) throw ValueError(fmt::format("tinynn::slice: step must be positive, got {}", step));
  const std::int64_t n = shape()[ax];
  auto clip = [n](std::int64_t i) { return std::clamp<std::int64_t>(i < 0 ? i + n : i, 0, n); };
  const std::int64_t s = clip(start), e = std::max(clip(end), s);
  Shape shape = this->shape(), strides = this->strides();
  shape[ax] = (e - s + step - 1) / step;
  strides[ax] *= step;
  detail::OpRecord rec{detail::OpKind::Slice, {}};
  rec.axis = ax;
  rec.start = s;
  rec.end = e;
  rec.step = step;
  return view_of(*this, shape, strides, offset() + s * this->strides()[ax], std::move(rec));
}

Tensor Tensor::narrow(std::int64_t axis, std::int64_t start, std::int64_t length) const {
  const int ax = normalize_axis(axis, dim(), "narrow");
  const std::int64_t n = dim() == 0 ? 1 : shape()[ax];
  const std::int64_t s = start < 0 ? start + n : start;
  if (s < 0 || length < 0 || s + length > n)
    throw IndexError(fmt::format("tinynn::narrow: range [{}, {}) is outside axis {} of size {} (shape {})", start,
                                 start + length, axis, n, shape_str(shape())));
  return slice(ax, s, s + length);
}

Tensor Tensor::select(std::int64_t axis, std::int64_t index) const {
  if (dim() == 0) throw IndexError("tinynn::select: cannot index a 0-d tensor");
  const int ax = normalize_axis(axis, dim(), "select");
  const std::int64_t n = shape()[ax];
  if (index < -n || index >= n)
    throw IndexError(fmt::format("tinynn::select: index {} is out of range for axis {} of size {} (shape {})", index,
                                 axis, n, shape_str(shape())));
  const std::int64_t i = index < 0 ? index + n : index;
  Shape shape = this->shape(), strides = this->strides();
  const std::int64_t off = offset() + i * strides[ax];
  shape.erase(shape.begin() + ax);
  strides.erase(strides.begin() + ax);
  detail::OpRecord rec{detail::OpKind::Select, {}};
  rec.axis = ax;
  rec.start = i;
  return view_of(*this, shape, strides, off, std::move(rec));
}

// ---- member shorthands ---------------------------------------------------------------------

Tensor Tensor::sum(const Axes& axes, bool keepdim) const { return tinynn::sum(*this, axes, keepdim); }
Tensor Tensor::mean(const Axes& axes, bool keepdim) const { return tinynn::mean(*this, axes, keepdim); }
Tensor Tensor::max(const Axes& axes, bool keepdim) const { return amax(*this, axes, keepdim); }
Tensor Tensor::min(const Axes& axes, bool keepdim) const { return amin(*this, axes, keepdim); }
Tensor Tensor::argmax(std::optional<std::int64_t> axis, bool keepdim) const { return tinynn::argmax(*this, axis, keepdim); }
Tensor Tensor::exp() const { return tinynn::exp(*this); }
Tensor Tensor::log() const { return tinynn::log(*this); }
Tensor Tensor::abs() const { return tinynn::abs(*this); }
Tensor Tensor::sqrt() const { return tinynn::sqrt(*this); }
Tensor Tensor::pow(Scalar exponent) const { return tinynn::pow(*this, exponent); }
Tensor Tensor::matmul(const Tensor& other) const { return tinynn::matmul(*this, other); }

}  // namespace tinynn
