// FlatParameters and the single-buffer view of gradients.
#include "flat_parameters.h"

#include <fmt/format.h>

#include <algorithm>
#include <unordered_set>

#include "../autograd/autograd.h"
#include "../core/creation.h"
#include "../core/error.h"

namespace tinynn::nn {

namespace {

std::vector<Tensor> distinct(const std::vector<Tensor>& parameters) {
  std::vector<Tensor> out;
  std::unordered_set<const TensorImpl*> seen;
  for (const Tensor& p : parameters)
    if (p.defined() && seen.insert(p.impl().get()).second) out.push_back(p);
  return out;
}

}  // namespace

bool FlatParameters::can_flatten(const std::vector<Tensor>& parameters) {
  const std::vector<Tensor> params = distinct(parameters);
  if (params.empty()) return false;
  std::unordered_set<const void*> storages;
  for (const Tensor& p : params) {
    if (!p.is_leaf() || p.dtype() != params.front().dtype() || p.device() != params.front().device()) return false;
    // Parameters that share memory (tied weights, views of one tensor) stay as they are: copies
    // into the buffer would untie them.
    if (!storages.insert(p.impl()->storage.get()).second) return false;
  }
  return true;
}

FlatParameters::FlatParameters(const std::vector<Tensor>& parameters) {
  if (!can_flatten(parameters))
    throw ValueError("tinynn::nn::FlatParameters: the parameters must be leaves of one dtype and device, none sharing memory");
  const std::vector<Tensor> params = distinct(parameters);
  std::int64_t total = 0;
  for (const Tensor& p : params) total += p.numel();
  values_ = empty({total}, params.front().dtype(), params.front().device());
  grads_ = zeros({total}, {params.front().dtype(), params.front().device()});
  NoGradGuard no_grad;
  std::int64_t at = 0;
  for (const Tensor& p : params) {
    const std::int64_t n = p.numel();
    const Tensor value = values_.narrow(0, at, n).view(p.shape()), slot = grads_.narrow(0, at, n).view(p.shape());
    Tensor(value).copy_(p);
    if (p.grad().defined()) Tensor(slot).copy_(p.grad());
    detail::rebind_memory(p, value);
    set_grad_slot(p, slot);
    if (p.grad().defined()) Tensor(p).set_grad(slot);
    at += n;
  }
}

Tensor flat_gradient_view(const std::vector<Tensor>& parameters) {
  std::vector<Tensor> grads;
  grads.reserve(parameters.size());
  for (const Tensor& p : parameters) {
    Tensor g = p.grad();
    if (!g.defined() || !g.is_contiguous() || !g.shares_storage_with(parameters.front().grad())) return Tensor();
    grads.push_back(std::move(g));
  }
  if (grads.empty()) return Tensor();
  std::sort(grads.begin(), grads.end(), [](const Tensor& a, const Tensor& b) { return a.offset() < b.offset(); });
  std::int64_t end = grads.front().offset();
  for (const Tensor& g : grads) {
    if (g.offset() != end) return Tensor();  // a gap, an overlap or a parameter listed twice
    end += g.numel();
  }
  const Tensor& first = grads.front();
  return make_tensor(first.impl()->storage, {end - first.offset()}, {1}, first.offset(), first.dtype());
}

}  // namespace tinynn::nn
