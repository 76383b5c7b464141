// ONNX export: each layer type's nodes (one function per type, dispatched in export_layer), the
// graph around them, and the ModelProto written in protobuf's wire format (detail/protobuf_writer.h).
// Field numbers are onnx.proto's; the ops and attributes are those of the default domain, opset 17.
#include "onnx_export.h"

#include <fmt/format.h>
#include <nlohmann/json.hpp>

#include <cmath>
#include <variant>

#include "../../autograd/autograd.h"
#include "../../core/creation.h"
#include "../../core/version.h"
#include "../conv_layers.h"
#include "../layers.h"
#include "../normalization.h"
#include "../sequential.h"
#include "atomic_file.h"
#include "config.h"
#include "detail/protobuf_writer.h"

namespace tinynn::nn {

namespace {

using detail::ProtoWriter;

constexpr std::int64_t kIrVersion = 8, kOpset = 17;
constexpr int kFloat = 1, kInt64 = 7;  // TensorProto.DataType

// An attribute: INT, FLOAT or INTS (AttributeProto.AttributeType 2, 1, 7).
struct Attribute {
  std::string name;
  std::variant<std::int64_t, float, std::vector<std::int64_t>> value;
};

ProtoWriter attribute_proto(const Attribute& a) {
  ProtoWriter w;
  w.bytes(1, a.name);
  if (const auto* i = std::get_if<std::int64_t>(&a.value)) w.varint(3, *i), w.varint(20, 2);
  else if (const auto* f = std::get_if<float>(&a.value)) w.float32(2, *f), w.varint(20, 1);
  else w.packed_varints(8, std::get<std::vector<std::int64_t>>(a.value)), w.varint(20, 7);
  return w;
}

// TypeProto of a float32 tensor whose first axis is the dynamic "batch".
ProtoWriter batched_tensor_type(const Shape& sample) {
  ProtoWriter shape;
  ProtoWriter batch;
  batch.bytes(2, "batch");  // Dimension.dim_param
  shape.message(1, batch);
  for (const std::int64_t d : sample) {
    ProtoWriter dim;
    dim.varint(1, d);  // Dimension.dim_value
    shape.message(1, dim);
  }
  ProtoWriter tensor;
  tensor.varint(1, kFloat);
  tensor.message(2, shape);
  ProtoWriter type;
  type.message(1, tensor);  // TypeProto.tensor_type
  return type;
}

ProtoWriter value_info(const std::string& name, const Shape& sample) {
  ProtoWriter w;
  w.bytes(1, name);
  w.message(2, batched_tensor_type(sample));
  return w;
}

// The graph under construction: nodes in order, initializers, unique value names.
class Graph {
 public:
  // A float32 initializer holding `t` (any dtype or device), named as the parameter is.
  std::string initializer(const std::string& name, const Tensor& t) {
    const std::vector<float> values = t.to(Device::cpu()).contiguous().to_vector<float>();
    ProtoWriter w;
    w.packed_varints(1, std::vector<std::int64_t>(t.shape().begin(), t.shape().end()));
    w.varint(2, kFloat);
    w.bytes(8, name);
    w.bytes(9, std::string_view(reinterpret_cast<const char*>(values.data()), values.size() * sizeof(float)));
    initializers_.push_back(std::move(w));
    return name;
  }
  std::string scalar(const std::string& name, double value) { return initializer(name, full({}, value)); }
  std::string int64_vector(const std::string& name, const std::vector<std::int64_t>& values) {
    ProtoWriter w;
    w.packed_varints(1, {static_cast<std::int64_t>(values.size())});
    w.varint(2, kInt64);
    w.packed_varints(7, values);
    w.bytes(8, name);
    initializers_.push_back(std::move(w));
    return name;
  }

  // Appends a node `name` running `op` on `inputs` and returns its output's name (`output`, or
  // the node's name when empty). An empty input name is an omitted optional input.
  std::string node(const std::string& op, const std::string& name, const std::vector<std::string>& inputs,
                   const std::vector<Attribute>& attributes = {}, std::string output = "") {
    if (output.empty()) output = name;
    ProtoWriter w;
    for (const std::string& in : inputs) w.bytes(1, in);
    w.bytes(2, output);
    w.bytes(3, name);
    w.bytes(4, op);
    for (const Attribute& a : attributes) w.message(5, attribute_proto(a));
    nodes_.push_back(std::move(w));
    return output;
  }

  ProtoWriter graph_proto(const std::vector<ProtoWriter>& inputs, const std::vector<ProtoWriter>& outputs) const {
    ProtoWriter g;
    for (const ProtoWriter& n : nodes_) g.message(1, n);
    g.bytes(2, "tinynn");
    for (const ProtoWriter& t : initializers_) g.message(5, t);
    for (const ProtoWriter& v : inputs) g.message(11, v);
    for (const ProtoWriter& v : outputs) g.message(12, v);
    return g;
  }
  std::int64_t node_count() const { return static_cast<std::int64_t>(nodes_.size()); }

 private:
  std::vector<ProtoWriter> nodes_, initializers_;
};

// A layer being exported: where it stands in the model ("3", "block.0"), its input value, and the
// example tensors it maps (a batch of one traced through the model), for the shapes.
struct Layer {
  Graph& g;
  std::string path;
  std::string input;
  const Tensor& x;  // the layer's input on the traced sample
  const Tensor& y;  // its output
  // Node names "3/Gemm", initializers named as state_dict() names the parameters ("3.weight").
  std::string name(const std::string& what) const { return path.empty() ? what : path + "/" + what; }
  std::string param(const std::string& what) const { return path.empty() ? what : path + "." + what; }
};

[[noreturn]] void cannot_export(const Layer& l, const Module& m, const std::string& why) {
  const std::string which = l.path.empty() ? "the model" : "layer " + l.path;
  throw ExportError(fmt::format("tinynn::nn::export_onnx: {} ({}) cannot be exported to ONNX: {}", which, m.describe(), why));
}

std::vector<std::int64_t> pair(Size2 s) { return {s[0], s[1]}; }
std::vector<std::int64_t> pads(Size2 p) { return {p[0], p[1], p[0], p[1]}; }  // top, left, bottom, right

// ---- one function per layer type -------------------------------------------------------------

// y = x Wᵀ + b. Gemm takes W [out, in] as stored; inputs with more than two axes take MatMul.
std::string export_linear(const Linear& m, const Layer& l) {
  const std::string b = m.bias().defined() ? l.g.initializer(l.param("bias"), m.bias()) : "";
  if (l.x.dim() == 2)
    return l.g.node("Gemm", l.name("Gemm"), {l.input, l.g.initializer(l.param("weight"), m.weight()), b},
                    {{"transB", std::int64_t{1}}});
  const std::string wt = l.g.initializer(l.param("weight_transposed"), m.weight().transpose(0, 1));
  const std::string xw = l.g.node("MatMul", l.name("MatMul"), {l.input, wt});
  return b.empty() ? xw : l.g.node("Add", l.name("Add"), {xw, b});
}

// Every activation row of the op table (a test walks them all, so a new row needs its case here).
std::string export_pointwise(const Pointwise& m, const Layer& l) {
  const double a = m.params().a;
  switch (m.op()) {
    case UnaryOp::Relu: return l.g.node("Relu", l.name("Relu"), {l.input});
    case UnaryOp::LeakyRelu: return l.g.node("LeakyRelu", l.name("LeakyRelu"), {l.input}, {{"alpha", static_cast<float>(a)}});
    case UnaryOp::Tanh: return l.g.node("Tanh", l.name("Tanh"), {l.input});
    case UnaryOp::Sigmoid: return l.g.node("Sigmoid", l.name("Sigmoid"), {l.input});
    case UnaryOp::Softplus: return l.g.node("Softplus", l.name("Softplus"), {l.input});
    case UnaryOp::Gelu: {
      // Exact GELU, x · ½(1 + erf(x/√2)): opset 17 has no Gelu op (it came in opset 20).
      const std::string scaled = l.g.node("Div", l.name("Div"), {l.input, l.g.scalar(l.param("sqrt2"), std::sqrt(2.0))});
      const std::string erf = l.g.node("Erf", l.name("Erf"), {scaled});
      const std::string one_plus = l.g.node("Add", l.name("Add"), {erf, l.g.scalar(l.param("one"), 1.0)});
      const std::string times_x = l.g.node("Mul", l.name("Mul"), {l.input, one_plus});
      return l.g.node("Mul", l.name("Half"), {times_x, l.g.scalar(l.param("half"), 0.5)});
    }
    default: cannot_export(l, m, fmt::format("the pointwise op '{}' has no ONNX mapping", unary_op_name(m.op())));
  }
}

std::string export_softmax(const Softmax& m, const Layer& l) {
  const char* op = m.is_log() ? "LogSoftmax" : "Softmax";
  return l.g.node(op, l.name(op), {l.input}, {{"axis", m.axis()}});
}

std::string export_flatten(const Flatten& m, const Layer& l) {
  const std::int64_t rank = l.x.dim();
  const std::int64_t start = m.start_axis() < 0 ? m.start_axis() + rank : m.start_axis();
  const std::int64_t end = m.end_axis() < 0 ? m.end_axis() + rank : m.end_axis();
  if (start == 1 && end == rank - 1) return l.g.node("Flatten", l.name("Flatten"), {l.input}, {{"axis", std::int64_t{1}}});
  // Any other range: a Reshape to the traced shape, the batch axis kept (0 copies it) or, when it
  // is merged away, inferred (-1).
  std::vector<std::int64_t> shape(l.y.shape().begin(), l.y.shape().end());
  shape[0] = start == 0 ? -1 : 0;
  return l.g.node("Reshape", l.name("Reshape"), {l.input, l.g.int64_vector(l.param("shape"), shape)});
}

// Eval-mode batch norm: the running statistics. Without affine parameters, scale 1 and shift 0.
std::string export_batch_norm(const BatchNorm& m, const Layer& l) {
  const std::int64_t c = m.running_mean().numel();
  const std::string scale = l.g.initializer(l.param("weight"), m.weight().defined() ? m.weight() : ones({c}));
  const std::string shift = l.g.initializer(l.param("bias"), m.bias().defined() ? m.bias() : zeros({c}));
  return l.g.node("BatchNormalization", l.name("BatchNormalization"),
                  {l.input, scale, shift, l.g.initializer(l.param("running_mean"), m.running_mean()),
                   l.g.initializer(l.param("running_var"), m.running_var())},
                  {{"epsilon", static_cast<float>(m.eps())}});
}

std::string export_layer_norm(const LayerNorm& m, const Layer& l) {
  const Shape& shape = m.normalized_shape();
  const std::string scale = l.g.initializer(l.param("weight"), m.weight().defined() ? m.weight() : ones(shape));
  const std::string shift = l.g.initializer(l.param("bias"), m.bias().defined() ? m.bias() : zeros(shape));
  return l.g.node("LayerNormalization", l.name("LayerNormalization"), {l.input, scale, shift},
                  {{"axis", -static_cast<std::int64_t>(shape.size())}, {"epsilon", static_cast<float>(m.eps())}});
}

std::string export_conv2d(const Conv2d& m, const Layer& l) {
  const std::string w = l.g.initializer(l.param("weight"), m.weight());
  const std::string b = m.bias().defined() ? l.g.initializer(l.param("bias"), m.bias()) : "";
  return l.g.node("Conv", l.name("Conv"), {l.input, w, b},
                  {{"kernel_shape", pair(m.kernel_size())}, {"strides", pair(m.stride())}, {"pads", pads(m.padding())},
                   {"dilations", pair(m.dilation())}, {"group", m.groups()}});
}

// ONNX sizes a ceil-mode pool with ceil((in + 2p - d(k-1) - 1) / s) + 1 windows; PyTorch (and
// tinynn) drop a last window that would start in the right padding. Whichever rounding gives the
// traced size is the one to ask for: the two differ only when PyTorch's rule dropped a window.
std::int64_t pool_ceil_mode(const Pool2d& m, const Layer& l) {
  const Size2 k = m.kernel_size(), s = m.stride(), p = m.padding(), d = m.dilation();
  bool needs_ceil[2], allows_ceil[2];  // per axis: only rounding up gives the traced size / it gives it
  for (int axis = 0; axis < 2; ++axis) {
    const std::int64_t span = l.x.shape()[2 + axis] + 2 * p[axis] - d[axis] * (k[axis] - 1) - 1;
    const std::int64_t up = (span + s[axis] - 1) / s[axis] + 1, down = span / s[axis] + 1, traced = l.y.shape()[2 + axis];
    allows_ceil[axis] = up == traced;
    needs_ceil[axis] = allows_ceil[axis] && down != traced;
  }
  const std::int64_t ceil = needs_ceil[0] || needs_ceil[1];
  if (ceil && !(allows_ceil[0] && allows_ceil[1]))
    cannot_export(l, m, "one axis needs ONNX's ceil_mode and the other, where PyTorch's rule drops a last window, must not have it");
  if (ceil && !m.is_max() && (p[0] > 0 || p[1] > 0) && m.count_include_pad())
    // A partial last window's divisor: PyTorch counts the padding only up to the padded edge.
    cannot_export(l, m, "ceil_mode with padding and count_include_pad divides partial windows differently in ONNX");
  return ceil;
}

std::string export_pool2d(const Pool2d& m, const Layer& l) {
  const std::int64_t ceil = pool_ceil_mode(m, l);
  std::vector<Attribute> attributes = {{"kernel_shape", pair(m.kernel_size())}, {"strides", pair(m.stride())},
                                       {"pads", pads(m.padding())}, {"ceil_mode", ceil}};
  if (m.is_max()) {
    attributes.push_back({"dilations", pair(m.dilation())});
    return l.g.node("MaxPool", l.name("MaxPool"), {l.input}, attributes);
  }
  // Without padding both divisors agree, and runtimes differ on count_include_pad's partial windows.
  const bool padded = m.padding()[0] > 0 || m.padding()[1] > 0;
  attributes.push_back({"count_include_pad", std::int64_t{m.count_include_pad() && padded}});
  return l.g.node("AveragePool", l.name("AveragePool"), {l.input}, attributes);
}

// Adaptive pooling is one ONNX op when its windows are even: global, or input sizes divisible by
// the output's.
std::string export_adaptive_avg_pool2d(const AdaptiveAvgPool2d& m, const Layer& l) {
  const Size2 out = m.output_size();
  const std::int64_t h = l.x.shape()[2], w = l.x.shape()[3];
  if (out[0] == 1 && out[1] == 1) return l.g.node("GlobalAveragePool", l.name("GlobalAveragePool"), {l.input});
  if (h % out[0] != 0 || w % out[1] != 0)
    cannot_export(l, m, fmt::format("its input {}x{} is not divisible by its output {}x{}, so its windows are uneven and no "
                                    "ONNX pool computes them", h, w, out[0], out[1]));
  const std::vector<std::int64_t> window = {h / out[0], w / out[1]};
  return l.g.node("AveragePool", l.name("AveragePool"), {l.input}, {{"kernel_shape", window}, {"strides", window}});
}

// ---- the walk --------------------------------------------------------------------------------

// Exports `m` (a leaf layer, or a Sequential whose children are walked in order) applied to the
// value `input`, whose traced example is `x`; returns the output value and sets `x` to its example.
std::string export_module(Module& m, const std::string& path, const std::string& input, Tensor& x, Graph& g) {
  if (dynamic_cast<Sequential*>(&m)) {
    std::string value = input;
    for (const auto& [name, child] : m.children())
      value = export_module(*child, path.empty() ? name : path + "." + name, value, x, g);
    return value;
  }
  const Tensor y = m(x);
  const Layer l{g, path, input, x, y};
  std::string out;
  if (const auto* linear = dynamic_cast<const Linear*>(&m)) out = export_linear(*linear, l);
  else if (const auto* pointwise = dynamic_cast<const Pointwise*>(&m)) out = export_pointwise(*pointwise, l);
  else if (const auto* softmax = dynamic_cast<const Softmax*>(&m)) out = export_softmax(*softmax, l);
  else if (dynamic_cast<const Dropout*>(&m)) out = input;  // the identity outside training
  else if (const auto* flatten = dynamic_cast<const Flatten*>(&m)) out = export_flatten(*flatten, l);
  else if (const auto* bn = dynamic_cast<const BatchNorm*>(&m)) out = export_batch_norm(*bn, l);
  else if (const auto* ln = dynamic_cast<const LayerNorm*>(&m)) out = export_layer_norm(*ln, l);
  else if (const auto* conv = dynamic_cast<const Conv2d*>(&m)) out = export_conv2d(*conv, l);
  else if (const auto* pool = dynamic_cast<const Pool2d*>(&m)) out = export_pool2d(*pool, l);
  else if (const auto* adaptive = dynamic_cast<const AdaptiveAvgPool2d*>(&m)) out = export_adaptive_avg_pool2d(*adaptive, l);
  else cannot_export(l, m, "tinynn has no ONNX mapping for this module type");
  x = y;
  return out;
}

// Puts a module back in the mode it had, whatever happens while it is traced in eval mode.
struct EvalModeGuard {
  Module& m;
  bool was_training;
  explicit EvalModeGuard(Module& module) : m(module), was_training(module.is_training()) { m.eval(); }
  ~EvalModeGuard() { m.train(was_training); }
};

}  // namespace

OnnxExportOptions onnx_options_for(const Config& config) {
  OnnxExportOptions o;
  if (config.data.scale) o.scale = 1.0 / 255.0;
  if (config.data.normalize) o.mean = config.data.mean.value_or(0.0), o.std = config.data.std.value_or(1.0);
  o.class_names = config.data.class_names;
  o.probabilities = !o.class_names.empty();
  return o;
}

std::string onnx_model_bytes(Module& model, const Shape& sample_shape, const OnnxExportOptions& options,
                             OnnxExportSummary* summary) {
  NoGradGuard no_grad;
  EvalModeGuard eval(model);
  Graph g;
  // The preprocessing, in the data pipeline's order: x * scale, then (x - mean) / std.
  std::string value = "input";
  if (options.scale != 1.0) value = g.node("Mul", "preprocess/Scale", {value, g.scalar("preprocess.scale", options.scale)});
  if (options.mean) value = g.node("Sub", "preprocess/Mean", {value, g.scalar("preprocess.mean", *options.mean)});
  if (options.std) value = g.node("Div", "preprocess/Std", {value, g.scalar("preprocess.std", *options.std)});

  Shape batch_of_one = sample_shape;
  batch_of_one.insert(batch_of_one.begin(), 1);
  Tensor x = zeros(batch_of_one);
  value = export_module(model, "", value, x, g);
  if (x.dim() < 1) throw ExportError("tinynn::nn::export_onnx: the model's output has no batch axis");
  const Shape out_sample(x.shape().begin() + 1, x.shape().end());
  g.node("Identity", "outputs", {value}, {}, "outputs");
  std::vector<ProtoWriter> outputs = {value_info("outputs", out_sample)};
  if (options.probabilities) {
    g.node("Softmax", "probabilities", {"outputs"}, {{"axis", std::int64_t{1}}}, "probabilities");
    outputs.push_back(value_info("probabilities", out_sample));
  }

  ProtoWriter m;
  m.varint(1, kIrVersion);
  m.bytes(2, "tinynn");
  m.bytes(3, version());
  m.message(7, g.graph_proto({value_info("input", sample_shape)}, outputs));
  ProtoWriter opset;
  opset.bytes(1, "");  // the default domain, ai.onnx
  opset.varint(2, kOpset);
  m.message(8, opset);
  if (!options.class_names.empty()) {
    ProtoWriter entry;
    entry.bytes(1, "class_names");
    entry.bytes(2, nlohmann::json(options.class_names).dump());
    m.message(14, entry);
  }
  if (summary) {
    summary->input = "input";
    summary->input_shape = sample_shape;
    summary->outputs = options.probabilities ? std::vector<std::string>{"outputs", "probabilities"} : std::vector<std::string>{"outputs"};
    summary->output_size = numel_of(out_sample);
    summary->nodes = g.node_count();
    summary->parameters = model.parameter_count();
  }
  return m.data();
}

OnnxExportSummary export_onnx(Module& model, const Shape& sample_shape, const std::string& path, const OnnxExportOptions& options) {
  OnnxExportSummary summary;
  write_file_atomically(path, onnx_model_bytes(model, sample_shape, options, &summary));
  return summary;
}

}  // namespace tinynn::nn
