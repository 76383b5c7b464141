// IDX files (the MNIST format): big-endian magic 0x0000 0803 (images, 3 dims) or 0x0000 0801
// (labels, 1 dim), the dimension sizes, then unsigned bytes. Read through zlib, which takes gzip
// and raw files alike. Sizes declared by a header are checked against what the file can hold
// before anything is allocated.
#include <fmt/format.h>
#include <zlib.h>

#include <algorithm>
#include <filesystem>
#include <memory>

#include "../../core/creation.h"
#include "../../core/reduce.h"
#include "dataset.h"

namespace tinynn::nn {

namespace {

namespace fs = std::filesystem;

struct GzCloser {
  void operator()(gzFile f) const { gzclose(f); }
};
using GzHandle = std::unique_ptr<gzFile_s, GzCloser>;

[[noreturn]] void fail(const std::string& path, const std::string& what) {
  throw DataError(fmt::format("tinynn: data file '{}': {}", path, what));
}

// Reads exactly n bytes or explains how many were there.
void read_exact(gzFile f, void* out, std::uint64_t n, const std::string& path, const char* what) {
  auto* p = static_cast<unsigned char*>(out);
  std::uint64_t got = 0;
  while (got < n) {
    const unsigned chunk = static_cast<unsigned>(std::min<std::uint64_t>(n - got, 1u << 30));
    const int r = gzread(f, p + got, chunk);
    if (r < 0) {
      int code = 0;
      fail(path, fmt::format("corrupt compressed data while reading {} ({})", what, gzerror(f, &code)));
    }
    if (r == 0) fail(path, fmt::format("truncated: {} needs {} bytes, the file has {}", what, n, got));
    got += static_cast<std::uint64_t>(r);
  }
}

struct IdxFile {
  std::vector<std::uint32_t> dims;
  std::vector<unsigned char> data;
};

IdxFile read_idx(const std::string& path, std::uint32_t expected_dims, std::int64_t max_items) {
  std::error_code ec;
  const auto file_size = fs::file_size(path, ec);
  if (ec) fail(path, fmt::format("cannot read: {}", ec.message()));
  GzHandle f(gzopen(path.c_str(), "rb"));
  if (!f) fail(path, "cannot open");
  unsigned char magic[4];
  read_exact(f.get(), magic, 4, path, "the header");
  if (magic[0] != 0 || magic[1] != 0 || magic[2] != 0x08 || magic[3] != expected_dims)
    fail(path, fmt::format("wrong magic number {:02x}{:02x}{:02x}{:02x}: expected 000008{:02x} (an IDX file of unsigned "
                           "bytes with {} dimension(s))", magic[0], magic[1], magic[2], magic[3], expected_dims, expected_dims));
  IdxFile out;
  std::uint64_t payload = 1;
  for (std::uint32_t d = 0; d < expected_dims; ++d) {
    unsigned char b[4];
    read_exact(f.get(), b, 4, path, "the header");
    const std::uint32_t size = (std::uint32_t{b[0]} << 24) | (std::uint32_t{b[1]} << 16) | (std::uint32_t{b[2]} << 8) | b[3];
    out.dims.push_back(size);
    payload *= size;
  }
  if (max_items > 0 && out.dims[0] > static_cast<std::uint64_t>(max_items)) {
    payload = payload / std::max<std::uint32_t>(out.dims[0], 1) * static_cast<std::uint64_t>(max_items);
    out.dims[0] = static_cast<std::uint32_t>(max_items);
  }
  // deflate cannot expand data more than about 1032:1, so a gzip file of S bytes holds at most
  // ~1032 S bytes; a raw file holds exactly what is left after the header.
  const bool gzip = gzdirect(f.get()) == 0;
  const std::uint64_t header = 4 + 4ull * expected_dims;
  const std::uint64_t can_hold = gzip ? file_size * 1040 + 4096 : (file_size > header ? file_size - header : 0);
  if (payload > can_hold)
    fail(path, fmt::format("header declares {} items ({} bytes) but the file can hold at most {} bytes", out.dims[0],
                           payload, can_hold));
  out.data.resize(payload);
  read_exact(f.get(), out.data.data(), payload, path, fmt::format("{} items", out.dims[0]).c_str());
  return out;
}

// The file in `dir` whose name contains one of `keys` (and "images"/"labels" per `kind`).
std::string find_file(const std::string& dir, const std::vector<std::string>& prefixes, const std::string& kind) {
  std::vector<std::string> matches;
  for (const auto& entry : fs::directory_iterator(dir)) {
    const std::string name = entry.path().filename().string();
    for (const auto& prefix : prefixes)
      if (name.find(prefix + "-" + kind) != std::string::npos && name.find("idx") != std::string::npos)
        matches.push_back(entry.path().string());
  }
  if (matches.empty())
    throw DataError(fmt::format("tinynn: data directory '{}' has no {}-{} IDX file (expected e.g. {}-{}-idx{}-ubyte.gz)", dir,
                                prefixes.front(), kind, prefixes.front(), kind, kind == "images" ? 3 : 1));
  std::sort(matches.begin(), matches.end());
  return matches.front();
}

const std::vector<std::string> kFashionNames = {"T-shirt/top", "Trouser", "Pullover", "Dress", "Coat",
                                                "Sandal", "Shirt", "Sneaker", "Bag", "Ankle boot"};

}  // namespace

Dataset load_idx(const std::string& images_path, const std::string& labels_path, std::int64_t max_samples) {
  const IdxFile images = read_idx(images_path, 3, max_samples);
  const IdxFile labels = read_idx(labels_path, 1, max_samples);
  if (images.dims[0] != labels.dims[0])
    throw DataError(fmt::format("tinynn: data files '{}' ({} images) and '{}' ({} labels) disagree on the number of samples",
                                images_path, images.dims[0], labels_path, labels.dims[0]));
  const std::int64_t n = images.dims[0], rows = images.dims[1], cols = images.dims[2];
  Dataset d;
  Tensor inputs = empty({n, 1, rows, cols});  // one channel: the shape conv2d and image folders use
  float* px = inputs.data_ptr<float>();
  for (std::size_t i = 0; i < images.data.size(); ++i) px[i] = static_cast<float>(images.data[i]);
  Tensor targets = empty({n}, DType::Int64);
  auto* py = targets.data_ptr<std::int64_t>();
  unsigned char max_label = 0;
  for (std::size_t i = 0; i < labels.data.size(); ++i) {
    py[i] = labels.data[i];
    max_label = std::max(max_label, labels.data[i]);
  }
  d.inputs = inputs;
  d.targets = targets;
  d.num_classes = n > 0 ? max_label + 1 : 0;
  return d;
}

DataSplits load_idx_directory(const std::string& dir, std::int64_t max_train, std::int64_t max_test) {
  std::error_code ec;
  if (!fs::is_directory(dir, ec))
    throw DataError(fmt::format("tinynn: data directory '{}' does not exist (for Fashion-MNIST: apt-get install "
                                "dataset-fashion-mnist)", dir));
  DataSplits s;
  s.train = load_idx(find_file(dir, {"train"}, "images"), find_file(dir, {"train"}, "labels"), max_train);
  const std::string test_labels = find_file(dir, {"t10k", "test"}, "labels");
  s.test = load_idx(find_file(dir, {"t10k", "test"}, "images"), test_labels, max_test);
  if (s.test.num_classes > s.train.num_classes)
    throw DataError(fmt::format("tinynn: data file '{}': label {} is outside the classes 0..{} of the training labels",
                                test_labels, s.test.num_classes - 1, s.train.num_classes - 1));
  if (s.train.sample_shape() != s.test.sample_shape())
    throw DataError(fmt::format("tinynn: data directory '{}': train images are {} but test images are {}", dir,
                                shape_str(s.train.sample_shape()), shape_str(s.test.sample_shape())));
  const std::int64_t classes = std::max(s.train.num_classes, s.test.num_classes);
  s.train.num_classes = s.test.num_classes = classes;
  const bool fashion = dir.find("fashion") != std::string::npos && classes == 10;
  for (std::int64_t c = 0; c < classes; ++c) {
    const std::string name = fashion ? kFashionNames[static_cast<std::size_t>(c)] : std::to_string(c);
    s.train.class_names.push_back(name);
  }
  s.test.class_names = s.train.class_names;
  return s;
}

}  // namespace tinynn::nn
