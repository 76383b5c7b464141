// Element types of tensors: names, sizes, promotion rules, and the C++ type of each.
#pragma once
#include <cstddef>
#include <cstdint>
#include <string>

namespace tinynn {

// Ordered by promotion rank: a binary op between two dtypes yields the larger one.
enum class DType : std::uint8_t { Bool, Int64, Float32, Float64 };

std::size_t dtype_size(DType t);
const char* dtype_name(DType t);  // "float32", "int64", ...
inline bool is_floating(DType t) { return t == DType::Float32 || t == DType::Float64; }

// NumPy/PyTorch promotion between tensor dtypes: bool < int64 < float32 < float64.
DType promote_types(DType a, DType b);

template <class T> struct DTypeOf;
template <> struct DTypeOf<bool> { static constexpr DType value = DType::Bool; };
template <> struct DTypeOf<std::int64_t> { static constexpr DType value = DType::Int64; };
template <> struct DTypeOf<float> { static constexpr DType value = DType::Float32; };
template <> struct DTypeOf<double> { static constexpr DType value = DType::Float64; };
template <class T> inline constexpr DType dtype_of = DTypeOf<T>::value;

}  // namespace tinynn
