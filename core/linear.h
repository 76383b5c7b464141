// Products: dot, mv, mm, outer, bmm, and matmul with torch.matmul semantics (1-D promotion,
// broadcast batch axes). Float32 runs on oneDNN on the CPU; other dtypes on the reference loop.
#pragma once
#include "tensor.h"

namespace tinynn {

Tensor dot(const Tensor& a, const Tensor& b);    // [n] . [n] -> []
Tensor mv(const Tensor& a, const Tensor& x);     // [m, n] @ [n] -> [m]
Tensor mm(const Tensor& a, const Tensor& b);     // [m, k] @ [k, n] -> [m, n]
Tensor outer(const Tensor& a, const Tensor& b);  // [m], [n] -> [m, n]
Tensor bmm(const Tensor& a, const Tensor& b);    // [b, m, k] @ [b, k, n] -> [b, m, n]
Tensor matmul(const Tensor& a, const Tensor& b);

}  // namespace tinynn
