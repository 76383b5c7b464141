// The rows: every layer, loss, optimizer and scheduler type a config can name.
#include "registry.h"

#include <fmt/format.h>

#include <algorithm>
#include <cmath>

#include "../../core/creation.h"
#include "../../core/pointwise_table.h"
#include "../data/dataset.h"
#include "../../autograd/autograd.h"
#include "../conv_layers.h"
#include "../init.h"
#include "../layers.h"
#include "../losses.h"
#include "../normalization.h"
#include "../optim.h"
#include "../scheduler.h"
#include "../sequential.h"
#include "config.h"

namespace tinynn::nn {

// ---- keys ----------------------------------------------------------------------------------

KeySpec number_key(std::string name, double fallback, std::string doc, double lo, double hi, bool lo_open) {
  KeySpec k{std::move(name), fallback, std::move(doc)};
  k.lo = lo, k.hi = hi, k.lo_open = lo_open;
  return k;
}
KeySpec integer_key(std::string name, std::int64_t fallback, std::string doc, std::int64_t lo, std::int64_t hi) {
  KeySpec k{std::move(name), fallback, std::move(doc)};
  k.lo = static_cast<double>(lo), k.hi = static_cast<double>(hi);
  return k;
}
KeySpec bool_key(std::string name, bool fallback, std::string doc) { return {std::move(name), fallback, std::move(doc)}; }
KeySpec choice_key(std::string name, std::string fallback, std::vector<std::string> choices, std::string doc) {
  KeySpec k{std::move(name), std::move(fallback), std::move(doc)};
  k.choices = std::move(choices);
  return k;
}

KeySpec pair_key(std::string name, std::int64_t fallback, std::string doc, std::int64_t lo) {
  KeySpec k{std::move(name), std::vector<std::int64_t>{fallback, fallback}, std::move(doc)};
  k.lo = static_cast<double>(lo), k.pair = true;
  k.shown_default = std::to_string(fallback);
  return k;
}

std::string key_value_text(const KeyValue& value, bool quote_strings) {
  return std::visit(
      [quote_strings](const auto& x) -> std::string {
        using T = std::decay_t<decltype(x)>;
        if constexpr (std::is_same_v<T, bool>) return x ? "true" : "false";
        else if constexpr (std::is_same_v<T, std::string>) return quote_strings ? fmt::format("\"{}\"", x) : x;
        else if constexpr (std::is_arithmetic_v<T>) return fmt::format("{}", x);
        else return fmt::format("[{}]", fmt::join(x, ", "));
      },
      value);
}

template <class T>
const T& KeyValues::get(const std::string& key) const {
  const auto it = values_.find(key);
  if (it == values_.end()) throw ValueError(fmt::format("tinynn::nn: no config key '{}' was read for this type", key));
  return std::get<T>(it->second);
}
template const bool& KeyValues::get(const std::string&) const;
template const std::int64_t& KeyValues::get(const std::string&) const;
template const double& KeyValues::get(const std::string&) const;
template const std::string& KeyValues::get(const std::string&) const;
template const std::vector<double>& KeyValues::get(const std::string&) const;
template const std::vector<std::int64_t>& KeyValues::get(const std::string&) const;
template const std::vector<std::string>& KeyValues::get(const std::string&) const;

namespace {

[[noreturn]] void config_error(const std::string& path, const std::string& what) {
  throw ConfigError(fmt::format("config: {}: {}", path, what));
}

// A non-flat sample is flattened first, like Keras' Dense after Flatten.
void flatten_input(LayerBuild& b) {
  if (b.shape.size() != 1) {
    b.model.add(std::make_shared<Flatten>());
    b.shape = {numel_of(b.shape)};
  }
}

// batchnorm takes feature vectors: on image samples it would normalize each pixel of each channel
// on its own (PyTorch's BatchNorm1d refuses them), and a batchnorm2d was likely meant. A
// checkpoint's model trained before this rule keeps its implicit flatten.
void features_for_batchnorm(const TypedSpec& l, LayerBuild& b) {
  if (b.shape.size() != 1 && !b.trained)
    throw ConfigError(fmt::format("config: {}: batchnorm normalizes feature vectors [F], but its input is {}: {}", l.path,
                                  shape_str(b.shape), b.shape.size() == 3 ? "use batchnorm2d for image samples (or a flatten "
                                                                            "layer before it)" : "add a flatten layer before it"));
  flatten_input(b);
}

// ---- layers --------------------------------------------------------------------------------

// The keys every layer with a weight (and maybe a bias) takes: init, and L1/L2 per parameter.
std::vector<KeySpec> weight_keys() {
  return {number_key("l1", 0, "L1 penalty l1·Σ|w| on the weight, added to the loss", 0),
          number_key("l2", 0, "L2 penalty l2·Σw² on the weight, added to the loss", 0),
          number_key("bias_l1", 0, "L1 penalty on the bias", 0),
          number_key("bias_l2", 0, "L2 penalty on the bias", 0),
          choice_key("init", "default", {"default", "xavier_uniform", "xavier_normal", "kaiming_uniform", "kaiming_normal"},
                     "weight init (default: PyTorch's; the others zero the bias)")};
}

// Applies those keys to a layer's weight and bias (undefined when it has none).
void init_and_penalize(const KeyValues& v, Module& layer, Tensor weight, Tensor bias, Generator* gen) {
  const std::string& how = v.text("init");
  if (how != "default") {
    const auto relu = init::Nonlinearity::ReLU;
    if (how == "xavier_uniform") init::xavier_uniform_(weight, 1.0, gen);
    else if (how == "xavier_normal") init::xavier_normal_(weight, 1.0, gen);
    else if (how == "kaiming_uniform") init::kaiming_uniform_(weight, 0.0, init::FanMode::FanIn, relu, gen);
    else init::kaiming_normal_(weight, 0.0, init::FanMode::FanIn, relu, gen);
    if (bias.defined()) init::zeros_(bias);
  }
  const Penalty w{v.number("l1"), v.number("l2")}, b{v.number("bias_l1"), v.number("bias_l2")};
  if (w.active()) layer.set_penalty("weight", w);
  if (bias.defined() && b.active()) layer.set_penalty("bias", b);
}

void build_linear(const TypedSpec& l, LayerBuild& b) {
  flatten_input(b);
  const KeyValues& v = l.values;
  const std::int64_t units = v.integer("units") > 0 ? v.integer("units") : b.outputs;
  if (b.last_dense && units != b.outputs)
    throw ConfigError(fmt::format("config: {}.units: the last linear layer has {} outputs but the data needs {}", l.path,
                                  units, b.outputs));
  auto linear = std::make_shared<Linear>(b.shape[0], units, v.flag("bias"), b.gen);
  init_and_penalize(v, *linear, linear->weight(), linear->bias(), b.gen);
  b.model.add(linear);
  b.shape = {units};
}

Size2 size2(const KeyValues& v, const std::string& key) {
  const auto& p = v.list<std::int64_t>(key);
  return {p[0], p[1]};
}

// An image layer takes samples [C, H, W]; its output shape comes from running it once, in eval
// mode, on a zero sample, so every shape rule of the op is checked here with the layer's path.
void add_image_layer(const TypedSpec& l, LayerBuild& b, const std::shared_ptr<Module>& layer) {
  if (b.shape.size() != 3 && b.model.size() == 0)
    throw ConfigError(fmt::format("config: {}: {} takes image samples [C, H, W], but the data's samples are {}: image "
                                  "layers need image data (IDX images or an image folder)", l.path, l.type,
                                  shape_str(b.shape)));
  if (b.shape.size() != 3)
    throw ConfigError(fmt::format("config: {}: {} takes image samples [C, H, W], but its input is {}; image layers go "
                                  "before flatten and linear layers", l.path, l.type, shape_str(b.shape)));
  Shape batch = b.shape;
  batch.insert(batch.begin(), 1);
  try {
    NoGradGuard no_grad;
    layer->eval();
    const Tensor out = (*layer)(zeros(batch));
    layer->train();
    b.shape = Shape(out.shape().begin() + 1, out.shape().end());
  } catch (const Error& e) {
    throw ConfigError(fmt::format("config: {}: {} on samples {}: {}", l.path, l.type, shape_str(b.shape), e.what()));
  }
  b.model.add(layer);
}

void build_conv2d(const TypedSpec& l, LayerBuild& b) {
  const KeyValues& v = l.values;
  if (v.integer("out_channels") < 1)
    throw ConfigError(fmt::format("config: {}.out_channels: required, at least 1: the number of filters (output channels)", l.path));
  const std::int64_t in = b.shape.size() == 3 ? b.shape[0] : 1, groups = v.integer("groups");
  if (in % groups != 0 || v.integer("out_channels") % groups != 0)
    throw ConfigError(fmt::format("config: {}.groups: {} input channels and {} output channels must both be divisible by "
                                  "groups ({})", l.path, in, v.integer("out_channels"), groups));
  auto conv = std::make_shared<Conv2d>(in, v.integer("out_channels"), size2(v, "kernel_size"), size2(v, "stride"),
                                       size2(v, "padding"), size2(v, "dilation"), groups, v.flag("bias"), b.gen);
  init_and_penalize(v, *conv, conv->weight(), conv->bias(), b.gen);
  add_image_layer(l, b, conv);
}

// stride 0 (the default) means the kernel size, as PyTorch's stride=None.
std::optional<Size2> pool_stride(const KeyValues& v) {
  const Size2 s = size2(v, "stride");
  return s[0] == 0 || s[1] == 0 ? std::nullopt : std::optional<Size2>(s);
}

std::vector<KeySpec> pool_keys(bool max) {
  std::vector<KeySpec> keys = {pair_key("kernel_size", 2, "window size: n or [height, width]", 1),
                               pair_key("stride", 0, "window step (0: the kernel size)", 0),
                               pair_key("padding", 0, "implicit padding on each side (at most half the kernel)", 0)};
  keys[1].shown_default = "kernel_size";
  if (max) keys.push_back(pair_key("dilation", 1, "spacing between window elements", 1));
  keys.push_back(bool_key("ceil_mode", false, "round the output size up (a last, partial window)"));
  if (!max) keys.push_back(bool_key("count_include_pad", true, "divide by the window including padding (else by the real elements)"));
  return keys;
}

std::vector<LayerType> make_layer_types() {
  std::vector<LayerType> rows;
  {
    std::vector<KeySpec> keys = {integer_key("units", 0, "output features", 0, 1 << 24), bool_key("bias", true, "add a bias")};
    for (KeySpec& k : weight_keys()) keys.push_back(std::move(k));
    rows.push_back({"linear", "dense layer y = x Wᵀ + b (W is [out, in], as PyTorch); a non-flat input is flattened first",
                    std::move(keys), build_linear, true});
  }
  rows.back().keys[0].shown_default = "last layer: the data's classes or targets";
  // Every activation row of the pointwise table, by its name.
#define TINYNN_OP(Name, name) UnaryOp::Name,
  for (const UnaryOp op : {TINYNN_UNARY_OPS(TINYNN_OP)}) {
#undef TINYNN_OP
    const ActivationTraits traits = unary_op_activation(op);
    if (!traits.activation) continue;
    LayerType row{unary_op_name(op), "pointwise activation from the op table", {}, nullptr};
    if (traits.param) row.keys.push_back(number_key(traits.param, traits.param_default, "the activation's parameter", 0));
    row.build = [op, traits](const TypedSpec& l, LayerBuild& b) {
      b.model.add(std::make_shared<Pointwise>(op, UnaryParams{traits.param ? l.values.number(traits.param) : 0.0, 0.0}));
    };
    rows.push_back(std::move(row));
  }
  for (const bool log : {false, true}) {
    rows.push_back({log ? "log_softmax" : "softmax",
                    log ? "log-probabilities over an axis (end with it when the loss is nll)" : "probabilities over an axis",
                    {integer_key("axis", -1, "the axis", -8, 7)},
                    [log](const TypedSpec& l, LayerBuild& b) {
                      b.model.add(std::make_shared<Softmax>(l.values.integer("axis"), log));
                    }});
  }
  rows.push_back({"dropout", "zeroes inputs with probability p while training (scaling the rest by 1/(1-p))",
                  {number_key("p", 0.5, "drop probability", 0, 0.999)},
                  [](const TypedSpec& l, LayerBuild& b) { b.model.add(std::make_shared<Dropout>(l.values.number("p"), b.gen)); }});
  rows.push_back({"flatten", "flattens each sample to a vector", {}, [](const TypedSpec&, LayerBuild& b) {
                    b.model.add(std::make_shared<Flatten>());
                    b.shape = {numel_of(b.shape)};
                  }});
  rows.push_back({"batchnorm", "BatchNorm1d over the features (running statistics for eval)",
                  {number_key("eps", 1e-5, "added to the variance", 0, 1, true),
                   number_key("momentum", 0.1, "running-statistics update factor", 0, 1)},
                  [](const TypedSpec& l, LayerBuild& b) {
                    features_for_batchnorm(l, b);
                    b.model.add(std::make_shared<BatchNorm1d>(b.shape[0], l.values.number("eps"), l.values.number("momentum")));
                  }});
  {
    std::vector<KeySpec> keys = {integer_key("out_channels", 0, "output channels (filters)", 0, 1 << 20),
                                 pair_key("kernel_size", 3, "kernel size: n or [height, width]", 1),
                                 pair_key("stride", 1, "step between windows", 1),
                                 pair_key("padding", 0, "zeros added on each side", 0),
                                 pair_key("dilation", 1, "spacing between kernel elements", 1),
                                 integer_key("groups", 1, "channel groups (in and out channels divisible by it)", 1, 1 << 20),
                                 bool_key("bias", true, "add a bias per output channel")};
    for (KeySpec& k : weight_keys()) keys.push_back(std::move(k));
    keys[0].shown_default = "required";
    rows.push_back({"conv2d", "2-D convolution over image samples [C, H, W] (weight [out, in/groups, kH, kW], as PyTorch)",
                    std::move(keys), build_conv2d});
  }
  for (const bool max : {true, false})
    rows.push_back({max ? "max_pool2d" : "avg_pool2d", max ? "the largest value of each window" : "the mean of each window",
                    pool_keys(max), [max](const TypedSpec& l, LayerBuild& b) {
                      const KeyValues& v = l.values;
                      add_image_layer(l, b, max ? std::shared_ptr<Module>(std::make_shared<MaxPool2d>(
                                                      size2(v, "kernel_size"), pool_stride(v), size2(v, "padding"),
                                                      size2(v, "dilation"), v.flag("ceil_mode")))
                                                : std::make_shared<AvgPool2d>(size2(v, "kernel_size"), pool_stride(v),
                                                                              size2(v, "padding"), v.flag("ceil_mode"),
                                                                              v.flag("count_include_pad")));
                    }});
  rows.push_back({"adaptive_avg_pool2d", "averages each channel to a fixed output size (1: global average pooling)",
                  {pair_key("output_size", 1, "output height and width: n or [height, width]", 1)},
                  [](const TypedSpec& l, LayerBuild& b) {
                    add_image_layer(l, b, std::make_shared<AdaptiveAvgPool2d>(size2(l.values, "output_size")));
                  }});
  rows.push_back({"batchnorm2d", "BatchNorm2d over the channels of image samples (running statistics for eval)",
                  {number_key("eps", 1e-5, "added to the variance", 0, 1, true),
                   number_key("momentum", 0.1, "running-statistics update factor", 0, 1)},
                  [](const TypedSpec& l, LayerBuild& b) {
                    add_image_layer(l, b, std::make_shared<BatchNorm2d>(b.shape.size() == 3 ? b.shape[0] : 1, l.values.number("eps"),
                                                                        l.values.number("momentum")));
                  }});
  rows.push_back({"layernorm", "LayerNorm over the features (a non-flat input is flattened first: over all of a sample's values)",
                  {number_key("eps", 1e-5, "added to the variance", 0, 1, true)},
                  [](const TypedSpec& l, LayerBuild& b) {
                    flatten_input(b);
                    b.model.add(std::make_shared<LayerNorm>(Shape{b.shape[0]}, l.values.number("eps")));
                  }});
  return rows;
}

// ---- losses --------------------------------------------------------------------------------

KeySpec class_weights_key() {
  KeySpec k{"class_weights", std::vector<double>{}, "one weight per class"};
  k.shown_default = "none";
  return k;
}

// The class weights on the outputs' device, checked against the data.
Tensor class_weights(const KeyValues& v, const Dataset& train) {
  const auto& w = v.list<double>("class_weights");
  if (w.empty()) return {};
  if (static_cast<std::int64_t>(w.size()) != train.num_classes)
    throw ConfigError(fmt::format("config: loss.class_weights: {} weights for {} classes", w.size(), train.num_classes));
  return from_vector(w, {static_cast<std::int64_t>(w.size())});
}

Tensor on_device_of(const Tensor& t, const Tensor& like) { return t.defined() ? t.to(like.device()) : t; }

std::vector<LossType> make_loss_types() {
  std::vector<LossType> rows;
  rows.push_back({"cross_entropy", "classification from logits (a stable log-softmax inside)",
                  {number_key("label_smoothing", 0, "share of the target spread over all classes", 0, 0.999), class_weights_key()},
                  false, [](const KeyValues& v, const Config&, const Dataset& train) -> LossFn {
                    CrossEntropyOptions o;
                    o.weight = class_weights(v, train);
                    o.label_smoothing = v.number("label_smoothing");
                    return [o](const Tensor& out, const Tensor& t) {
                      CrossEntropyOptions on_device = o;
                      on_device.weight = on_device_of(o.weight, out);
                      return cross_entropy(out, t, on_device);
                    };
                  }});
  rows.push_back({"nll", "classification from log-probabilities (end the model with log_softmax)", {class_weights_key()}, false,
                  [](const KeyValues& v, const Config& c, const Dataset& train) -> LossFn {
                    if (c.layers.back().type != "log_softmax")
                      throw ConfigError("config: loss.type: 'nll' expects log-probabilities; end the model with a log_softmax layer");
                    const Tensor w = class_weights(v, train);
                    return [w](const Tensor& out, const Tensor& t) { return nll_loss(out, t, on_device_of(w, out)); };
                  }});
  rows.push_back({"mse", "regression: mean squared error", {}, true, [](const KeyValues&, const Config&, const Dataset&) -> LossFn {
                    return [](const Tensor& out, const Tensor& t) { return mse_loss(out, t); };
                  }});
  rows.push_back({"l1", "regression: mean absolute error", {}, true, [](const KeyValues&, const Config&, const Dataset&) -> LossFn {
                    return [](const Tensor& out, const Tensor& t) { return l1_loss(out, t); };
                  }});
  for (const bool huber : {true, false}) {
    rows.push_back({huber ? "huber" : "smooth_l1",
                    huber ? "regression: squared below delta, linear above" : "regression: Huber divided by beta",
                    {number_key("delta", 1.0, huber ? "where the loss turns linear" : "beta", 0, 1e300, true)}, true,
                    [huber](const KeyValues& v, const Config&, const Dataset&) -> LossFn {
                      const double delta = v.number("delta");
                      if (huber) return [delta](const Tensor& out, const Tensor& t) { return huber_loss(out, t, delta); };
                      return [delta](const Tensor& out, const Tensor& t) { return smooth_l1_loss(out, t, delta); };
                    }});
  }
  return rows;
}

// ---- optimizers ----------------------------------------------------------------------------

KeySpec lr_key(double fallback) { return number_key("lr", fallback, "learning rate", 0, 10, true); }
KeySpec weight_decay_key(double fallback, const char* how) {
  return number_key("weight_decay", fallback, how, 0, 1);
}
const char* kCoupledDecay = "the optimizer's decay, added to the gradient (as PyTorch; not part of the loss)";

void check_betas(const TypedSpec& o) {
  const auto& betas = o.values.list<double>("betas");
  if (betas.size() != 2 || betas[0] < 0 || betas[0] >= 1 || betas[1] < 0 || betas[1] >= 1)
    config_error(o.path + ".betas", "expected two numbers in [0, 1), like [0.9, 0.999]");
}

std::vector<OptimizerType> make_optimizer_types() {
  std::vector<OptimizerType> rows;
  const SGDOptions sgd;
  rows.push_back({"sgd", "stochastic gradient descent with momentum, dampening and Nesterov",
                  {lr_key(sgd.lr), number_key("momentum", sgd.momentum, "momentum factor", 0, 1),
                   number_key("dampening", sgd.dampening, "dampening of the momentum", 0, 1),
                   bool_key("nesterov", sgd.nesterov, "Nesterov momentum (needs momentum > 0)"),
                   weight_decay_key(sgd.weight_decay, kCoupledDecay)},
                  [](const KeyValues& v, std::vector<Tensor> params) -> std::unique_ptr<Optimizer> {
                    return std::make_unique<SGD>(std::move(params), SGDOptions{v.number("lr"), v.number("momentum"), v.number("dampening"),
                                                                               v.flag("nesterov"), v.number("weight_decay")});
                  },
                  [](const TypedSpec& o) {
                    if (o.values.flag("nesterov") && o.values.number("momentum") == 0)
                      config_error(o.path + ".nesterov", "needs momentum > 0");
                  }});
  for (const bool decoupled : {false, true}) {
    const AdamOptions adam = decoupled ? adamw_options() : AdamOptions{};
    KeySpec betas{"betas", std::vector<double>{adam.beta1, adam.beta2}, "moment decay rates, two numbers in [0, 1)"};
    rows.push_back({decoupled ? "adamw" : "adam",
                    decoupled ? "Adam with decoupled weight decay p -= lr·wd·p (AdamW)" : "Adam (amsgrad optional)",
                    {lr_key(adam.lr), betas, number_key("eps", adam.eps, "added to the denominator", 0, 1, true),
                     weight_decay_key(adam.weight_decay, decoupled ? "decoupled decay p -= lr·wd·p" : kCoupledDecay),
                     bool_key("amsgrad", adam.amsgrad, "keep the maximum of the second moments")},
                    [decoupled](const KeyValues& v, std::vector<Tensor> params) -> std::unique_ptr<Optimizer> {
                      const auto& b = v.list<double>("betas");
                      return std::make_unique<Adam>(std::move(params), AdamOptions{v.number("lr"), b[0], b[1], v.number("eps"),
                                                                                   v.number("weight_decay"), v.flag("amsgrad"), decoupled});
                    },
                    check_betas});
  }
  const RMSpropOptions rms;
  rows.push_back({"rmsprop", "RMSprop (centered and momentum optional)",
                  {lr_key(rms.lr), number_key("alpha", rms.alpha, "smoothing of the squared gradients", 0, 1),
                   number_key("eps", rms.eps, "added to the denominator", 0, 1, true), weight_decay_key(rms.weight_decay, kCoupledDecay),
                   number_key("momentum", rms.momentum, "momentum factor", 0, 1),
                   bool_key("centered", rms.centered, "divide by the centered second moment")},
                  [](const KeyValues& v, std::vector<Tensor> params) -> std::unique_ptr<Optimizer> {
                    return std::make_unique<RMSprop>(std::move(params),
                                                     RMSpropOptions{v.number("lr"), v.number("alpha"), v.number("eps"), v.number("weight_decay"),
                                                                    v.number("momentum"), v.flag("centered")});
                  }});
  const AdagradOptions ada;
  rows.push_back({"adagrad", "Adagrad",
                  {lr_key(ada.lr), number_key("lr_decay", ada.lr_decay, "lr / (1 + (step - 1)·lr_decay)", 0),
                   weight_decay_key(ada.weight_decay, kCoupledDecay), number_key("eps", ada.eps, "added to the denominator", 0, 1, true)},
                  [](const KeyValues& v, std::vector<Tensor> params) -> std::unique_ptr<Optimizer> {
                    return std::make_unique<Adagrad>(std::move(params), AdagradOptions{v.number("lr"), v.number("lr_decay"),
                                                                                       v.number("weight_decay"), 0.0, v.number("eps")});
                  }});
  return rows;
}

// ---- schedulers ----------------------------------------------------------------------------

std::vector<SchedulerType> make_scheduler_types() {
  std::vector<SchedulerType> rows;
  rows.push_back({"none", "a constant learning rate (after the warmup, if any)", {}, true,
                  [](const KeyValues&, Optimizer&, const Config&) -> std::unique_ptr<Scheduler> { return nullptr; }});
  rows.push_back({"step", "multiply the lr by gamma every step_size epochs",
                  {integer_key("step_size", 10, "epochs between steps", 1), number_key("gamma", 0.1, "factor", 0, 1, true)}, true,
                  [](const KeyValues& v, Optimizer& opt, const Config&) -> std::unique_ptr<Scheduler> {
                    return std::make_unique<StepLR>(opt, v.integer("step_size"), v.number("gamma"));
                  }});
  KeySpec milestones{"milestones", std::vector<std::int64_t>{}, "increasing epochs at which to multiply by gamma"};
  rows.push_back({"multi_step", "multiply the lr by gamma at each milestone epoch",
                  {milestones, number_key("gamma", 0.1, "factor", 0, 1, true)}, true,
                  [](const KeyValues& v, Optimizer& opt, const Config&) -> std::unique_ptr<Scheduler> {
                    return std::make_unique<MultiStepLR>(opt, v.list<std::int64_t>("milestones"), v.number("gamma"));
                  },
                  [](const TypedSpec& s) {
                    const auto& m = s.values.list<std::int64_t>("milestones");
                    if (!std::is_sorted(m.begin(), m.end())) config_error(s.path + ".milestones", "must be increasing");
                  }});
  rows.push_back({"exponential", "multiply the lr by gamma every epoch", {number_key("gamma", 0.95, "factor", 0, 1, true)}, true,
                  [](const KeyValues& v, Optimizer& opt, const Config&) -> std::unique_ptr<Scheduler> {
                    return std::make_unique<ExponentialLR>(opt, v.number("gamma"));
                  }});
  KeySpec t_max = integer_key("t_max", 0, "period in epochs", 0);
  t_max.shown_default = "0 = the epochs after warmup";
  rows.push_back({"cosine", "cosine annealing from the lr down to eta_min",
                  {t_max, number_key("eta_min", 0, "the floor", 0)}, true,
                  [](const KeyValues& v, Optimizer& opt, const Config& c) -> std::unique_ptr<Scheduler> {
                    const std::int64_t after_warmup = std::max<std::int64_t>(c.training.epochs - v.integer("warmup_epochs"), 1);
                    const std::int64_t period = v.integer("t_max") > 0 ? v.integer("t_max") : after_warmup;
                    return std::make_unique<CosineAnnealingLR>(opt, period, v.number("eta_min"));
                  }});
  rows.push_back({"plateau", "multiply the lr by factor when the early-stopping metric stops improving",
                  {number_key("factor", 0.1, "factor", 0, 0.999, true), integer_key("patience", 10, "epochs without improvement", 0),
                   number_key("threshold", 1e-4, "relative improvement that counts", 0),
                   integer_key("cooldown", 0, "epochs to wait after a reduction", 0), number_key("min_lr", 0, "the floor", 0)},
                  false, [](const KeyValues& v, Optimizer& opt, const Config& c) -> std::unique_ptr<Scheduler> {
                    const bool maximize = c.training.early_stopping_metric == "val_accuracy";
                    return std::make_unique<ReduceLROnPlateau>(opt, maximize ? ReduceLROnPlateau::Mode::Max : ReduceLROnPlateau::Mode::Min,
                                                               v.number("factor"), v.integer("patience"), v.number("threshold"),
                                                               v.integer("cooldown"), v.number("min_lr"));
                  }});
  return rows;
}

template <class Row>
const Row* find_row(const std::vector<Row>& rows, const std::string& name) {
  for (const Row& r : rows)
    if (r.name == name) return &r;
  return nullptr;
}

// ---- the README's tables -------------------------------------------------------------------

std::string value_kind(const KeySpec& k) {
  const auto range = [&k](const char* what) {
    const bool has_lo = k.lo > -1e300, has_hi = k.hi < 1e300 && k.hi < 9e18;
    if (has_lo && has_hi) return fmt::format("{} in {}{}, {}]", what, k.lo_open ? "(" : "[", k.lo, k.hi);
    if (has_lo) return fmt::format("{} {} {}", what, k.lo_open ? ">" : "≥", k.lo);
    return std::string(what);
  };
  switch (k.fallback.index()) {
    case 0: return "bool";
    case 1: return range("integer");
    case 2: return range("number");
    case 3: return k.choices.empty() ? "string" : fmt::format("one of {}", fmt::join(k.choices, ", "));
    case 4: return "list of numbers";
    case 5: return k.pair ? fmt::format("integer ≥ {} or [height, width]", k.lo) : "list of integers";
    default: return "list of strings";
  }
}

// Markdown table cells cannot hold a bare '|'.
std::string cell(const std::string& text) {
  std::string out;
  for (const char ch : text) {
    if (ch == '|') out += '\\';
    out += ch;
  }
  return out;
}

template <class Row>
void append_table(std::string& out, const std::string& title, const std::vector<Row>& rows,
                  const std::vector<KeySpec>* extra_for_closed_form = nullptr) {
  out += fmt::format("### {}\n\n| `type` | key | value | default | meaning |\n|---|---|---|---|---|\n", title);
  for (const Row& row : rows) {
    out += fmt::format("| `{}` | | | | {} |\n", row.name, cell(row.doc));
    std::vector<KeySpec> keys = row.keys;
    if constexpr (std::is_same_v<Row, SchedulerType>)
      if (row.closed_form && extra_for_closed_form) keys.insert(keys.end(), extra_for_closed_form->begin(), extra_for_closed_form->end());
    for (const KeySpec& k : keys)
      out += fmt::format("| | `{}` | {} | {} | {} |\n", k.name, cell(value_kind(k)),
                         cell(k.shown_default.empty() ? key_value_text(k.fallback, true) : k.shown_default), cell(k.doc));
  }
  out += "\n";
}

}  // namespace

const std::vector<LayerType>& layer_types() {
  static const std::vector<LayerType> rows = make_layer_types();
  return rows;
}
const std::vector<LossType>& loss_types() {
  static const std::vector<LossType> rows = make_loss_types();
  return rows;
}
const std::vector<OptimizerType>& optimizer_types() {
  static const std::vector<OptimizerType> rows = make_optimizer_types();
  return rows;
}
const std::vector<SchedulerType>& scheduler_types() {
  static const std::vector<SchedulerType> rows = make_scheduler_types();
  return rows;
}
const std::vector<KeySpec>& warmup_keys() {
  static const std::vector<KeySpec> keys{integer_key("warmup_epochs", 0, "epochs of linear warmup before the schedule", 0),
                                         number_key("warmup_start_factor", 0.1, "the warmup starts at lr · factor", 0, 1, true)};
  return keys;
}

const LayerType* find_layer_type(const std::string& name) { return find_row(layer_types(), name); }
const LossType* find_loss_type(const std::string& name) { return find_row(loss_types(), name); }
const OptimizerType* find_optimizer_type(const std::string& name) { return find_row(optimizer_types(), name); }
const SchedulerType* find_scheduler_type(const std::string& name) { return find_row(scheduler_types(), name); }

std::string config_reference_markdown() {
  std::string out;
  append_table(out, "Layers (`model.layers[i]`)", layer_types());
  append_table(out, "Losses (`loss`)", loss_types());
  append_table(out, "Optimizers (`optimizer`)", optimizer_types());
  append_table(out, "Schedulers (`scheduler`; stepped once per epoch)", scheduler_types(), &warmup_keys());
  return out;
}

}  // namespace tinynn::nn
