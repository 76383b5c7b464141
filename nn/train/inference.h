// A trained model out of its checkpoint, and prediction on new inputs: image files, folders of
// images and CSV files of samples, preprocessed exactly as the training data was (the config's
// scaling and normalization statistics travel in the checkpoint). `tinynn predict` runs on it.
#pragma once
#include <memory>
#include <string>
#include <vector>

#include "checkpoint.h"
#include "config.h"
#include "../sequential.h"

namespace tinynn::nn {

// The resolved config a checkpoint was trained with (`sets` applied on top).
Config checkpoint_config(const TrainingProgress& progress, const std::string& checkpoint,
                         const std::vector<std::string>& sets = {});

// The checkpoint's model, built from `config` for samples of `sample_shape`, weights loaded.
std::shared_ptr<Sequential> load_trained_model(const Config& config, const std::string& checkpoint,
                                               const Shape& sample_shape, std::int64_t outputs);

// Applies the config's input transforms (data.scale, data.normalize with the resolved mean/std)
// to raw samples as the data files hold them ([N, ...], pixels 0..255).
Tensor preprocess_inputs(const DataSpec& data, const Tensor& raw);

// Named raw samples read from the paths given to predict, and the inputs that could not be read.
struct PredictionInputs {
  std::vector<std::string> names;  // "shirt.png", "samples.csv:3" (the CSV line)
  Tensor samples;                  // [N, ...sample_shape] float32, raw (not yet preprocessed)
  struct Failure {
    std::string input, message;
  };
  std::vector<Failure> failures;
};

// Each path is an image file, a directory (its image and CSV files, recursively, in sorted
// order), or a CSV file with one sample per row: sample_shape's element count of numbers, or one
// more holding a label (data.label_column of a CSV-trained config, else the last), which is
// dropped. A first row that is not all numbers is a header. Images are read with the model's
// channels, and resized to its height and width only when training resized (data.image_size);
// an image of another size is a failure. What cannot be read goes to `failures` (a whole
// file, or one CSV row) and the rest is kept.
PredictionInputs read_prediction_inputs(const std::vector<std::string>& paths, const Config& config,
                                        const Shape& sample_shape);

// A checkpoint ready to predict: outputs are class probabilities (classification) or values.
class Predictor {
 public:
  explicit Predictor(const std::string& checkpoint, Device device = Device::cpu());
  void to(Device device);  // moves the model

  // Raw samples [N, ...sample_shape] -> [N, outputs] (softmax probabilities for classification),
  // in batches of `batch_size`, on the device; the result is on the CPU.
  Tensor predict(const Tensor& raw, std::int64_t batch_size = 256) const;

  const Config& config() const { return config_; }
  const Shape& sample_shape() const { return sample_shape_; }
  Device device() const { return device_; }
  bool classification() const { return !config_.data.class_names.empty(); }
  const std::vector<std::string>& class_names() const { return config_.data.class_names; }

 private:
  Config config_;
  Shape sample_shape_;
  std::int64_t outputs_ = 0;
  Device device_;
  std::shared_ptr<Sequential> model_;
};

}  // namespace tinynn::nn
