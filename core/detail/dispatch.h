// Runs a block of code with `T` bound to the C++ type of a runtime dtype.
#pragma once
#include <cstdint>

#include "../dtype.h"

#define TINYNN_DTYPE_CASE(enum_value, type, ...) \
  case ::tinynn::DType::enum_value: {           \
    using T = type;                             \
    __VA_ARGS__;                                \
    break;                                      \
  }

#define TINYNN_DISPATCH_ALL(dtype, ...)                      \
  switch (dtype) {                                           \
    TINYNN_DTYPE_CASE(Bool, bool, __VA_ARGS__)               \
    TINYNN_DTYPE_CASE(Int64, std::int64_t, __VA_ARGS__)      \
    TINYNN_DTYPE_CASE(Float32, float, __VA_ARGS__)           \
    TINYNN_DTYPE_CASE(Float64, double, __VA_ARGS__)          \
  }

#define TINYNN_DISPATCH_NUMERIC(dtype, ...)                  \
  switch (dtype) {                                           \
    TINYNN_DTYPE_CASE(Int64, std::int64_t, __VA_ARGS__)      \
    TINYNN_DTYPE_CASE(Float32, float, __VA_ARGS__)           \
    TINYNN_DTYPE_CASE(Float64, double, __VA_ARGS__)          \
    default: break;                                          \
  }

#define TINYNN_DISPATCH_FLOATING(dtype, ...)                 \
  switch (dtype) {                                           \
    TINYNN_DTYPE_CASE(Float32, float, __VA_ARGS__)           \
    TINYNN_DTYPE_CASE(Float64, double, __VA_ARGS__)          \
    default: break;                                          \
  }
