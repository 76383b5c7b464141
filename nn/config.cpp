// Config parsing: a small typed reader over JSON objects that knows its path, rejects unknown
// keys (suggesting the closest allowed one) and records every value it reads, defaults included,
// so the resolved config can be written next to the results.
#include "config.h"

#include <fmt/format.h>

#include <algorithm>
#include <charconv>
#include <filesystem>
#include <fstream>
#include <sstream>

namespace tinynn::nn {

namespace {

using json = nlohmann::json;

[[noreturn]] void fail(const std::string& path, const std::string& what) {
  throw ConfigError(fmt::format("config: {}: {}", path.empty() ? "(top level)" : path, what));
}

std::size_t edit_distance(const std::string& a, const std::string& b) {
  std::vector<std::size_t> row(b.size() + 1);
  for (std::size_t j = 0; j <= b.size(); ++j) row[j] = j;
  for (std::size_t i = 1; i <= a.size(); ++i) {
    std::size_t diagonal = row[0];
    row[0] = i;
    for (std::size_t j = 1; j <= b.size(); ++j) {
      const std::size_t up = row[j];
      row[j] = std::min({row[j] + 1, row[j - 1] + 1, diagonal + (a[i - 1] == b[j - 1] ? 0 : 1)});
      diagonal = up;
    }
  }
  return row[b.size()];
}

// A value as JSON text for messages; never throws.
std::string show(const json& j) { return j.dump(-1, ' ', false, json::error_handler_t::replace); }

std::string join(const std::vector<std::string>& items) {
  std::string out;
  for (const auto& s : items) out += (out.empty() ? "" : ", ") + s;
  return out;
}

// Reads one JSON object at `path`, allowing only `allowed` keys; writes what it read into `out`.
class Reader {
 public:
  Reader(const json& j, std::string path, std::vector<std::string> allowed, json& out)
      : j_(j), path_(std::move(path)), out_(out) {
    if (!j.is_object()) fail(path_, fmt::format("expected an object, got {}", show(j)));
    for (const auto& [key, value] : j.items()) {
      if (std::find(allowed.begin(), allowed.end(), key) != allowed.end()) continue;
      std::string best;
      std::size_t best_distance = 3;  // suggest only plausible typos
      for (const auto& a : allowed)
        if (const auto d = edit_distance(key, a); d < best_distance) best = a, best_distance = d;
      fail(at(key), fmt::format("unknown key{}; allowed keys: {}", best.empty() ? "" : fmt::format(" (did you mean '{}'?)", best),
                                join(allowed)));
    }
    out_ = json::object();
  }

  std::string at(const std::string& key) const { return path_.empty() ? key : path_ + "." + key; }
  bool has(const std::string& key) const { return j_.contains(key) && !j_.at(key).is_null(); }
  const json& raw(const std::string& key) const { return j_.at(key); }

  double number(const std::string& key, double def, double lo = -1e300, double hi = 1e300, bool lo_open = false) {
    double v = def;
    if (has(key)) {
      if (!raw(key).is_number()) fail(at(key), fmt::format("expected a number, got {}", show(raw(key))));
      v = raw(key).get<double>();
    }
    if (v < lo || v > hi || (lo_open && v == lo))
      fail(at(key), fmt::format("{} is out of range: expected {}{}, {}]", v, lo_open ? "(" : "[", lo, hi));
    out_[key] = v;
    return v;
  }
  std::int64_t integer(const std::string& key, std::int64_t def, std::int64_t lo, std::int64_t hi = INT64_MAX) {
    std::int64_t v = def;
    if (has(key)) {
      if (!raw(key).is_number_integer()) fail(at(key), fmt::format("expected an integer, got {}", show(raw(key))));
      v = raw(key).get<std::int64_t>();
    }
    if (v < lo || v > hi) fail(at(key), fmt::format("{} is out of range: expected an integer in [{}, {}]", v, lo, hi));
    out_[key] = v;
    return v;
  }
  bool boolean(const std::string& key, bool def) {
    bool v = def;
    if (has(key)) {
      if (!raw(key).is_boolean()) fail(at(key), fmt::format("expected true or false, got {}", show(raw(key))));
      v = raw(key).get<bool>();
    }
    out_[key] = v;
    return v;
  }
  std::string text(const std::string& key, const std::string& def, const std::vector<std::string>& choices = {}) {
    std::string v = def;
    if (has(key)) {
      if (!raw(key).is_string()) fail(at(key), fmt::format("expected a string, got {}", show(raw(key))));
      v = raw(key).get<std::string>();
    }
    if (!choices.empty() && std::find(choices.begin(), choices.end(), v) == choices.end())
      fail(at(key), fmt::format("'{}' is not one of: {}", v, join(choices)));
    out_[key] = v;
    return v;
  }
  std::optional<double> optional_number(const std::string& key, double lo, bool lo_open) {
    if (!has(key)) {
      out_[key] = nullptr;
      return std::nullopt;
    }
    return number(key, 0.0, lo, 1e300, lo_open);
  }
  template <class T>
  std::vector<T> list(const std::string& key, std::vector<T> def) {
    if (has(key)) {
      const json& v = raw(key);
      bool ok = v.is_array();
      for (std::size_t i = 0; ok && i < v.size(); ++i)
        ok = std::is_integral_v<T> ? v[i].is_number_integer() : (std::is_arithmetic_v<T> ? v[i].is_number() : v[i].is_string());
      if (!ok) fail(at(key), fmt::format("expected a list of {}, got {}", std::is_arithmetic_v<T> ? "numbers" : "strings", show(v)));
      def = v.get<std::vector<T>>();
    }
    out_[key] = def;
    return def;
  }
  // A nested object (or {} when absent).
  Reader child(const std::string& key, std::vector<std::string> allowed) {
    static const json empty = json::object();
    return Reader(has(key) ? raw(key) : empty, at(key), std::move(allowed), out_[key]);
  }

 private:
  const json& j_;
  std::string path_;
  json& out_;
};

std::vector<std::string> layer_keys(const std::string& type) {
  if (type == "linear") return {"type", "units", "bias", "l1", "l2", "bias_l1", "bias_l2", "init"};
  if (type == "leaky_relu") return {"type", "slope"};
  if (type == "softmax" || type == "log_softmax") return {"type", "axis"};
  if (type == "dropout") return {"type", "p"};
  if (type == "batchnorm") return {"type", "eps", "momentum"};
  if (type == "layernorm") return {"type", "eps"};
  return {"type"};
}

const std::vector<std::string> kLayerTypes = {"linear",  "relu",        "leaky_relu", "sigmoid", "tanh",      "gelu",
                                              "softmax", "log_softmax", "dropout",    "flatten", "batchnorm", "layernorm"};

void read_model(const json& doc, Config& c, json& out) {
  if (!doc.contains("model")) fail("model", "missing: a model needs at least one layer");
  Reader model(doc.at("model"), "model", {"layers"}, out["model"]);
  if (!model.has("layers") || !model.raw("layers").is_array() || model.raw("layers").empty())
    fail("model.layers", "expected a non-empty list of layers");
  json& layers_out = out["model"]["layers"] = json::array();
  const json& layers = model.raw("layers");
  for (std::size_t i = 0; i < layers.size(); ++i) {
    const std::string path = fmt::format("model.layers[{}]", i);
    if (!layers[i].is_object() || !layers[i].contains("type") || !layers[i]["type"].is_string())
      fail(path, "expected an object with a \"type\"");
    const std::string type = layers[i]["type"].get<std::string>();
    if (std::find(kLayerTypes.begin(), kLayerTypes.end(), type) == kLayerTypes.end())
      fail(path + ".type", fmt::format("unknown layer '{}'; known layers: {}", type, join(kLayerTypes)));
    layers_out.push_back(json::object());
    Reader r(layers[i], path, layer_keys(type), layers_out.back());
    LayerSpec l;
    l.type = r.text("type", type);
    l.path = path;
    if (type == "linear") {
      l.units = r.integer("units", 0, i + 1 == layers.size() ? 0 : 1, 1 << 24);
      l.bias = r.boolean("bias", true);
      l.weight_penalty = {r.number("l1", 0, 0), r.number("l2", 0, 0)};
      l.bias_penalty = {r.number("bias_l1", 0, 0), r.number("bias_l2", 0, 0)};
      l.init = r.text("init", "default", {"default", "xavier_uniform", "xavier_normal", "kaiming_uniform", "kaiming_normal"});
    } else if (type == "leaky_relu") {
      l.slope = r.number("slope", 0.01, 0);
    } else if (type == "softmax" || type == "log_softmax") {
      l.axis = r.integer("axis", -1, -8, 7);
    } else if (type == "dropout") {
      l.p = r.number("p", 0.5, 0, 0.999);
    } else if (type == "batchnorm") {
      l.eps = r.number("eps", 1e-5, 0, 1, true);
      l.momentum = r.number("momentum", 0.1, 0, 1);
    } else if (type == "layernorm") {
      l.eps = r.number("eps", 1e-5, 0, 1, true);
    }
    c.layers.push_back(l);
  }
}

void read_sections(const json& doc, Config& c, json& out) {
  Reader top(doc, "", {"model", "loss", "optimizer", "scheduler", "regularization", "clip", "data", "training", "output"}, out);
  read_model(doc, c, out);

  Reader loss = top.child("loss", {"type", "label_smoothing", "class_weights", "delta"});
  c.loss.type = loss.text("type", "cross_entropy", {"cross_entropy", "nll", "mse", "l1", "huber", "smooth_l1"});
  c.loss.label_smoothing = loss.number("label_smoothing", 0, 0, 0.999);
  c.loss.class_weights = loss.list<double>("class_weights", {});
  c.loss.delta = loss.number("delta", 1.0, 0, 1e300, true);

  Reader opt = top.child("optimizer", {"type", "lr", "weight_decay", "momentum", "dampening", "nesterov", "betas", "eps",
                                       "amsgrad", "alpha", "centered", "lr_decay"});
  auto& o = c.optimizer;
  o.type = opt.text("type", "adam", {"sgd", "adam", "adamw", "rmsprop", "adagrad"});
  o.lr = opt.number("lr", o.type == "sgd" ? 0.01 : 1e-3, 0, 10, true);
  o.weight_decay = opt.number("weight_decay", o.type == "adamw" ? 0.01 : 0.0, 0, 1);
  o.momentum = opt.number("momentum", 0, 0, 1);
  o.dampening = opt.number("dampening", 0, 0, 1);
  o.nesterov = opt.boolean("nesterov", false);
  const auto betas = opt.list<double>("betas", {0.9, 0.999});
  if (betas.size() != 2 || betas[0] < 0 || betas[0] >= 1 || betas[1] < 0 || betas[1] >= 1)
    fail("optimizer.betas", "expected two numbers in [0, 1), like [0.9, 0.999]");
  o.beta1 = betas[0], o.beta2 = betas[1];
  o.eps = opt.number("eps", o.type == "adagrad" ? 1e-10 : 1e-8, 0, 1, true);
  o.amsgrad = opt.boolean("amsgrad", false);
  o.alpha = opt.number("alpha", 0.99, 0, 1);
  o.centered = opt.boolean("centered", false);
  o.lr_decay = opt.number("lr_decay", 0, 0);
  if (o.nesterov && (o.type != "sgd" || o.momentum == 0)) fail("optimizer.nesterov", "needs the sgd optimizer with momentum > 0");

  Reader sch = top.child("scheduler", {"type", "step_size", "gamma", "milestones", "t_max", "eta_min", "warmup_epochs",
                                       "warmup_start_factor", "factor", "patience", "threshold", "cooldown", "min_lr"});
  auto& s = c.scheduler;
  s.type = sch.text("type", "none", {"none", "step", "multi_step", "exponential", "cosine", "plateau"});
  s.step_size = sch.integer("step_size", 10, 1);
  s.gamma = sch.number("gamma", s.type == "exponential" ? 0.95 : 0.1, 0, 1, true);
  s.milestones = sch.list<std::int64_t>("milestones", {});
  if (!std::is_sorted(s.milestones.begin(), s.milestones.end())) fail("scheduler.milestones", "must be increasing");
  s.t_max = sch.integer("t_max", 0, 0);
  s.eta_min = sch.number("eta_min", 0, 0);
  s.warmup_epochs = sch.integer("warmup_epochs", 0, 0);
  s.warmup_start_factor = sch.number("warmup_start_factor", 0.1, 0, 1, true);
  s.factor = sch.number("factor", 0.1, 0, 0.999, true);
  s.patience = sch.integer("patience", 10, 0);
  s.threshold = sch.number("threshold", 1e-4, 0);
  s.cooldown = sch.integer("cooldown", 0, 0);
  s.min_lr = sch.number("min_lr", 0, 0);
  if (s.type == "plateau" && s.warmup_epochs > 0) fail("scheduler.warmup_epochs", "cannot be combined with the plateau scheduler");

  Reader reg = top.child("regularization", {"l1", "l2", "bias_l1", "bias_l2"});
  c.regularization.weight = {reg.number("l1", 0, 0), reg.number("l2", 0, 0)};
  c.regularization.bias = {reg.number("bias_l1", 0, 0), reg.number("bias_l2", 0, 0)};

  Reader clip = top.child("clip", {"max_norm", "norm_type", "value"});
  c.clip.max_norm = clip.optional_number("max_norm", 0, true);
  c.clip.norm_type = clip.number("norm_type", 2, 1);
  if (c.clip.norm_type != 1 && c.clip.norm_type != 2 && c.clip.norm_type < 1e300) fail("clip.norm_type", "expected 1, 2 or 1e308 (inf)");
  c.clip.value = clip.optional_number("value", 0, true);

  Reader data = top.child("data", {"type", "dir", "train_path", "test_path", "header", "label_column", "task", "synthetic",
                                   "samples", "test_samples", "noise", "channels", "image_size", "scale", "normalize", "mean",
                                   "std", "validation_split", "max_train", "max_test", "class_names"});
  auto& d = c.data;
  d.type = data.text("type", "idx", {"idx", "image_folder", "csv", "synthetic"});
  d.dir = data.text("dir", d.type == "idx" ? "/usr/share/datasets/fashion-mnist" : "");
  d.train_path = data.text("train_path", "");
  d.test_path = data.text("test_path", "");
  d.header = data.boolean("header", true);
  d.label_column = data.integer("label_column", -1, -1000, 1000);
  d.task = data.text("task", "classification", {"classification", "regression"});
  d.synthetic = data.text("synthetic", "xor", {"xor", "spirals", "linear"});
  if (d.synthetic == "linear") d.task = "regression", data.text("task", "regression");
  d.samples = data.integer("samples", 1000, 1, 100000000);
  d.test_samples = data.integer("test_samples", 500, 1, 100000000);
  d.noise = data.number("noise", 0.1, 0);
  d.channels = data.integer("channels", 1, 1, 3);
  if (d.channels == 2) fail("data.channels", "expected 1 (grayscale) or 3 (RGB)");
  d.image_size = data.list<std::int64_t>("image_size", {});
  if (!d.image_size.empty() && (d.image_size.size() != 2 || d.image_size[0] <= 0 || d.image_size[1] <= 0))
    fail("data.image_size", "expected [height, width] with positive sizes");
  d.scale = data.boolean("scale", d.type == "idx" || d.type == "image_folder");
  d.normalize = data.boolean("normalize", true);
  d.mean = data.optional_number("mean", -1e300, false);
  d.std = data.optional_number("std", 0, true);
  d.validation_split = data.number("validation_split", 0.1, 0, 0.9);
  d.max_train = data.integer("max_train", 0, 0);
  d.max_test = data.integer("max_test", 0, 0);
  d.class_names = data.list<std::string>("class_names", {});
  if ((d.type == "idx" || d.type == "image_folder") && d.dir.empty()) fail("data.dir", "required for " + d.type + " data");
  if (d.type == "csv" && (d.train_path.empty() || d.test_path.empty()))
    fail(d.train_path.empty() ? "data.train_path" : "data.test_path", "required for csv data");

  Reader tr = top.child("training", {"epochs", "batch_size", "seed", "device", "eval_interval", "early_stopping", "shuffle",
                                     "drop_last", "on_nonfinite", "threads", "checkpoint_dir", "resume"});
  auto& t = c.training;
  t.epochs = tr.integer("epochs", 10, 1, 1000000);
  t.batch_size = tr.integer("batch_size", 128, 1, 1 << 24);
  t.seed = static_cast<std::uint64_t>(tr.integer("seed", 42, 0));
  t.device = tr.text("device", "auto");
  if (t.device != "auto") {  // a malformed name fails here; presence is checked when training starts
    try {
      Device::parse(t.device);
    } catch (const ValueError&) {
      fail(tr.at("device"), fmt::format("unknown device '{}': expected cpu, cuda, cuda:N or auto", t.device));
    }
  }
  t.eval_interval = tr.integer("eval_interval", 1, 1);
  Reader es = tr.child("early_stopping", {"patience", "metric"});
  t.early_stopping_patience = es.integer("patience", 0, 0);
  t.early_stopping_metric = es.text("metric", "val_loss", {"val_loss", "val_accuracy"});
  t.shuffle = tr.boolean("shuffle", true);
  t.drop_last = tr.boolean("drop_last", false);
  t.on_nonfinite = tr.text("on_nonfinite", "stop", {"stop", "skip"});
  t.threads = tr.integer("threads", 0, 0, 1024);
  t.checkpoint_dir = tr.text("checkpoint_dir", "");
  t.resume = tr.boolean("resume", false);

  Reader o2 = top.child("output", {"run_dir", "plot", "progress", "checkpoints", "log_spectra"});
  c.output.run_dir = o2.text("run_dir", "runs/" + c.name);
  c.output.plot = o2.boolean("plot", true);
  c.output.progress = o2.text("progress", "auto", {"auto", "bar", "lines", "none"});
  c.output.checkpoints = o2.boolean("checkpoints", true);
  c.output.log_spectra = o2.boolean("log_spectra", false);

  const bool regression_loss = c.loss.type == "mse" || c.loss.type == "l1" || c.loss.type == "huber" || c.loss.type == "smooth_l1";
  const bool regression_data = d.task == "regression" && (d.type == "csv" || d.type == "synthetic");
  if (regression_loss != regression_data)
    fail("loss.type", fmt::format("'{}' does not fit {} data (classification: cross_entropy or nll; regression: mse, l1, "
                                  "huber or smooth_l1)", c.loss.type, regression_data ? "regression" : "classification"));
}

}  // namespace

void apply_override(json& doc, const std::string& assignment) {
  const auto eq = assignment.find('=');
  if (eq == std::string::npos || eq == 0)
    throw ConfigError(fmt::format("config: --set '{}': expected key.path=value", assignment));
  const std::string path = assignment.substr(0, eq), text = assignment.substr(eq + 1);
  json value = json::parse(text, nullptr, /*allow_exceptions=*/false);
  if (value.is_discarded()) {
    value = text;  // a bare word is a string
    try {
      (void)value.dump();
    } catch (const json::exception&) {
      throw ConfigError(fmt::format("config: --set '{}': the value is not valid UTF-8 text", path));
    }
  }
  json* node = &doc;
  std::stringstream parts(path);
  std::string part;
  while (std::getline(parts, part, '.')) {
    std::string key = part;
    std::vector<std::size_t> indices;
    while (!key.empty() && key.back() == ']') {
      const auto open = key.rfind('[');
      const std::string digits = open == std::string::npos ? "" : key.substr(open + 1, key.size() - open - 2);
      std::size_t index = 0;
      const auto [end, ec] = std::from_chars(digits.data(), digits.data() + digits.size(), index);
      if (digits.empty() || ec != std::errc() || end != digits.data() + digits.size())
        throw ConfigError(fmt::format("config: --set '{}': '{}' is not a list index like [2]", assignment, part));
      indices.insert(indices.begin(), index);
      key = key.substr(0, open);
    }
    if (!node->is_object()) *node = json::object();
    node = &(*node)[key];
    for (auto i : indices) {
      if (!node->is_array() || i >= node->size())
        throw ConfigError(fmt::format("config: --set '{}': {} has no element [{}]", assignment, key, i));
      node = &(*node)[i];
    }
  }
  *node = value;
}

Config parse_config(const std::string& text, const std::string& source, const std::vector<std::string>& overrides) {
  json doc;
  try {
    doc = json::parse(text);
  } catch (const json::parse_error& e) {
    // Turn the byte offset into a line and column.
    std::size_t line = 1, column = 1;
    for (std::size_t i = 0; i + 1 < e.byte && i < text.size(); ++i) {
      if (text[i] == '\n') ++line, column = 1;
      else ++column;
    }
    const std::string what = e.what();  // "[json.exception.parse_error.101] parse error at ...: reason"
    const auto colon = what.find(": ");
    throw ConfigError(fmt::format("config: {}: invalid JSON at line {}, column {}: {}", source, line, column,
                                  colon == std::string::npos ? what : what.substr(colon + 2)));
  } catch (const json::exception& e) {  // e.g. a number too large for any numeric type
    const std::string what = e.what();
    throw ConfigError(fmt::format("config: {}: invalid JSON: {}", source, what.substr(what.find(']') + 2)));
  }
  for (const auto& o : overrides) apply_override(doc, o);
  Config c;
  c.name = std::filesystem::path(source).stem().string();
  read_sections(doc, c, c.resolved);
  return c;
}

Config load_config(const std::string& path, const std::vector<std::string>& overrides) {
  std::ifstream in(path);
  if (!in) throw ConfigError(fmt::format("config: cannot open '{}'", path));
  std::stringstream text;
  text << in.rdbuf();
  return parse_config(text.str(), path, overrides);
}

Device resolve_device(const std::string& name, const std::string& path) {
  if (name == "auto") return cuda_available() ? Device::cuda(0) : Device::cpu();
  Device d;
  try {
    d = Device::parse(name);
  } catch (const ValueError&) {
    fail(path, fmt::format("unknown device '{}': expected cpu, cuda, cuda:N or auto", name));
  }
  if (d.is_cuda() && d.index >= cuda_device_count())
    throw DeviceError(fmt::format("config: {}: '{}' requested, but {}", path, name,
                                  cuda_device_count() == 0 ? "no CUDA device is available" : "that CUDA device is not present"));
  return d;
}

}  // namespace tinynn::nn
