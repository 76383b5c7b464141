// Printing tensors like PyTorch: values (summarized when large), then shape, dtype and device.
#pragma once
#include <iosfwd>
#include <string>

#include "tensor.h"

namespace tinynn {

std::ostream& operator<<(std::ostream& os, const Tensor& t);
std::ostream& operator<<(std::ostream& os, DType t);
std::ostream& operator<<(std::ostream& os, const Device& d);
std::string to_string(const Tensor& t);

}  // namespace tinynn
