// The shape check every tinynn::linalg function starts with (core/linalg*.cpp).
#pragma once
#include <fmt/format.h>

#include "../error.h"
#include "../tensor.h"

namespace tinynn::detail {

inline void require_matrix_dims(const char* fn, const Tensor& a) {
  if (a.dim() < 2)
    throw ShapeError(fmt::format("tinynn::linalg::{}: expected a matrix or a batch of matrices [..., m, n], got shape {}",
                                 fn, shape_str(a.shape())));
}

}  // namespace tinynn::detail
