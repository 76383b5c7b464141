// Checkpoint -> model, and the readers and batching behind prediction.
#include "inference.h"

#include <fmt/format.h>

#include <algorithm>
#include <cctype>
#include <filesystem>
#include <fstream>

#include "../../autograd/autograd.h"
#include "../../core/creation.h"
#include "../../core/ops.h"
#include "../../core/reduce.h"
#include "../../core/shape_ops.h"
#include "../data/dataset.h"
#include "builders.h"

namespace tinynn::nn {

namespace {
namespace fs = std::filesystem;

bool has_extension(const fs::path& p, std::initializer_list<const char*> extensions) {
  std::string ext = p.extension().string();
  std::transform(ext.begin(), ext.end(), ext.begin(), [](unsigned char c) { return static_cast<char>(std::tolower(c)); });
  return std::any_of(extensions.begin(), extensions.end(), [&ext](const char* e) { return ext == e; });
}

bool is_csv(const fs::path& p) { return has_extension(p, {".csv"}); }
// The formats stb_image decodes.
bool is_image(const fs::path& p) {
  return has_extension(p, {".png", ".jpg", ".jpeg", ".bmp", ".gif", ".tga", ".psd", ".hdr", ".pic", ".pgm", ".ppm", ".pnm"});
}

class InputReader {
 public:
  InputReader(const Config& config, const Shape& sample_shape)
      : config_(config), shape_(sample_shape), features_(numel_of(sample_shape)) {}

  void read(const std::string& path) {
    std::error_code ec;
    if (!fs::exists(path, ec))
      return fail(path, fmt::format("{} '{}' does not exist", is_image(path) ? "image file" : is_csv(path) ? "CSV file" : "input", path));
    if (fs::is_directory(path, ec)) return read_directory(path);
    if (is_csv(path)) return read_csv(path);
    read_image(path);
  }

  PredictionInputs finish() {
    Shape shape = shape_;
    shape.insert(shape.begin(), static_cast<std::int64_t>(out_.names.size()));
    out_.samples = from_vector(values_, shape);
    return std::move(out_);
  }

 private:
  void fail(const std::string& input, const std::string& message) { out_.failures.push_back({input, message}); }
  template <class T>
  void add(const std::string& name, const T* data) {
    out_.names.push_back(name);
    for (std::int64_t i = 0; i < features_; ++i) values_.push_back(static_cast<float>(data[i]));
  }

  void read_directory(const std::string& dir) {
    std::vector<fs::path> files;
    std::error_code ec;
    for (auto it = fs::recursive_directory_iterator(dir, fs::directory_options::skip_permission_denied, ec);
         !ec && it != fs::recursive_directory_iterator(); it.increment(ec))
      if (it->is_regular_file(ec) && (is_image(it->path()) || is_csv(it->path()))) files.push_back(it->path());
    if (ec) fail(dir, fmt::format("directory '{}' cannot be listed: {}", dir, ec.message()));
    std::sort(files.begin(), files.end());
    if (files.empty()) fail(dir, fmt::format("directory '{}' holds no image or CSV files", dir));
    for (const fs::path& f : files) read(f.string());
  }

  void read_image(const std::string& path) {
    if (shape_.size() < 2 || shape_.size() > 3 || (shape_.size() == 3 && shape_[0] != 1 && shape_[0] != 3))
      return fail(path, fmt::format("'{}': the model takes samples of shape {}, not images; give a CSV file of samples",
                                    path, shape_str(shape_)));
    const int channels = shape_.size() == 3 ? static_cast<int>(shape_[0]) : 1;
    const auto size = std::make_pair(static_cast<int>(shape_[shape_.size() - 2]), static_cast<int>(shape_.back()));
    try {
      // Resized only when training resized its images (data.image_size), as training would have.
      const bool resize = !config_.data.image_size.empty();
      const Tensor image = load_image(path, channels, resize ? std::optional(size) : std::nullopt).contiguous();
      const Shape& got = image.shape();
      if (got[1] != size.first || got[2] != size.second)
        return fail(path, fmt::format("image '{}' is {}x{}, but the model takes {}x{} images (it was trained without "
                                      "data.image_size, so images are not resized: resize it first)",
                                      path, got[1], got[2], size.first, size.second));
      add(path, image.to_vector<float>().data());
    } catch (const DataError& e) {
      fail(path, e.what());
    }
  }

  void read_csv(const std::string& path) {
    std::ifstream in(path);
    if (!in) return fail(path, fmt::format("CSV file '{}' cannot be opened", path));
    // A label column may ride along (the test file of a CSV-trained model): it is dropped.
    const bool csv_config = config_.data.type == "csv";
    std::vector<double> values, sample(static_cast<std::size_t>(features_));
    std::string line, bad;
    std::size_t line_number = 0, rows = 0;
    while (std::getline(in, line)) {
      ++line_number;
      if (!line.empty() && line.back() == '\r') line.pop_back();
      if (line.find_first_not_of(" \t") == std::string::npos) continue;
      const std::string name = fmt::format("{}:{}", path, line_number);
      if (!parse_csv_row(line, values, bad)) {
        if (line_number == 1) continue;  // a header
        fail(name, fmt::format("CSV file '{}', line {}: column {}: '{}' is not a number", path, line_number,
                               values.size() + 1, bad));
        continue;
      }
      ++rows;
      const auto columns = static_cast<std::int64_t>(values.size());
      if (columns == features_) {
        add(name, values.data());
      } else if (columns == features_ + 1) {
        const std::int64_t wanted = csv_config ? config_.data.label_column : -1;
        const std::int64_t label = wanted < 0 ? columns + wanted : wanted;
        if (label < 0 || label >= columns) {
          fail(name, fmt::format("CSV file '{}', line {}: label column {} does not exist in {} columns", path, line_number,
                                 wanted, columns));
          continue;
        }
        std::copy(values.begin(), values.begin() + label, sample.begin());
        std::copy(values.begin() + label + 1, values.end(), sample.begin() + label);
        add(name, sample.data());
      } else {
        fail(name, fmt::format("CSV file '{}', line {}: {} numbers, but the model takes {} per sample (or {} with a label)",
                               path, line_number, columns, features_, features_ + 1));
      }
    }
    if (rows == 0 && out_.failures.empty()) fail(path, fmt::format("CSV file '{}' has no data rows", path));
  }

  const Config& config_;
  const Shape shape_;
  const std::int64_t features_;
  std::vector<float> values_;
  PredictionInputs out_;
};

}  // namespace

Config checkpoint_config(const TrainingProgress& progress, const std::string& checkpoint, const std::vector<std::string>& sets) {
  if (progress.config_json.empty())
    throw CheckpointError(fmt::format("tinynn: checkpoint '{}' holds no config (was it written by tinynn train?)", checkpoint));
  return parse_config(progress.config_json, checkpoint, sets);
}

std::shared_ptr<Sequential> load_trained_model(const Config& config, const std::string& checkpoint, const Shape& sample_shape,
                                               std::int64_t outputs) {
  Generator gen(config.training.seed);
  auto model = build_model(config, sample_shape, outputs, &gen, nullptr, /*trained=*/true);
  load_checkpoint(checkpoint, *model);
  return model;
}

Tensor preprocess_inputs(const DataSpec& data, const Tensor& raw) {
  NoGradGuard no_grad;
  Tensor x = raw;
  // The same operations, in the same order, as load_data's, so a test sample predicts bit-identically.
  if (data.scale) x = x * (1.0 / 255.0);
  if (data.normalize) x = (x - data.mean.value_or(0.0)) / data.std.value_or(1.0);
  return x;
}

PredictionInputs read_prediction_inputs(const std::vector<std::string>& paths, const Config& config, const Shape& sample_shape) {
  InputReader reader(config, sample_shape);
  for (const std::string& p : paths) reader.read(p);
  return reader.finish();
}

Predictor::Predictor(const std::string& checkpoint, Device device) : device_(device) {
  const TrainingProgress progress = read_progress(checkpoint);
  config_ = checkpoint_config(progress, checkpoint);
  if (progress.sample_shape.empty())
    throw CheckpointError(fmt::format("tinynn: checkpoint '{}' does not record the input shape", checkpoint));
  sample_shape_ = progress.sample_shape;
  outputs_ = progress.output_size;
  model_ = load_trained_model(config_, checkpoint, sample_shape_, outputs_);
  model_->to(device_);
  model_->eval();
}

void Predictor::to(Device device) {
  model_->to(device);
  device_ = device;
}

Tensor Predictor::predict(const Tensor& raw, std::int64_t batch_size) const {
  NoGradGuard no_grad;
  const std::int64_t n = raw.shape().at(0);
  std::vector<Tensor> parts;
  for (std::int64_t start = 0; start < n; start += batch_size) {
    const Tensor x = preprocess_inputs(config_.data, raw.slice(0, start, std::min(n, start + batch_size)).to(device_));
    const Tensor out = (*model_)(x);
    parts.push_back((classification() ? softmax(out, 1) : out).to(Device::cpu()));
  }
  if (parts.empty()) return zeros({0, outputs_});
  return cat(parts, 0);
}

}  // namespace tinynn::nn
