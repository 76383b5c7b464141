// A trained model as an ONNX file (IR version 8, opset 17) that ONNX Runtime, TensorRT, OpenVINO
// or a browser can run: every layer tinynn builds, with the config's input preprocessing as the
// graph's first nodes, a dynamic batch axis, and named inputs and outputs. `tinynn export` runs it.
#pragma once
#include <optional>
#include <string>
#include <vector>

#include "../../core/error.h"
#include "../../core/shape.h"
#include "../module.h"

namespace tinynn::nn {

struct Config;

// A model that ONNX cannot express as tinynn computes it (a custom module, adaptive pooling whose
// windows are uneven); the message names the layer.
class ExportError : public Error {
  using Error::Error;
};

struct OnnxExportOptions {
  // The graph's input is the raw sample; its first nodes compute (input * scale - mean) / std as
  // the data pipeline does (data.scale, data.normalize). Absent mean/std: no node.
  double scale = 1.0;
  std::optional<double> mean, std;
  // Adds the output "probabilities": softmax over the model's outputs (what `tinynn predict` shows).
  bool probabilities = false;
  std::vector<std::string> class_names;  // written to the model's metadata ("class_names", a JSON list)
};

// The options a config implies: its scaling, its resolved normalization statistics, and for a
// classification config the probabilities output and the class names.
OnnxExportOptions onnx_options_for(const Config& config);

// What was written, for the CLI's report.
struct OnnxExportSummary {
  std::string input;                 // "input"
  Shape input_shape;                 // the sample's, after the dynamic batch axis
  std::vector<std::string> outputs;  // "outputs", and "probabilities" when asked
  std::int64_t output_size = 0;      // values per sample of each output
  std::int64_t nodes = 0, parameters = 0;
};

// The model (in eval mode: dropout is the identity, batch norm uses its running statistics) for
// samples of `sample_shape`, as the bytes of an ONNX ModelProto. Parameters are stored as float32,
// the precision ONNX runtimes compute in. Throws ExportError naming any layer that cannot be exported.
std::string onnx_model_bytes(Module& model, const Shape& sample_shape, const OnnxExportOptions& options = {},
                             OnnxExportSummary* summary = nullptr);

// Writes onnx_model_bytes to `path` (atomically: an old file stays whole if this fails).
OnnxExportSummary export_onnx(Module& model, const Shape& sample_shape, const std::string& path,
                              const OnnxExportOptions& options = {});

}  // namespace tinynn::nn
