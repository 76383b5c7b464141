// Products: dot, mv, mm, outer, bmm, and matmul with torch.matmul semantics (1-D promotion,
// broadcast batch axes). Float32 runs on oneDNN on the CPU; other dtypes on the reference loop.
// And the epilogue of a dense layer, bias + activation, fused into one pass each way.
#pragma once
#include "pointwise_table.h"
#include "tensor.h"

namespace tinynn {

Tensor dot(const Tensor& a, const Tensor& b);    // [n] . [n] -> []
Tensor mv(const Tensor& a, const Tensor& x);     // [m, n] @ [n] -> [m]
Tensor mm(const Tensor& a, const Tensor& b);     // [m, k] @ [k, n] -> [m, n]
Tensor outer(const Tensor& a, const Tensor& b);  // [m], [n] -> [m, n]
Tensor bmm(const Tensor& a, const Tensor& b);    // [b, m, k] @ [b, k, n] -> [b, m, n]
Tensor matmul(const Tensor& a, const Tensor& b);

// activation(x + bias) for x [..., F] and bias [F] (undefined: no bias), where activation is a
// row of the pointwise table (relu, leaky_relu, sigmoid, tanh, gelu...). Equal to
// unary(op, x + bias, params), in one pass forward and one backward (core/bias_activation.cpp).
Tensor bias_activation(const Tensor& x, const Tensor& bias, UnaryOp op, UnaryParams params = {});

namespace detail {
// out = a @ b for a [m, k] and b [k, n] of out's dtype and device, written into `out` [m, n]
// (contiguous), not recorded: backward formulas use it to write a weight's gradient straight
// into its preallocated home (a flat gradient buffer).
void matmul_into(const Tensor& out, const Tensor& a, const Tensor& b);
}  // namespace detail

}  // namespace tinynn
