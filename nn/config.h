// The JSON training config: parsed, defaulted and validated before any work starts. Every error
// is a ConfigError naming the JSON path (model.layers[2].units) and what was expected; unknown
// keys list the allowed ones and suggest the closest. configs/README.md documents every key.
#pragma once
#include <optional>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

#include "../core/device.h"
#include "../core/error.h"
#include "regularization.h"

namespace tinynn::nn {

class ConfigError : public Error {
  using Error::Error;
};

struct LayerSpec {
  std::string type;       // linear, relu, leaky_relu, sigmoid, tanh, gelu, softmax, log_softmax, dropout, flatten, batchnorm, layernorm
  std::int64_t units = 0;  // linear: output features (0 on the last layer: the number of classes/targets)
  bool bias = true;
  Penalty weight_penalty, bias_penalty;  // linear: l1/l2 and bias_l1/bias_l2
  std::string init = "default";          // linear: default, xavier_uniform, xavier_normal, kaiming_uniform, kaiming_normal
  double p = 0.5;                        // dropout
  double slope = 0.01;                   // leaky_relu
  std::int64_t axis = -1;                // softmax, log_softmax
  double eps = 1e-5, momentum = 0.1;     // batchnorm, layernorm
  std::string path;                      // "model.layers[3]", for error messages
};

struct LossSpec {
  std::string type = "cross_entropy";  // cross_entropy, nll, mse, l1, huber, smooth_l1
  double label_smoothing = 0.0;
  std::vector<double> class_weights;
  double delta = 1.0;  // huber delta / smooth_l1 beta
};

struct OptimizerSpec {
  std::string type = "adam";  // sgd, adam, adamw, rmsprop, adagrad
  double lr = 1e-3, weight_decay = 0.0;
  double momentum = 0.0, dampening = 0.0;
  bool nesterov = false;
  double beta1 = 0.9, beta2 = 0.999, eps = 1e-8;
  bool amsgrad = false;
  double alpha = 0.99;
  bool centered = false;
  double lr_decay = 0.0;
};

struct SchedulerSpec {
  std::string type = "none";  // none, step, multi_step, exponential, cosine, plateau
  std::int64_t step_size = 10;
  double gamma = 0.1;
  std::vector<std::int64_t> milestones;
  std::int64_t t_max = 0;  // cosine: 0 means training.epochs (minus warmup)
  double eta_min = 0.0;
  std::int64_t warmup_epochs = 0;
  double warmup_start_factor = 0.1;
  double factor = 0.1, threshold = 1e-4, min_lr = 0.0;
  std::int64_t patience = 10, cooldown = 0;
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
};

struct TrainingSpec {
  std::int64_t epochs = 10, batch_size = 128;
  std::uint64_t seed = 42;
  std::string device = "auto";  // cpu, cuda, cuda:N, auto
  std::int64_t eval_interval = 1;
  std::int64_t early_stopping_patience = 0;  // 0 = off
  std::string early_stopping_metric = "val_loss";  // val_loss or val_accuracy
  bool shuffle = true, drop_last = false;
  std::string on_nonfinite = "stop";  // stop or skip
  std::int64_t threads = 0;           // 0 = every core
  std::string checkpoint_dir;         // where last/best.safetensors go; default the run directory
  bool resume = false;                // continue from checkpoint_dir/last.safetensors (--resume sets it)
};

struct OutputSpec {
  std::string run_dir;        // default runs/<config file name>
  bool plot = true;
  std::string progress = "auto";  // auto (a bar on a terminal, lines otherwise), bar, lines, none
  bool checkpoints = true;
  bool log_spectra = false;  // per epoch: spectral norm and condition number of every weight matrix
};

struct Config {
  std::vector<LayerSpec> layers;
  LossSpec loss;
  OptimizerSpec optimizer;
  SchedulerSpec scheduler;
  GlobalPenalty regularization;
  ClipSpec clip;
  DataSpec data;
  TrainingSpec training;
  OutputSpec output;
  std::string name;         // the config file's stem
  nlohmann::json resolved;  // the whole config with every default filled in
};

// Parses and validates. `source` names the text in messages (a file path).
Config parse_config(const std::string& text, const std::string& source, const std::vector<std::string>& overrides = {});
Config load_config(const std::string& path, const std::vector<std::string>& overrides = {});
// Applies "a.b[2].c=value" to a JSON document (value parsed as JSON, else taken as a string).
void apply_override(nlohmann::json& doc, const std::string& assignment);
// The device a config asks for, resolved ("auto" is CUDA when present). A malformed name is a
// ConfigError; a device that is not present is a DeviceError naming `path`.
Device resolve_device(const std::string& name, const std::string& path = "training.device");

}  // namespace tinynn::nn
