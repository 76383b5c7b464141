// Image folders through stb_image (and stb_image_resize), and CSV files of numbers.
#include <fmt/format.h>
#include <stb_image.h>
#include <stb_image_resize.h>

#include <algorithm>
#include <cerrno>
#include <charconv>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <memory>
#include <sstream>

#include "../../core/creation.h"
#include "dataset.h"

namespace tinynn::nn {

namespace {
namespace fs = std::filesystem;

// 4096 x 4096 pixels, and no side above 16384: far beyond any image a classifier here takes, and
// small enough to decode quickly (a 15-byte header claiming an 11-million-pixel row took seconds).
constexpr std::int64_t kMaxImagePixels = std::int64_t{1} << 24;
constexpr int kMaxImageSide = 16384;

struct StbFree {
  void operator()(unsigned char* p) const { stbi_image_free(p); }
};
}  // namespace

Tensor load_image(const std::string& path, int channels, std::optional<std::pair<int, int>> size) {
  if (channels != 1 && channels != 3)
    throw DataError(fmt::format("tinynn: image channels must be 1 (grayscale) or 3 (RGB), got {}", channels));
  std::error_code ec;
  if (!std::filesystem::exists(path, ec)) throw DataError(fmt::format("tinynn: image file '{}' does not exist", path));
  if (std::filesystem::is_directory(path, ec))
    throw DataError(fmt::format("tinynn: '{}' is a directory, not an image file", path));
  int w = 0, h = 0, file_channels = 0;
  // The header's size is checked before stb allocates for it: a tiny file can claim gigapixels.
  if (stbi_info(path.c_str(), &w, &h, &file_channels) &&
      (w > kMaxImageSide || h > kMaxImageSide || static_cast<std::int64_t>(w) * static_cast<std::int64_t>(h) > kMaxImagePixels))
    throw DataError(fmt::format("tinynn: image '{}' declares {}x{} pixels, beyond the limits of {} pixels and {} per side",
                                path, w, h, kMaxImagePixels, kMaxImageSide));
  std::unique_ptr<unsigned char, StbFree> pixels(stbi_load(path.c_str(), &w, &h, &file_channels, channels));
  if (!pixels) throw DataError(fmt::format("tinynn: image '{}' cannot be read: {}", path, stbi_failure_reason()));
  if (w <= 0 || h <= 0) throw DataError(fmt::format("tinynn: image '{}' is empty", path));
  std::vector<unsigned char> resized;
  const unsigned char* src = pixels.get();
  int out_h = h, out_w = w;
  if (size && (size->first != h || size->second != w)) {
    out_h = size->first;
    out_w = size->second;
    resized.resize(static_cast<std::size_t>(out_h) * out_w * channels);
    if (!stbir_resize_uint8(src, w, h, 0, resized.data(), out_w, out_h, 0, channels))
      throw DataError(fmt::format("tinynn: image '{}' could not be resized to {}x{}", path, out_h, out_w));
    src = resized.data();
  }
  // stb gives [height, width, channels]; tensors are [channels, height, width].
  Tensor out = empty({channels, out_h, out_w});
  float* p = out.data_ptr<float>();
  for (int c = 0; c < channels; ++c)
    for (int y = 0; y < out_h; ++y)
      for (int x = 0; x < out_w; ++x)
        p[(static_cast<std::size_t>(c) * out_h + y) * out_w + x] = src[(static_cast<std::size_t>(y) * out_w + x) * channels + c];
  return out;
}

namespace {

Dataset load_class_folders(const fs::path& root, int channels, std::optional<std::pair<int, int>> size,
                           const std::vector<std::string>& class_names) {
  std::vector<Tensor> images;
  std::vector<std::int64_t> labels;
  for (std::size_t c = 0; c < class_names.size(); ++c) {
    const fs::path dir = root / class_names[c];
    if (!fs::is_directory(dir)) continue;
    std::vector<fs::path> files;
    for (const auto& e : fs::directory_iterator(dir))
      if (e.is_regular_file()) files.push_back(e.path());
    std::sort(files.begin(), files.end());
    for (const auto& f : files) {
      Tensor img = load_image(f.string(), channels, size);
      if (!images.empty() && img.shape() != images.front().shape())
        throw DataError(fmt::format("tinynn: image '{}' is {} but earlier images are {}; set data.image_size to resize",
                                    f.string(), shape_str(img.shape()), shape_str(images.front().shape())));
      images.push_back(img);
      labels.push_back(static_cast<std::int64_t>(c));
    }
  }
  if (images.empty()) throw DataError(fmt::format("tinynn: image folder '{}' holds no images", root.string()));
  Dataset d;
  Shape shape = images.front().shape();
  shape.insert(shape.begin(), static_cast<std::int64_t>(images.size()));
  d.inputs = empty(shape);
  const std::int64_t per = images.front().numel();
  for (std::size_t i = 0; i < images.size(); ++i)
    std::copy_n(images[i].data_ptr<float>(), per, d.inputs.data_ptr<float>() + static_cast<std::int64_t>(i) * per);
  d.targets = from_vector(labels, {static_cast<std::int64_t>(labels.size())});
  d.num_classes = static_cast<std::int64_t>(class_names.size());
  d.class_names = class_names;
  return d;
}

}  // namespace

DataSplits load_image_folders(const std::string& dir, int channels, std::optional<std::pair<int, int>> size) {
  const fs::path root(dir);
  if (!fs::is_directory(root)) throw DataError(fmt::format("tinynn: image folder '{}' does not exist", dir));
  for (const char* part : {"train", "test"})
    if (!fs::is_directory(root / part))
      throw DataError(fmt::format("tinynn: image folder '{}' needs '{}/<class>/' subfolders", dir, part));
  std::vector<std::string> classes;
  for (const auto& e : fs::directory_iterator(root / "train"))
    if (e.is_directory()) classes.push_back(e.path().filename().string());
  std::sort(classes.begin(), classes.end());
  if (classes.empty()) throw DataError(fmt::format("tinynn: image folder '{}/train' has no class subfolders", dir));
  DataSplits s;
  s.train = load_class_folders(root / "train", channels, size, classes);
  s.test = load_class_folders(root / "test", channels, size, classes);
  if (s.train.sample_shape() != s.test.sample_shape())
    throw DataError(fmt::format("tinynn: image folder '{}': train images are {} but test images are {}", dir,
                                shape_str(s.train.sample_shape()), shape_str(s.test.sample_shape())));
  return s;
}

bool parse_csv_row(const std::string& line, std::vector<double>& values, std::string& bad_cell) {
  values.clear();
  std::stringstream row(line);
  for (std::string cell; std::getline(row, cell, ',');) {
    const auto first = cell.find_first_not_of(" \t"), last = cell.find_last_not_of(" \t");
    const std::string trimmed = first == std::string::npos ? "" : cell.substr(first, last - first + 1);
    double v = 0;
    const auto [end, ec] = std::from_chars(trimmed.data(), trimmed.data() + trimmed.size(), v);
    if (ec != std::errc() || end != trimmed.data() + trimmed.size() || trimmed.empty()) {
      bad_cell = trimmed;
      return false;
    }
    values.push_back(v);
  }
  return true;
}

Dataset load_csv(const std::string& path, bool header, int label_column, bool classification) {
  std::ifstream in(path);
  if (!in) throw DataError(fmt::format("tinynn: CSV file '{}' cannot be opened: {}", path, std::strerror(errno)));
  std::vector<double> features;
  std::vector<double> targets;
  std::size_t columns = 0, line_number = 0;
  std::string line;
  while (std::getline(in, line)) {
    ++line_number;
    if (!line.empty() && line.back() == '\r') line.pop_back();
    if (line.empty() || (header && line_number == 1)) continue;
    std::vector<double> values;
    std::string bad;
    if (!parse_csv_row(line, values, bad))
      throw DataError(fmt::format("tinynn: CSV file '{}', line {}, column {}: '{}' is not a number", path, line_number,
                                  values.size() + 1, bad));
    if (columns == 0) columns = values.size();
    if (values.size() != columns)
      throw DataError(fmt::format("tinynn: CSV file '{}', line {}: {} columns, but earlier rows have {}", path, line_number,
                                  values.size(), columns));
    if (columns < 2) throw DataError(fmt::format("tinynn: CSV file '{}' needs at least 2 columns (features and a label)", path));
    const int label = label_column < 0 ? static_cast<int>(columns) + label_column : label_column;
    if (label < 0 || label >= static_cast<int>(columns))
      throw DataError(fmt::format("tinynn: CSV file '{}': label column {} does not exist in {} columns", path, label_column, columns));
    for (std::size_t c = 0; c < columns; ++c) (static_cast<int>(c) == label ? targets : features).push_back(values[c]);
    if (classification && (values[label] < 0 || values[label] != std::floor(values[label])))
      throw DataError(fmt::format("tinynn: CSV file '{}', line {}: class label {} is not a non-negative integer", path,
                                  line_number, values[label]));
  }
  if (targets.empty()) throw DataError(fmt::format("tinynn: CSV file '{}' has no data rows", path));
  const auto n = static_cast<std::int64_t>(targets.size());
  Dataset d;
  d.inputs = from_vector(features, {n, static_cast<std::int64_t>(columns) - 1}).to(DType::Float32);
  if (classification) {
    d.targets = from_vector(targets, {n}).to(DType::Int64);
    d.num_classes = static_cast<std::int64_t>(*std::max_element(targets.begin(), targets.end())) + 1;
    for (std::int64_t c = 0; c < d.num_classes; ++c) d.class_names.push_back(std::to_string(c));
  } else {
    d.targets = from_vector(targets, {n, 1}).to(DType::Float32);
  }
  return d;
}

}  // namespace tinynn::nn
