// ONNX export (nn/train/onnx_export.h): protobuf's wire format byte for byte, the graph each layer
// becomes (read back with a small decoder), and the errors. That ONNX Runtime computes what tinynn
// computes is checked end to end by the CLI test `cli.export` (tests/onnx/check_export.py).
#include <fmt/format.h>

#include <map>

#include "../nn/train/detail/protobuf_writer.h"
#include "test_helpers.h"

using namespace tinynn;
using nn::detail::ProtoWriter;

namespace {

std::string hex(const std::string& bytes) {
  std::string out;
  for (const unsigned char b : bytes) out += fmt::format("{}{:02x}", out.empty() ? "" : " ", b);
  return out;
}

// The fields of one message: number -> values (varints as numbers, the rest as bytes).
struct Fields {
  std::multimap<int, std::string> bytes;
  std::multimap<int, std::uint64_t> varints;
  std::vector<std::string> all(int field) const {
    std::vector<std::string> out;
    for (auto [it, end] = bytes.equal_range(field); it != end; ++it) out.push_back(it->second);
    return out;
  }
  std::string one(int field) const {
    const auto v = all(field);
    REQUIRE(v.size() == 1);
    return v[0];
  }
  std::uint64_t number(int field) const {
    REQUIRE(varints.count(field) == 1);
    return varints.find(field)->second;
  }
};

std::uint64_t read_varint(const std::string& s, std::size_t& at) {
  std::uint64_t v = 0;
  for (int shift = 0;; shift += 7) {
    REQUIRE(at < s.size());
    const auto b = static_cast<unsigned char>(s[at++]);
    v |= std::uint64_t{b & 0x7fu} << shift;
    if (b < 0x80) return v;
  }
}

Fields decode(const std::string& s) {
  Fields f;
  for (std::size_t at = 0; at < s.size();) {
    const std::uint64_t tag = read_varint(s, at);
    const int field = static_cast<int>(tag >> 3), wire = static_cast<int>(tag & 7);
    if (wire == 0) f.varints.emplace(field, read_varint(s, at));
    else if (wire == 2) {
      const std::size_t n = read_varint(s, at);
      REQUIRE(at + n <= s.size());
      f.bytes.emplace(field, s.substr(at, n));
      at += n;
    } else if (wire == 5) {
      f.bytes.emplace(field, s.substr(at, 4));
      at += 4;
    } else {
      FAIL("unexpected wire type " << wire);
    }
  }
  return f;
}

// The op types of a model's nodes, in order, and each node's INT / INTS attributes.
struct Node {
  std::string op;
  std::vector<std::string> inputs;
  std::map<std::string, std::vector<std::int64_t>> ints;
};

std::vector<Node> nodes_of(const std::string& model) {
  const Fields graph = decode(decode(model).one(7));
  std::vector<Node> out;
  for (const std::string& n : graph.all(1)) {
    const Fields node = decode(n);
    Node x{node.one(4), node.all(1), {}};
    for (const std::string& a : node.all(5)) {
      const Fields attr = decode(a);
      if (attr.number(20) == 2) x.ints[attr.one(1)] = {static_cast<std::int64_t>(attr.number(3))};
      if (attr.number(20) == 7) {
        const std::string packed = attr.one(8);
        std::vector<std::int64_t>& v = x.ints[attr.one(1)];
        for (std::size_t at = 0; at < packed.size();) v.push_back(static_cast<std::int64_t>(read_varint(packed, at)));
      }
    }
    out.push_back(x);
  }
  return out;
}

std::vector<std::string> ops(const std::vector<Node>& nodes) {
  std::vector<std::string> out;
  for (const Node& n : nodes) out.push_back(n.op);
  return out;
}

struct Custom : nn::Module {
  Tensor forward(const Tensor& x) override { return x; }
  std::string type_name() const override { return "Custom"; }
};

}  // namespace

TEST_CASE("protobuf wire format: varints, negative int64, floats, bytes, packed", "[export]") {
  ProtoWriter w;
  w.varint(1, 300);  // tag 0x08, then 300 = 0b10_0101100 -> ac 02
  CHECK(hex(w.data()) == "08 ac 02");
  ProtoWriter negative;
  negative.varint(2, -1);  // int64 -1: ten bytes of two's complement
  CHECK(hex(negative.data()) == "10 ff ff ff ff ff ff ff ff ff 01");
  ProtoWriter f;
  f.float32(2, 1.0f);  // wire type 5: 0x15, then 0x3f800000 little-endian
  CHECK(hex(f.data()) == "15 00 00 80 3f");
  ProtoWriter s;
  s.bytes(4, "ab");
  CHECK(hex(s.data()) == "22 02 61 62");
  ProtoWriter p;
  p.packed_varints(1, {3, 270});  // one length-delimited field: 03, then 270 -> 8e 02
  CHECK(hex(p.data()) == "0a 03 03 8e 02");
  ProtoWriter outer;
  outer.message(7, s);
  CHECK(hex(outer.data()) == "3a 04 22 02 61 62");
}

TEST_CASE("export_onnx: the model header and a dense network's graph", "[export]") {
  Generator gen(1);
  nn::Sequential model;
  model.add(std::make_shared<nn::Linear>(4, 3, true, &gen)).add(std::make_shared<nn::ReLU>()).add(std::make_shared<nn::Dropout>(0.5));
  model.add(std::make_shared<nn::Linear>(3, 2, false, &gen));
  nn::OnnxExportOptions options;
  options.scale = 0.5, options.mean = 1.0, options.std = 2.0, options.probabilities = true, options.class_names = {"a", "b"};
  nn::OnnxExportSummary summary;
  const std::string bytes = nn::onnx_model_bytes(model, {4}, options, &summary);
  const Fields m = decode(bytes);
  CHECK(m.number(1) == 8);  // ir_version
  const Fields opset = decode(m.one(8));
  CHECK(opset.one(1).empty());
  CHECK(opset.number(2) == 17);
  CHECK(m.one(2) == "tinynn");
  const Fields metadata = decode(m.one(14));
  CHECK(metadata.one(1) == "class_names");
  CHECK(metadata.one(2) == R"(["a","b"])");
  const auto nodes = nodes_of(bytes);
  // Preprocessing, then Gemm, Relu, (dropout is nothing), Gemm without bias, the outputs.
  CHECK(ops(nodes) == std::vector<std::string>{"Mul", "Sub", "Div", "Gemm", "Relu", "Gemm", "Identity", "Softmax"});
  CHECK(nodes[3].inputs == std::vector<std::string>{"preprocess/Std", "0.weight", "0.bias"});
  CHECK(nodes[5].inputs == std::vector<std::string>{"1/Relu", "3.weight", ""});
  CHECK(nodes[3].ints.at("transB") == std::vector<std::int64_t>{1});
  CHECK(summary.nodes == 8);
  CHECK(summary.parameters == 4 * 3 + 3 + 3 * 2);
  CHECK(summary.outputs == std::vector<std::string>{"outputs", "probabilities"});
  CHECK(summary.output_size == 2);
  // The input's shape: the dynamic batch, then the sample's.
  const Fields graph = decode(m.one(7));
  const Fields input = decode(graph.one(11));
  CHECK(input.one(1) == "input");
  const auto dims = decode(decode(decode(decode(input.one(2)).one(1)).one(2)).bytes.find(1)->second);
  CHECK(dims.one(2) == "batch");
  CHECK(model.is_training());  // traced in eval mode, given back as it was
}

TEST_CASE("export_onnx: image layers and their attributes", "[export]") {
  Generator gen(2);
  nn::Sequential model;
  model.add(std::make_shared<nn::Conv2d>(2, 4, Size2{3, 3}, Size2{2, 1}, Size2{1, 0}, Size2{1, 2}, 2, true, &gen));
  model.add(std::make_shared<nn::BatchNorm2d>(4));
  // On 5x6 (after the conv), 3x3 windows, stride 2, ceil mode: 2 rows of windows either way; 2 columns
  // rounding down, 3 up (the third starts at column 4 < 6, so PyTorch keeps it): ceil_mode 1.
  model.add(std::make_shared<nn::MaxPool2d>(Size2{3, 3}, Size2{2, 2}, Size2{0, 0}, Size2{1, 1}, true));
  model.add(std::make_shared<nn::AdaptiveAvgPool2d>(Size2{1, 1}));
  model.add(std::make_shared<nn::Flatten>());
  const auto nodes = nodes_of(nn::onnx_model_bytes(model, {2, 9, 10}));
  CHECK(ops(nodes) == std::vector<std::string>{"Conv", "BatchNormalization", "MaxPool", "GlobalAveragePool", "Flatten", "Identity"});
  CHECK(nodes[0].ints.at("strides") == std::vector<std::int64_t>{2, 1});
  CHECK(nodes[0].ints.at("pads") == std::vector<std::int64_t>{1, 0, 1, 0});
  CHECK(nodes[0].ints.at("dilations") == std::vector<std::int64_t>{1, 2});
  CHECK(nodes[0].ints.at("group") == std::vector<std::int64_t>{2});
  CHECK(nodes[1].inputs.size() == 5);
  CHECK(nodes[2].ints.at("ceil_mode") == std::vector<std::int64_t>{1});
  CHECK(nodes[4].ints.at("axis") == std::vector<std::int64_t>{1});
}

TEST_CASE("export_onnx: ceil-mode pools ask ONNX for the window count PyTorch's rule gives", "[export]") {
  const auto ceil_attr = [](std::int64_t size, Size2 k, Size2 s, Size2 p) {
    nn::Sequential model;
    model.add(std::make_shared<nn::MaxPool2d>(k, s, p, Size2{1, 1}, true));
    return nodes_of(nn::onnx_model_bytes(model, {1, size, size}))[0].ints.at("ceil_mode")[0];
  };
  // 8, window 3, stride 2: floor 3, ceil 4 windows; the 4th starts at 6 < 8, so it stays: ceil.
  CHECK(ceil_attr(8, {3, 3}, {2, 2}, {0, 0}) == 1);
  // 7, window 2, stride 2, padding 1: floor 4, ceil 5; the 5th would start at 8, in the right
  // padding, so PyTorch drops it: 4 windows, which ONNX gives without ceil.
  CHECK(ceil_attr(7, {2, 2}, {2, 2}, {1, 1}) == 0);
  // Both at once, one per axis: no single ceil_mode gives both sizes, so it is refused.
  nn::Sequential mixed;
  mixed.add(std::make_shared<nn::MaxPool2d>(Size2{3, 2}, Size2{2, 2}, Size2{0, 1}, Size2{1, 1}, true));
  CHECK_THROWS_WITH(nn::onnx_model_bytes(mixed, {1, 8, 7}), Catch::Contains("one axis needs ONNX's ceil_mode"));
}

TEST_CASE("export_onnx: every activation of the op table, softmax and log_softmax", "[export]") {
#define TINYNN_OP(Name, name) UnaryOp::Name,
  for (const UnaryOp op : {TINYNN_UNARY_OPS(TINYNN_OP)}) {
#undef TINYNN_OP
    if (!unary_op_activation(op).activation) continue;
    nn::Sequential model;
    model.add(std::make_shared<nn::Pointwise>(op, UnaryParams{0.2, 0.0}));
    INFO(unary_op_name(op));
    const auto nodes = nodes_of(nn::onnx_model_bytes(model, {3}));
    CHECK(nodes.size() >= 2);
    CHECK(nodes.back().op == "Identity");
  }
  nn::Sequential gelu;
  gelu.add(std::make_shared<nn::GELU>());  // opset 17 has no Gelu: x * (1 + erf(x / sqrt 2)) * 0.5
  CHECK(ops(nodes_of(nn::onnx_model_bytes(gelu, {3}))) == std::vector<std::string>{"Div", "Erf", "Add", "Mul", "Mul", "Identity"});
  nn::Sequential softmax;
  softmax.add(std::make_shared<nn::Softmax>(-1)).add(std::make_shared<nn::LogSoftmax>(1));
  const auto nodes = nodes_of(nn::onnx_model_bytes(softmax, {3}));
  CHECK(ops(nodes) == std::vector<std::string>{"Softmax", "LogSoftmax", "Identity"});
  CHECK(nodes[0].ints.at("axis") == std::vector<std::int64_t>{-1});
}

TEST_CASE("export_onnx: a linear layer on samples with several axes is MatMul + Add", "[export]") {
  Generator gen(3);
  nn::Sequential model;
  model.add(std::make_shared<nn::Linear>(2, 3, true, &gen));
  const auto nodes = nodes_of(nn::onnx_model_bytes(model, {5, 2}));
  CHECK(ops(nodes) == std::vector<std::string>{"MatMul", "Add", "Identity"});
  CHECK(nodes[0].inputs[1] == "0.weight_transposed");
}

TEST_CASE("export_onnx: a layer ONNX cannot express is an error naming it", "[export]") {
  nn::Sequential custom;
  custom.add(std::make_shared<nn::Flatten>()).add(std::make_shared<Custom>());
  CHECK_THROWS_WITH(nn::onnx_model_bytes(custom, {3}),
                    "tinynn::nn::export_onnx: layer 1 (Custom) cannot be exported to ONNX: tinynn has no ONNX mapping for this "
                    "module type");
  nn::Sequential uneven;
  uneven.add(std::make_shared<nn::AdaptiveAvgPool2d>(Size2{3, 3}));
  CHECK_THROWS_AS(nn::onnx_model_bytes(uneven, {1, 7, 7}), nn::ExportError);
  CHECK_THROWS_WITH(nn::onnx_model_bytes(uneven, {1, 7, 7}), Catch::Contains("its input 7x7 is not divisible by its output 3x3"));
  CHECK_THROWS_WITH(nn::onnx_model_bytes(*std::make_shared<Custom>(), {3}), Catch::Contains("the model (Custom) cannot"));
  // Nested Sequentials are walked; names follow state_dict's.
  auto inner = std::make_shared<nn::Sequential>();
  inner->add(std::make_shared<Custom>());
  nn::Sequential outer;
  outer.add(inner);
  CHECK_THROWS_WITH(nn::onnx_model_bytes(outer, {3}), Catch::Contains("layer 0.0 (Custom)"));
}

TEST_CASE("export_onnx: writing to a path that cannot be written leaves nothing", "[export]") {
  Generator gen(4);
  nn::Sequential model;
  model.add(std::make_shared<nn::Linear>(2, 2, true, &gen));
  CHECK_THROWS_AS(nn::export_onnx(model, {2}, "/nonexistent-dir/model.onnx"), nn::CheckpointError);
}
