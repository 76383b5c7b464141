// Checkpoints on top of safetensors. Scalars are stored as decimal text (round-trip exact, and
// infinities survive, which JSON numbers would not).
#include "checkpoint.h"

#include <fmt/format.h>

#include <charconv>
#include <sstream>

namespace tinynn::nn {

namespace {

constexpr const char* kFormat = "tinynn-checkpoint-1";

std::string number(double v) { return fmt::format("{}", v); }

double parse_number(const std::string& path, const std::string& key, const std::string& text) {
  try {
    std::size_t used = 0;
    const double v = std::stod(text, &used);
    if (used == text.size()) return v;
  } catch (const std::exception&) {
  }
  throw CheckpointError(fmt::format("tinynn: checkpoint '{}': metadata '{}' is not a number: '{}'", path, key, text));
}

std::uint64_t parse_unsigned(const std::string& path, const std::string& key, const std::string& text) {
  std::uint64_t v = 0;
  const auto [end, ec] = std::from_chars(text.data(), text.data() + text.size(), v);
  if (text.empty() || ec != std::errc() || end != text.data() + text.size())
    throw CheckpointError(fmt::format("tinynn: checkpoint '{}': metadata '{}' is not a non-negative integer: '{}'", path, key, text));
  return v;
}

const std::string& required(const SafetensorsFile& f, const std::string& path, const std::string& key) {
  const auto it = f.metadata.find(key);
  if (it == f.metadata.end())
    throw CheckpointError(fmt::format("tinynn: checkpoint '{}': metadata '{}' is missing", path, key));
  return it->second;
}

// The scalars saved under "<part>." (optimizer, scheduler), after checking the checkpoint holds
// the state of a `name` for that part.
std::map<std::string, double> part_scalars(const SafetensorsFile& f, const std::string& path, const std::string& part,
                                           const std::string& name) {
  const auto it = f.metadata.find(part);
  if (it == f.metadata.end() || it->second != name)
    throw CheckpointError(fmt::format("tinynn: checkpoint '{}' holds no {} {} state", path, name, part));
  std::map<std::string, double> scalars;
  const std::string prefix = part + ".";
  for (const auto& [key, value] : f.metadata)
    if (key.rfind(prefix, 0) == 0) scalars[key.substr(prefix.size())] = parse_number(path, key, value);
  return scalars;
}

// Runs `load`, reporting any error as a bad `part` state of this checkpoint.
template <class Load>
void load_part(const std::string& path, const std::string& part, Load load) {
  try {
    load();
  } catch (const Error& e) {
    throw CheckpointError(fmt::format("tinynn: checkpoint '{}': bad {} state: {}", path, part, e.what()));
  }
}

// Progress fields from a checkpoint's metadata.
TrainingProgress progress_of(const SafetensorsFile& f, const std::string& path) {
  TrainingProgress p;
  p.epoch = static_cast<std::int64_t>(parse_number(path, "epoch", required(f, path, "epoch")));
  p.step = static_cast<std::int64_t>(parse_number(path, "step", required(f, path, "step")));
  p.rng_seed = parse_unsigned(path, "rng_seed", required(f, path, "rng_seed"));
  p.rng_offset = parse_unsigned(path, "rng_offset", required(f, path, "rng_offset"));
  p.config_json = required(f, path, "config");
  for (const auto& [key, value] : f.metadata)
    if (key.rfind("extra.", 0) == 0) p.extra[key.substr(6)] = parse_number(path, key, value);
  if (const auto it = f.metadata.find("sample_shape"); it != f.metadata.end() && it->second.size() > 2) {
    std::stringstream dims(it->second.substr(1, it->second.size() - 2));
    for (std::string d; std::getline(dims, d, ',');) p.sample_shape.push_back(static_cast<std::int64_t>(parse_number(path, "sample_shape", d.substr(d.find_first_not_of(' ')))));
  }
  // The output size: rows of the 2-D weight of the highest-numbered layer ("model.<i>.weight").
  std::int64_t last_layer = -1;
  for (const auto& [name, t] : f.tensors) {
    if (t.dim() != 2 || name.rfind("model.", 0) != 0 || name.size() < 14 || name.compare(name.size() - 7, 7, ".weight") != 0)
      continue;
    const std::string index = name.substr(6, name.size() - 13);
    if (index.empty() || index.find_first_not_of("0123456789") != std::string::npos) continue;
    if (const std::int64_t i = std::stoll(index); i > last_layer) {
      last_layer = i;
      p.output_size = t.shape()[0];
    }
  }
  return p;
}

}  // namespace

TrainingProgress read_progress(const std::string& path) {
  const SafetensorsFile f = load_safetensors(path);
  if (required(f, path, "format") != kFormat)
    throw CheckpointError(fmt::format("tinynn: checkpoint '{}': format '{}' is not {}", path, required(f, path, "format"), kFormat));
  return progress_of(f, path);
}

void save_checkpoint(const std::string& path, const Module& model, const Optimizer* optimizer, const Scheduler* scheduler,
                     const TrainingProgress& progress) {
  std::map<std::string, Tensor> tensors;
  std::map<std::string, std::string> meta{{"format", kFormat},
                                          {"epoch", std::to_string(progress.epoch)},
                                          {"step", std::to_string(progress.step)},
                                          {"rng_seed", std::to_string(progress.rng_seed)},
                                          {"rng_offset", std::to_string(progress.rng_offset)},
                                          {"config", progress.config_json}};
  for (const auto& [name, v] : progress.extra) meta["extra." + name] = number(v);
  meta["sample_shape"] = shape_str(progress.sample_shape);
  for (const auto& [name, t] : model.state_dict()) tensors["model." + name] = t;
  if (optimizer != nullptr) {
    const OptimizerState s = optimizer->state_dict();
    meta["optimizer"] = optimizer->name();
    for (const auto& [name, t] : s.tensors) tensors["optimizer." + name] = t;
    for (const auto& [name, v] : s.scalars) meta["optimizer." + name] = number(v);
  }
  if (scheduler != nullptr) {
    meta["scheduler"] = scheduler->name();
    for (const auto& [name, v] : scheduler->state_dict().scalars) meta["scheduler." + name] = number(v);
  }
  save_safetensors(path, tensors, meta);
}

TrainingProgress load_checkpoint(const std::string& path, Module& model, Optimizer* optimizer, Scheduler* scheduler) {
  const SafetensorsFile f = load_safetensors(path);
  if (required(f, path, "format") != kFormat)
    throw CheckpointError(fmt::format("tinynn: checkpoint '{}': format '{}' is not {}", path, required(f, path, "format"), kFormat));
  std::map<std::string, Tensor> weights;
  OptimizerState opt_state;
  for (const auto& [name, t] : f.tensors) {
    if (name.rfind("model.", 0) == 0) weights[name.substr(6)] = t;
    else if (name.rfind("optimizer.", 0) == 0) opt_state.tensors[name.substr(10)] = t;
  }
  const auto expected = model.state_dict();
  for (const auto& [name, t] : weights) {
    const auto it = expected.find(name);
    if (it != expected.end() && it->second.dtype() != t.dtype())
      throw CheckpointError(fmt::format("tinynn: checkpoint '{}': '{}' is {} in the file but {} in the model", path, name,
                                        dtype_name(t.dtype()), dtype_name(it->second.dtype())));
  }
  try {
    model.load_state_dict(weights);
  } catch (const Error& e) {
    throw CheckpointError(fmt::format("tinynn: checkpoint '{}' does not fit this model (another architecture?): {}", path,
                                      e.what()));
  }
  if (optimizer != nullptr) {
    opt_state.scalars = part_scalars(f, path, "optimizer", optimizer->name());
    load_part(path, "optimizer", [&] { optimizer->load_state_dict(opt_state); });
  }
  if (scheduler != nullptr) {
    const SchedulerState s{part_scalars(f, path, "scheduler", scheduler->name())};
    load_part(path, "scheduler", [&] { scheduler->load_state_dict(s); });
  }
  return progress_of(f, path);
}

}  // namespace tinynn::nn
