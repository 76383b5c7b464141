// Config parsing: a small typed reader over JSON objects that knows its path, rejects unknown
// keys (suggesting the closest allowed one) and records every value it reads, defaults included,
// so the resolved config can be written next to the results.
#include "config.h"

#include <fmt/format.h>
#include <fmt/ranges.h>

#include <algorithm>
#include <charconv>
#include <filesystem>
#include <fstream>
#include <sstream>

#include "detail/config_document.h"

namespace tinynn::nn {

ConfigDocument::ConfigDocument() : impl_(std::make_unique<Impl>()) {}
ConfigDocument::~ConfigDocument() = default;
ConfigDocument::ConfigDocument(const ConfigDocument& other) : impl_(std::make_unique<Impl>(*other.impl_)) {}
ConfigDocument& ConfigDocument::operator=(const ConfigDocument& other) {
  *impl_ = *other.impl_;
  return *this;
}
std::string ConfigDocument::dump(int indent) const {
  return impl_->json.dump(indent, ' ', false, nlohmann::json::error_handler_t::replace);
}

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
      fail(at(key), fmt::format("unknown key{}; allowed keys: {}", did_you_mean(key, allowed), join(allowed)));
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
  // A window size: n (for [n, n]) or [height, width], both at least k.lo.
  std::vector<std::int64_t> pair(const KeySpec& k) {
    std::vector<std::int64_t> v = std::get<std::vector<std::int64_t>>(k.fallback);
    if (has(k.name)) {
      const json& j = raw(k.name);
      if (j.is_number_integer()) v = {j.get<std::int64_t>(), j.get<std::int64_t>()};
      else if (j.is_array() && j.size() == 2 && j[0].is_number_integer() && j[1].is_number_integer()) v = j.get<std::vector<std::int64_t>>();
      else fail(at(k.name), fmt::format("expected an integer or [height, width], got {}", show(j)));
      if (static_cast<double>(std::min(v[0], v[1])) < k.lo)
        fail(at(k.name), fmt::format("must be at least {}, got {}", static_cast<std::int64_t>(k.lo), show(j)));
    }
    out_[k.name] = v;
    return v;
  }
  // A key as a registry row declares it; its type is its default's.
  KeyValue read(const KeySpec& k) {
    return std::visit(
        [&](const auto& fallback) -> KeyValue {
          using T = std::decay_t<decltype(fallback)>;
          if constexpr (std::is_same_v<T, bool>) return boolean(k.name, fallback);
          else if constexpr (std::is_same_v<T, std::int64_t>)
            return integer(k.name, fallback, static_cast<std::int64_t>(std::max(k.lo, -9.2e18)),
                           static_cast<std::int64_t>(std::min(k.hi, 9.2e18)));
          else if constexpr (std::is_same_v<T, double>) return number(k.name, fallback, k.lo, k.hi, k.lo_open);
          else if constexpr (std::is_same_v<T, std::string>) return text(k.name, fallback, k.choices);
          else if constexpr (std::is_same_v<T, std::vector<std::int64_t>>) return k.pair ? pair(k) : list(k.name, fallback);
          else return list<typename T::value_type>(k.name, fallback);
        },
        k.fallback);
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

std::vector<std::string> key_names(const std::vector<KeySpec>& keys) {
  std::vector<std::string> names{"type"};
  for (const KeySpec& k : keys) names.push_back(k.name);
  return names;
}

// Reads the object `j` at `path` as the row of its "type" (`fallback_type` when absent): only
// that row's keys are allowed, each checked and defaulted as the row says.
template <class Row>
TypedSpec read_typed(const json& j, const std::string& path, const std::string& fallback_type, const std::vector<Row>& rows,
                     const Row* (*find)(const std::string&), const char* what, json& out) {
  if (!j.is_object()) fail(path, fmt::format("expected an object, got {}", show(j)));
  std::string type = fallback_type;
  if (j.contains("type")) {
    if (!j.at("type").is_string()) fail(path + ".type", fmt::format("expected a string, got {}", show(j.at("type"))));
    type = j.at("type").get<std::string>();
  }
  const Row* row = find(type);
  if (row == nullptr) {
    std::vector<std::string> names;
    for (const Row& r : rows) names.push_back(r.name);
    fail(path + ".type", fmt::format("unknown {} '{}'{}; known: {}", what, type, did_you_mean(type, names), join(names)));
  }
  std::vector<KeySpec> keys = row->keys;
  if constexpr (std::is_same_v<Row, SchedulerType>)
    if (row->closed_form) keys.insert(keys.end(), warmup_keys().begin(), warmup_keys().end());
  Reader r(j, path, key_names(keys), out);
  TypedSpec spec{r.text("type", type), {}, path};
  for (const KeySpec& k : keys) spec.values.set(k.name, r.read(k));
  if constexpr (requires { row->check; })
    if (row->check) row->check(spec);
  return spec;
}

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
    layers_out.push_back(json::object());
    c.layers.push_back(read_typed(layers[i], path, "", layer_types(), find_layer_type, "layer", layers_out.back()));
  }
  // Only the last dense layer may leave its size to the data (units 0: one output per class or target).
  bool later_dense = false;
  for (auto it = c.layers.rbegin(); it != c.layers.rend(); ++it) {
    if (!find_layer_type(it->type)->dense) continue;
    if (later_dense && it->values.integer("units") == 0)
      fail(it->path + ".units", "0 is out of range: only the last linear layer may leave its size to the data");
    later_dense = true;
  }
}

// A section named by its type ("loss", "optimizer", "scheduler"): {} when absent.
template <class Row>
TypedSpec read_section(const json& doc, const char* section, const std::string& fallback_type, const std::vector<Row>& rows,
                       const Row* (*find)(const std::string&), json& out) {
  static const json empty = json::object();
  const json& j = doc.contains(section) && !doc.at(section).is_null() ? doc.at(section) : empty;
  return read_typed(j, section, fallback_type, rows, find, section, out[section]);
}

void read_sections(const json& doc, Config& c, json& out) {
  Reader top(doc, "", {"model", "loss", "optimizer", "scheduler", "regularization", "clip", "data", "training", "output"}, out);
  read_model(doc, c, out);

  c.loss = read_section(doc, "loss", "cross_entropy", loss_types(), find_loss_type, out);
  c.optimizer = read_section(doc, "optimizer", "adam", optimizer_types(), find_optimizer_type, out);
  c.scheduler = read_section(doc, "scheduler", "none", scheduler_types(), find_scheduler_type, out);

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
                                   "std", "validation_split", "max_train", "max_test", "class_names", "augment"});
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
  Reader augment = data.child("augment", {"crop_padding", "horizontal_flip"});
  d.crop_padding = augment.integer("crop_padding", 0, 0, 1024);
  d.horizontal_flip = augment.boolean("horizontal_flip", false);
  if ((d.crop_padding > 0 || d.horizontal_flip) && d.type != "idx" && d.type != "image_folder")
    fail("data.augment", "augmentation is for image data (idx or image_folder), not " + d.type);
  if ((d.type == "idx" || d.type == "image_folder") && d.dir.empty()) fail("data.dir", "required for " + d.type + " data");
  if (d.type == "csv" && (d.train_path.empty() || d.test_path.empty()))
    fail(d.train_path.empty() ? "data.train_path" : "data.test_path", "required for csv data");

  Reader tr = top.child("training", {"epochs", "batch_size", "seed", "device", "eval_interval", "early_stopping", "shuffle",
                                     "drop_last", "on_nonfinite", "threads", "checkpoint_dir", "resume",
                                     "flush_denormal"});
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
  Reader es = tr.child("early_stopping", {"patience", "metric", "min_delta", "restore_best"});
  t.early_stopping_patience = es.integer("patience", 0, 0);
  t.early_stopping_metric = es.text("metric", "val_loss", {"val_loss", "val_accuracy"});
  t.early_stopping_min_delta = es.number("min_delta", 0, 0);
  t.restore_best = es.boolean("restore_best", true);
  t.shuffle = tr.boolean("shuffle", true);
  t.drop_last = tr.boolean("drop_last", false);
  t.on_nonfinite = tr.text("on_nonfinite", "stop", {"stop", "skip"});
  t.threads = tr.integer("threads", 0, 0, 1024);
  t.checkpoint_dir = tr.text("checkpoint_dir", "");
  t.resume = tr.boolean("resume", false);
  t.flush_denormal = tr.boolean("flush_denormal", true);

  Reader o2 = top.child("output", {"run_dir", "plot", "progress", "checkpoints", "log_spectra"});
  c.output.run_dir = o2.text("run_dir", "runs/" + c.name);
  c.output.plot = o2.boolean("plot", true);
  c.output.progress = o2.text("progress", "auto", {"auto", "bar", "lines", "none"});
  c.output.checkpoints = o2.boolean("checkpoints", true);
  c.output.log_spectra = o2.boolean("log_spectra", false);

  const bool regression_loss = find_loss_type(c.loss.type)->regression;
  const bool regression_data = d.task == "regression" && (d.type == "csv" || d.type == "synthetic");
  if (regression_loss != regression_data)
    fail("loss.type", fmt::format("'{}' does not fit {} data (classification: cross_entropy or nll; regression: mse, l1, "
                                  "huber or smooth_l1)", c.loss.type, regression_data ? "regression" : "classification"));
}

}  // namespace

std::string closest_name(const std::string& word, const std::vector<std::string>& names) {
  std::string best;
  std::size_t best_distance = 3;  // suggest only plausible typos
  for (const auto& name : names)
    if (const auto d = edit_distance(word, name); d < best_distance) best = name, best_distance = d;
  return best;
}

std::string did_you_mean(const std::string& word, const std::vector<std::string>& names) {
  const std::string best = closest_name(word, names);
  return best.empty() ? "" : fmt::format(" (did you mean '{}'?)", best);
}

namespace detail {
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
}  // namespace detail

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
  // Data paths written in a config file are relative to that file's folder, so a config runs the
  // same from any working directory; paths given with --set stay relative to where it is typed.
  const std::filesystem::path base = std::filesystem::path(source).parent_path();
  if (!base.empty() && doc.is_object() && doc.contains("data") && doc["data"].is_object())
    for (const char* key : {"dir", "train_path", "test_path"}) {
      json& value = doc["data"][key];
      if (value.is_string() && !value.get<std::string>().empty() && std::filesystem::path(value.get<std::string>()).is_relative())
        value = std::filesystem::absolute(base / value.get<std::string>()).lexically_normal().string();
      else if (value.is_null())
        doc["data"].erase(key);
    }
  for (const auto& o : overrides) detail::apply_override(doc, o);
  Config c;
  c.name = std::filesystem::path(source).stem().string();
  read_sections(doc, c, c.resolved.impl().json);
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
