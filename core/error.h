// The exceptions tinynn throws. Messages name the function, the shapes and the rule that failed.
#pragma once
#include <stdexcept>
#include <string>

namespace tinynn {

class Error : public std::runtime_error {
 public:
  using std::runtime_error::runtime_error;
};
class ShapeError : public Error { using Error::Error; };           // shapes do not fit the rule
class DTypeError : public Error { using Error::Error; };           // unsupported or mismatched dtype
class DeviceError : public Error { using Error::Error; };          // wrong, mismatched or absent device
class IndexError : public Error { using Error::Error; };           // axis or element index out of range
class ValueError : public Error { using Error::Error; };           // a bad argument value
class NotImplementedError : public Error { using Error::Error; };  // valid request, not built for this backend
class OutOfMemoryError : public Error { using Error::Error; };     // the device lacks the memory asked for

}  // namespace tinynn
