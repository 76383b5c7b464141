// Shapes and strides: element counts, contiguous strides, broadcasting, axis normalization.
#pragma once
#include <cstdint>
#include <string>
#include <vector>

namespace tinynn {

using Shape = std::vector<std::int64_t>;

std::int64_t numel_of(const Shape& shape);
Shape contiguous_strides(const Shape& shape);
std::string shape_str(const Shape& shape);  // "[2, 3]"

// NumPy/PyTorch broadcasting: align from the right; sizes must match or one must be 1.
// `fn` names the calling operation in the error message.
Shape broadcast_shapes(const Shape& a, const Shape& b, const char* fn);

// Maps a possibly negative axis into [0, ndim); throws IndexError naming `fn` otherwise.
int normalize_axis(std::int64_t axis, int ndim, const char* fn);

}  // namespace tinynn
