// In-memory datasets and the readers that fill them: IDX (MNIST format, gzip or raw), image
// folders (stb_image), CSV, and synthetic sets; plus transforms and a seeded validation split.
// Every reader validates its files and throws DataError naming the file and what is wrong.
#pragma once
#include <optional>
#include <string>
#include <vector>

#include "../../core/error.h"
#include "../../core/tensor.h"

namespace tinynn::nn {

class DataError : public Error {
  using Error::Error;
};

struct Dataset {
  Tensor inputs;   // [N, ...] float32
  Tensor targets;  // [N] int64 class ids (classification) or [N, k] float32 (regression)
  std::int64_t num_classes = 0;  // 0 for regression
  std::vector<std::string> class_names;

  std::int64_t size() const { return inputs.defined() ? inputs.shape()[0] : 0; }
  bool is_classification() const { return num_classes > 0; }
  Shape sample_shape() const { return Shape(inputs.shape().begin() + 1, inputs.shape().end()); }
  Dataset subset(const Tensor& indices) const;  // rows `indices` (int64 [M])
};

struct DataSplits {
  Dataset train, validation, test;
};

// The four MNIST-format files of `dir` (train/t10k images and labels, ".gz" or raw; MNIST,
// Fashion-MNIST, KMNIST and EMNIST names all match). Images become float32 [N, 1, rows, cols]
// with values 0..255; labels int64. `max_samples` (0 = all) keeps the first samples only.
DataSplits load_idx_directory(const std::string& dir, std::int64_t max_train = 0, std::int64_t max_test = 0);
// One pair of IDX files.
Dataset load_idx(const std::string& images_path, const std::string& labels_path, std::int64_t max_samples = 0);

// dir/train/<class>/* and dir/test/<class>/* (PNG, JPEG, BMP, GIF, ...): classes are the
// sorted subfolder names; images become [N, channels, height, width] with values 0..255,
// resized to `size` ([height, width]) when given, else all must share one size.
DataSplits load_image_folders(const std::string& dir, int channels, std::optional<std::pair<int, int>> size);
// One image as [channels, height, width] (for prediction).
Tensor load_image(const std::string& path, int channels, std::optional<std::pair<int, int>> size);

// A CSV of numbers, one sample per row. `label_column` (negative counts from the end) holds the
// class id (classification) or the target value (regression); every other column is a feature.
Dataset load_csv(const std::string& path, bool header, int label_column, bool classification);
// The comma-separated cells of one CSV line as numbers (blanks around a cell ignored), into
// `values`. False at the first cell that is not a number, with `bad_cell` its text (its 1-based
// column is values.size() + 1).
bool parse_csv_row(const std::string& line, std::vector<double>& values, std::string& bad_cell);

// Synthetic sets for small examples: "xor" (2 classes), "spirals" (3 classes), "linear"
// (regression, y = x . w + b + noise). Same seed, same data.
Dataset make_synthetic(const std::string& kind, std::int64_t samples, double noise, std::uint64_t seed);

// Transforms. Statistics for normalize come from the training set unless given.
void scale_inputs(DataSplits& splits, double factor);  // e.g. 1/255 to [0, 1]
std::pair<double, double> input_mean_std(const Dataset& data);
void normalize_inputs(DataSplits& splits, double mean, double std);
void flatten_inputs(DataSplits& splits);  // [N, ...] -> [N, features]
// Moves a seeded random `fraction` of train into validation.
void split_validation(DataSplits& splits, double fraction, std::uint64_t seed);

// Fisher-Yates permutation of 0..n-1 from Philox(seed, stream): the same for any thread count.
std::vector<std::int64_t> permutation(std::int64_t n, std::uint64_t seed, std::uint64_t stream);

}  // namespace tinynn::nn
