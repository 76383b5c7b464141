// The safetensors format (8-byte little-endian header size, a JSON header naming each tensor's
// dtype, shape and byte range, then raw little-endian data), so checkpoints open in Python.
#pragma once
#include <map>
#include <string>

#include "../../core/error.h"
#include "../../core/tensor.h"

namespace tinynn::nn {

struct SafetensorsFile {
  std::map<std::string, Tensor> tensors;
  std::map<std::string, std::string> metadata;  // the "__metadata__" entry
};

// Writes atomically: a temporary file in the same directory, flushed to disk, then renamed
// over `path`, so an interrupted save never leaves a partial file or destroys the previous one.
void save_safetensors(const std::string& path, const std::map<std::string, Tensor>& tensors,
                      const std::map<std::string, std::string>& metadata = {});

// Reads and validates everything (size, header JSON, dtypes, shapes, offsets inside the file
// and matching the shapes); any problem throws CheckpointError naming the file and the fault.
SafetensorsFile load_safetensors(const std::string& path);

class CheckpointError : public Error {
  using Error::Error;
};

}  // namespace tinynn::nn
