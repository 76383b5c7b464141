// Every pointwise op's test inputs in one place: its parameters and the input range where it is
// defined and smooth. The table tests, the gradchecks and the CUDA parity tests all read it.
#pragma once
#include <tinynn/core/pointwise_table.h>

namespace tinynn::test {

struct OpDomain {
  UnaryParams params{};
  double lo = -3, hi = 3;
};

inline OpDomain unary_domain(UnaryOp op) {
  switch (op) {
    case UnaryOp::LeakyRelu: return {{0.1, 0}};
    case UnaryOp::Clamp: return {{-0.5, 0.7}};
    case UnaryOp::PowScalar: return {{2.5, 0}, 0.1, 5};
    case UnaryOp::Log:
    case UnaryOp::Sqrt:
    case UnaryOp::Rsqrt: return {{}, 0.1, 5};
    case UnaryOp::Log1p: return {{}, -0.5, 5};
    default: return {};
  }
}

}  // namespace tinynn::test
