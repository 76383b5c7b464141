// The JSON training config: parsed, defaulted and validated before any work starts. Every error
// is a ConfigError naming the JSON path (model.layers[2].units) and what was expected; unknown
// keys list the allowed ones and suggest the closest. configs/README.md documents every key.
#pragma once
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "../../core/device.h"
#include "../../core/error.h"
#include "../regularization.h"
#include "registry.h"

namespace tinynn::nn {

class ConfigError : public Error {
  using Error::Error;
};

struct ClipSpec {
  std::optional<double> max_norm;
  double norm_type = 2.0;
  std::optional<double> value;
};

struct DataSpec {
  std::string type = "idx";  // idx, image_folder, csv, synthetic
  std::string dir = "/usr/share/datasets/fashion-mnist";
  std::string train_path, test_path;  // csv
  bool header = true;
  std::int64_t label_column = -1;
  std::string task = "classification";  // csv: classification or regression
  std::string synthetic = "xor";
  std::int64_t samples = 1000, test_samples = 500;
  double noise = 0.1;
  std::int64_t channels = 1;
  std::vector<std::int64_t> image_size;  // [height, width]
  bool scale = true;                     // divide pixels by 255 (idx, image_folder)
  bool normalize = true;
  std::optional<double> mean, std;       // computed from the training set when absent
  double validation_split = 0.1;
  std::int64_t max_train = 0, max_test = 0;  // 0 = all
  std::vector<std::string> class_names;
  // data.augment, training batches only: random crops from the image padded by crop_padding on
  // each side (0: off) and random horizontal flips (off by default: they suit photos, not digits).
  std::int64_t crop_padding = 0;
  bool horizontal_flip = false;
};

struct TrainingSpec {
  std::int64_t epochs = 10, batch_size = 128;
  std::uint64_t seed = 42;
  std::string device = "auto";  // cpu, cuda, cuda:N, auto
  std::int64_t eval_interval = 1;
  std::int64_t early_stopping_patience = 0;  // 0 = off
  std::string early_stopping_metric = "val_loss";  // val_loss or val_accuracy
  double early_stopping_min_delta = 0.0;  // an improvement must beat the best by more than this
  bool restore_best = true;               // test the weights of the best epoch, not the last
  bool shuffle = true, drop_last = false;
  std::string on_nonfinite = "stop";  // stop or skip
  std::int64_t threads = 0;           // 0 = every core
  std::string checkpoint_dir;         // where last/best.safetensors go; default the run directory
  bool resume = false;                // continue from checkpoint_dir/last.safetensors (--resume sets it)
  bool flush_denormal = true;         // subnormal floats computed as zero (see core/parallel.h)
};

struct OutputSpec {
  std::string run_dir;        // default runs/<config file name>
  bool plot = true;
  std::string progress = "auto";  // auto (a bar on a terminal, lines otherwise), bar, lines, none
  bool checkpoints = true;
  bool log_spectra = false;  // per epoch: spectral norm and condition number of every weight matrix
};

// The config as JSON with every default filled in: what config.json and checkpoints hold. A
// value type over the JSON library, which stays private to the application's .cpp files.
class ConfigDocument {
 public:
  struct Impl;
  ConfigDocument();
  ~ConfigDocument();
  ConfigDocument(const ConfigDocument& other);
  ConfigDocument& operator=(const ConfigDocument& other);
  std::string dump(int indent = -1) const;  // invalid UTF-8 replaced, never throws for that
  Impl& impl() { return *impl_; }
  const Impl& impl() const { return *impl_; }

 private:
  std::unique_ptr<Impl> impl_;
};

struct Config {
  std::vector<TypedSpec> layers;  // each a row of layer_types()
  TypedSpec loss, optimizer, scheduler;  // rows of loss_types(), optimizer_types(), scheduler_types()
  GlobalPenalty regularization;
  ClipSpec clip;
  DataSpec data;
  TrainingSpec training;
  OutputSpec output;
  std::string name;         // the config file's stem
  ConfigDocument resolved;  // the whole config with every default filled in
};

// Parses and validates. `source` names the text in messages (a file path).
Config parse_config(const std::string& text, const std::string& source, const std::vector<std::string>& overrides = {});
Config load_config(const std::string& path, const std::vector<std::string>& overrides = {});
// The name of `names` within two edits of `word` (a typo's likely meaning), or "" when none is.
std::string closest_name(const std::string& word, const std::vector<std::string>& names);
// " (did you mean 'NAME'?)" for closest_name's answer, or "" when there is none: for messages.
std::string did_you_mean(const std::string& word, const std::vector<std::string>& names);

// The device a config asks for, resolved ("auto" is CUDA when present). A malformed name is a
// ConfigError; a device that is not present is a DeviceError naming `path`.
Device resolve_device(const std::string& name, const std::string& path = "training.device");

}  // namespace tinynn::nn
