// Data: IDX (gzip and raw), image folders, CSV, synthetic sets, transforms, split, DataLoader,
// and the errors for missing or corrupt files. Fixtures are written here, into a temp folder.
#include <stb_image_write.h>
#include <tinynn/tinynn.h>
#include <zlib.h>

#include <filesystem>
#include <fstream>
#include <set>

#include "test_helpers.h"

using namespace tinynn;
using tinynn::test::scratch_dir;
using tinynn::test::check_values;
namespace fs = std::filesystem;

namespace {

std::string be32(std::uint32_t v) {
  return {static_cast<char>(v >> 24), static_cast<char>(v >> 16), static_cast<char>(v >> 8), static_cast<char>(v)};
}

// IDX bytes: images [n, rows, cols] with pixel (i, r, c) = (i + r + c) % 256, labels i % classes.
std::string idx_images(std::uint32_t n, std::uint32_t rows, std::uint32_t cols) {
  std::string s = be32(0x803) + be32(n) + be32(rows) + be32(cols);
  for (std::uint32_t i = 0; i < n; ++i)
    for (std::uint32_t r = 0; r < rows; ++r)
      for (std::uint32_t c = 0; c < cols; ++c) s.push_back(static_cast<char>((i + r + c) % 256));
  return s;
}
std::string idx_labels(std::uint32_t n, std::uint32_t classes) {
  std::string s = be32(0x801) + be32(n);
  for (std::uint32_t i = 0; i < n; ++i) s.push_back(static_cast<char>(i % classes));
  return s;
}

void write_raw(const fs::path& p, const std::string& bytes) { std::ofstream(p, std::ios::binary) << bytes; }
void write_gz(const fs::path& p, const std::string& bytes) {
  gzFile f = gzopen(p.string().c_str(), "wb");
  gzwrite(f, bytes.data(), static_cast<unsigned>(bytes.size()));
  gzclose(f);
}

// A complete MNIST-format directory: 20 train and 8 test images of 4x3, 5 classes.
fs::path make_idx_dir(const std::string& name, bool gzip) {
  const fs::path dir = scratch_dir(name);
  auto write = [&](const std::string& file, const std::string& bytes) {
    if (gzip) write_gz(dir / (file + ".gz"), bytes);
    else write_raw(dir / file, bytes);
  };
  write("train-images-idx3-ubyte", idx_images(20, 4, 3));
  write("train-labels-idx1-ubyte", idx_labels(20, 5));
  write("t10k-images-idx3-ubyte", idx_images(8, 4, 3));
  write("t10k-labels-idx1-ubyte", idx_labels(8, 5));
  return dir;
}

}  // namespace

TEST_CASE("IDX directories load the same gzipped or raw", "[data][idx]") {
  for (bool gzip : {true, false}) {
    INFO("gzip " << gzip);
    const fs::path dir = make_idx_dir(gzip ? "gz" : "raw", gzip);
    const nn::DataSplits s = nn::load_idx_directory(dir.string());
    CHECK(s.train.inputs.shape() == Shape{20, 1, 4, 3});  // one channel, as conv2d takes images
    CHECK(s.test.inputs.shape() == Shape{8, 1, 4, 3});
    CHECK(s.train.num_classes == 5);
    CHECK(s.train.inputs.at<float>({7, 0, 2, 1}) == 10.0f);
    check_values(s.train.targets.slice(0, 0, 6), {6}, {0, 1, 2, 3, 4, 0});
    CHECK(nn::load_idx_directory(dir.string(), 5, 3).train.size() == 5);
    fs::remove_all(dir);
  }
}

TEST_CASE("missing or corrupt IDX files give one clear error naming the file", "[data][idx]") {
  const fs::path dir = make_idx_dir("bad", false);
  const auto images = (dir / "train-images-idx3-ubyte").string(), labels = (dir / "train-labels-idx1-ubyte").string();
  TINYNN_REQUIRE_THROWS_CONTAINING(nn::load_idx_directory((dir / "nope").string()), nn::DataError, "does not exist");
  write_raw(images, be32(0x801) + idx_images(20, 4, 3).substr(4));
  TINYNN_REQUIRE_THROWS_CONTAINING(nn::load_idx(images, labels), nn::DataError, "train-images-idx3-ubyte': wrong magic number 00000801");
  write_raw(images, idx_images(20, 4, 3).substr(0, 100));
  TINYNN_REQUIRE_THROWS_CONTAINING(nn::load_idx(images, labels), nn::DataError, "header declares 20 items");
  write_raw(images, be32(0x803) + be32(1000000) + be32(1000000) + be32(1000000));  // 10^18 bytes claimed
  TINYNN_REQUIRE_THROWS_CONTAINING(nn::load_idx(images, labels), nn::DataError, "can hold at most");
  write_gz(dir / "big.gz", be32(0x803) + be32(1000000) + be32(1000) + be32(1000));  // gzip: 10^12 bytes claimed
  TINYNN_REQUIRE_THROWS_CONTAINING(nn::load_idx((dir / "big.gz").string(), labels), nn::DataError, "can hold at most");
  write_gz(dir / "short.gz", idx_images(20, 4, 3).substr(0, 60));
  TINYNN_REQUIRE_THROWS_CONTAINING(nn::load_idx((dir / "short.gz").string(), labels), nn::DataError, "truncated");
  write_raw(images, idx_images(19, 4, 3));
  TINYNN_REQUIRE_THROWS_CONTAINING(nn::load_idx(images, labels), nn::DataError, "(19 images) and");
  write_raw(images, idx_images(20, 4, 3));
  write_raw(dir / "t10k-labels-idx1-ubyte", idx_labels(8, 7));  // classes 5 and 6 never seen in training
  TINYNN_REQUIRE_THROWS_CONTAINING(nn::load_idx_directory(dir.string()), nn::DataError,
                                   "t10k-labels-idx1-ubyte': label 6 is outside the classes 0..4");
  fs::remove(dir / "t10k-labels-idx1-ubyte");
  TINYNN_REQUIRE_THROWS_CONTAINING(nn::load_idx_directory(dir.string()), nn::DataError, "has no t10k-labels IDX file");
  write_raw(dir / "empty", "");
  TINYNN_REQUIRE_THROWS_CONTAINING(nn::load_idx((dir / "empty").string(), labels), nn::DataError, "truncated");
  fs::remove_all(dir);
}

TEST_CASE("image folders load, resize, and reject unreadable images", "[data][images]") {
  const fs::path dir = scratch_dir("images");
  auto write_png = [](const fs::path& p, int w, int h, int channels, unsigned char value) {
    fs::create_directories(p.parent_path());
    std::vector<unsigned char> px(static_cast<std::size_t>(w * h * channels), value);
    REQUIRE(stbi_write_png(p.string().c_str(), w, h, channels, px.data(), w * channels) != 0);
  };
  for (const char* split : {"train", "test"}) {
    write_png(dir / split / "cat" / "a.png", 6, 4, 3, 200);
    write_png(dir / split / "dog" / "b.png", 6, 4, 1, 50);
    write_png(dir / split / "dog" / "c.png", 6, 4, 3, 10);
  }
  nn::DataSplits s = nn::load_image_folders(dir.string(), 1, std::nullopt);
  CHECK(s.train.inputs.shape() == Shape{3, 1, 4, 6});
  CHECK(s.train.class_names == std::vector<std::string>{"cat", "dog"});
  check_values(s.train.targets, {3}, {0, 1, 1});
  CHECK(s.train.inputs.at<float>({1, 0, 2, 3}) == 50.0f);
  s = nn::load_image_folders(dir.string(), 3, std::make_pair(2, 3));
  CHECK(s.test.inputs.shape() == Shape{3, 3, 2, 3});
  CHECK(s.test.inputs.at<float>({0, 0, 1, 1}) == Approx(200.0f).margin(1.0));
  write_raw(dir / "train" / "dog" / "d.png", "not a png");
  TINYNN_REQUIRE_THROWS_CONTAINING(nn::load_image_folders(dir.string(), 1, std::nullopt), nn::DataError, "d.png' cannot be read");
  fs::remove(dir / "train" / "dog" / "d.png");
  write_png(dir / "train" / "dog" / "e.png", 5, 5, 1, 0);
  TINYNN_REQUIRE_THROWS_CONTAINING(nn::load_image_folders(dir.string(), 1, std::nullopt), nn::DataError, "set data.image_size");
  TINYNN_REQUIRE_THROWS_CONTAINING(nn::load_image_folders((dir / "train").string(), 1, std::nullopt), nn::DataError,
                                   "needs 'train/<class>/' subfolders");
  // A 20-byte file claiming 4 x 9,999,992 pixels is refused before anything is allocated for it.
  write_raw(dir / "huge.pgm", "P5\n4 9999992\n255\n\x01\x02");
  TINYNN_REQUIRE_THROWS_CONTAINING(nn::load_image((dir / "huge.pgm").string(), 1, std::nullopt), nn::DataError,
                                   "declares 4x9999992 pixels, beyond the limits");
  fs::remove_all(dir);
}

TEST_CASE("CSV files: classification, regression and ragged rows", "[data][csv]") {
  const fs::path dir = scratch_dir("csv");
  write_raw(dir / "c.csv", "a,b,label\n1.5,2,0\n-1,0.5,2\n3, 4 ,1\n");
  nn::Dataset d = nn::load_csv((dir / "c.csv").string(), true, -1, true);
  check_values(d.inputs, {3, 2}, {1.5, 2, -1, 0.5, 3, 4});
  check_values(d.targets, {3}, {0, 2, 1});
  CHECK(d.num_classes == 3);
  nn::Dataset r = nn::load_csv((dir / "c.csv").string(), true, 0, false);
  check_values(r.targets, {3, 1}, {1.5, -1, 3});
  CHECK(r.num_classes == 0);
  write_raw(dir / "ragged.csv", "1,2,0\n3,1\n");
  TINYNN_REQUIRE_THROWS_CONTAINING(nn::load_csv((dir / "ragged.csv").string(), false, -1, true), nn::DataError,
                                   "ragged.csv', line 2: 2 columns, but earlier rows have 3");
  write_raw(dir / "text.csv", "1,x,0\n");
  TINYNN_REQUIRE_THROWS_CONTAINING(nn::load_csv((dir / "text.csv").string(), false, -1, true), nn::DataError,
                                   "line 1, column 2: 'x' is not a number");
  write_raw(dir / "frac.csv", "1,2,0.5\n");
  TINYNN_REQUIRE_THROWS_CONTAINING(nn::load_csv((dir / "frac.csv").string(), false, -1, true), nn::DataError,
                                   "class label 0.5 is not a non-negative integer");
  TINYNN_REQUIRE_THROWS_CONTAINING(nn::load_csv((dir / "none.csv").string(), false, -1, true), nn::DataError, "cannot be opened");
  fs::remove_all(dir);
}

TEST_CASE("synthetic sets are seeded and well formed", "[data][synthetic]") {
  nn::Dataset x1 = nn::make_synthetic("xor", 100, 0.1, 3), x2 = nn::make_synthetic("xor", 100, 0.1, 3);
  CHECK(equal(x1.inputs, x2.inputs));
  CHECK(x1.num_classes == 2);
  // The label is the xor of the rounded coordinates.
  const Tensor rounded = (x1.inputs > 0.5).to(DType::Int64);
  CHECK(equal((rounded.select(1, 0) != rounded.select(1, 1)).to(DType::Int64), x1.targets));
  nn::Dataset s = nn::make_synthetic("spirals", 90, 0.2, 1);
  CHECK(s.num_classes == 3);
  CHECK(s.inputs.shape() == Shape{90, 2});
  nn::Dataset lin = nn::make_synthetic("linear", 50, 0.0, 1);
  CHECK(lin.targets.shape() == Shape{50, 1});
  CHECK(allclose(lin.targets, matmul(lin.inputs, tensor({{2.0}, {-3.0}, {0.5}})) + 1.0, 1e-5, 1e-5));
  TINYNN_REQUIRE_THROWS_CONTAINING(nn::make_synthetic("moons", 10, 0, 1), nn::DataError, "known: xor, spirals, linear");
}

TEST_CASE("transforms and the seeded validation split", "[data]") {
  nn::DataSplits s;
  s.train.inputs = arange(0, 40, 1, {DType::Float32}).reshape({10, 2, 2});
  s.train.targets = arange(10);
  s.train.num_classes = 10;
  s.test = s.train;
  nn::scale_inputs(s, 0.5);
  CHECK(s.train.inputs.at<float>({9, 1, 1}) == 19.5f);
  const auto [m, sd] = nn::input_mean_std(s.train);
  CHECK(m == Approx(9.75));
  nn::normalize_inputs(s, m, sd);
  CHECK(mean(s.train.inputs).item() == Approx(0.0).margin(1e-6));
  nn::flatten_inputs(s);
  CHECK(s.train.inputs.shape() == Shape{10, 4});
  nn::split_validation(s, 0.3, 7);
  CHECK(s.train.size() == 7);
  CHECK(s.validation.size() == 3);
  // Every sample lands in exactly one part.
  auto all = cat({s.train.targets, s.validation.targets}).to_vector<std::int64_t>();
  std::sort(all.begin(), all.end());
  CHECK(all == arange(10).to_vector<std::int64_t>());
  TINYNN_REQUIRE_THROWS_CONTAINING(nn::split_validation(s, 1.0, 1), nn::DataError, "fraction must be in [0, 1)");
  TINYNN_REQUIRE_THROWS_CONTAINING(nn::normalize_inputs(s, 0.0, 0.0), nn::DataError, "std must be positive");
}

TEST_CASE("DataLoader: batches, seeded shuffling, drop_last, skip, prefetch", "[data][loader]") {
  nn::Dataset d;
  d.inputs = arange(0, 10, 1, {DType::Float32}).reshape({10, 1});
  d.targets = arange(10);
  d.num_classes = 10;
  nn::DataLoader plain(d, 4, false, false, 0);
  CHECK(plain.batches_per_epoch() == 3);
  plain.start_epoch(0);
  nn::Batch b;
  std::vector<std::int64_t> sizes;
  while (plain.next(b)) sizes.push_back(b.targets.numel());
  CHECK(sizes == std::vector<std::int64_t>{4, 4, 2});
  nn::DataLoader dropping(d, 4, false, true, 0);
  CHECK(dropping.batches_per_epoch() == 2);
  auto epoch_order = [](nn::DataLoader& loader, std::int64_t epoch, std::int64_t skip = 0) {
    loader.start_epoch(epoch, skip);
    std::vector<std::int64_t> order;
    nn::Batch batch;
    while (loader.next(batch))
      for (auto v : batch.targets.to_vector<std::int64_t>()) order.push_back(v);
    return order;
  };
  nn::DataLoader shuffled(d, 3, true, false, 42, true), again(d, 3, true, false, 42), no_prefetch(d, 3, true, false, 42, false);
  const auto e0 = epoch_order(shuffled, 0), e1 = epoch_order(shuffled, 1);
  CHECK(e0 != e1);                               // a new order each epoch
  CHECK(e0 == epoch_order(again, 0));            // the same seed repeats it
  CHECK(e1 == epoch_order(no_prefetch, 1));      // prefetching changes nothing
  auto sorted = e0;
  std::sort(sorted.begin(), sorted.end());
  CHECK(sorted == arange(10).to_vector<std::int64_t>());
  const auto resumed = epoch_order(again, 1, 2);  // skip two batches of three
  CHECK(resumed == std::vector<std::int64_t>(e1.begin() + 6, e1.end()));
  // Abandoning an epoch halfway and starting another is safe.
  shuffled.start_epoch(3);
  shuffled.next(b);
  shuffled.start_epoch(4);
  CHECK(shuffled.next(b));
  TINYNN_REQUIRE_THROWS_CONTAINING(nn::DataLoader(d, 0, false, false, 0), ValueError, "batch_size must be positive");
}

TEST_CASE("augmentation: crops are shifts of the padded image, flips mirror it, and both are seeded", "[data][augment]") {
  // 16 random 1x5x6 images with values in [1, 2) (0 is the padding's fill).
  Generator gen(3);
  const Tensor images = rand({16, 1, 5, 6}, {}, &gen) + 1.0;
  const nn::Augmentation crop{2, false, 0.0}, flips{0, true, 0.0};
  const Tensor a = nn::augment_batch(images, crop, 7, 3, 1);
  CHECK(equal(a, nn::augment_batch(images, crop, 7, 3, 1)));      // same seed, epoch and batch: same crops
  CHECK_FALSE(equal(a, nn::augment_batch(images, crop, 7, 3, 2)));  // another batch: others
  // Each sample is its image shifted by some (dy, dx) in [-2, 2]^2, with 0 where it left the image.
  std::set<std::pair<int, int>> shifts;
  for (std::int64_t b = 0; b < 16; ++b) {
    const Tensor got = a.select(0, b).select(0, 0), img = images.select(0, b).select(0, 0);
    bool found = false;
    for (int dy = -2; dy <= 2 && !found; ++dy)
      for (int dx = -2; dx <= 2 && !found; ++dx) {
        bool same = true;
        for (int i = 0; i < 5 && same; ++i)
          for (int j = 0; j < 6 && same; ++j) {
            const int r = i + dy, c = j + dx;
            const float want = r >= 0 && r < 5 && c >= 0 && c < 6 ? img.to_vector<float>()[static_cast<std::size_t>(r * 6 + c)] : 0.0f;
            same = got.to_vector<float>()[static_cast<std::size_t>(i * 6 + j)] == want;
          }
        if (same) found = true, shifts.insert({dy, dx});
      }
    CHECK(found);
  }
  CHECK(shifts.size() > 3);  // the shifts vary between samples
  // Flips: every sample is its image or its mirror, and both happen.
  const Tensor f = nn::augment_batch(images, flips, 7, 0, 0);
  int flipped = 0;
  for (std::int64_t b = 0; b < 16; ++b) {
    const Tensor img = images.select(0, b), got = f.select(0, b);
    const bool mirrored = equal(got, flip(img, 2));
    CHECK((mirrored || equal(got, img)));
    flipped += mirrored;
  }
  CHECK(flipped > 0);
  CHECK(flipped < 16);
  // The loader augments training batches, and a resumed epoch sees the same batches.
  nn::Dataset d;
  d.inputs = images;
  d.targets = arange(16);
  d.num_classes = 16;
  nn::DataLoader loader(d, 4, true, false, 5, false), resumed(d, 4, true, false, 5, false);
  loader.set_augmentation(crop);
  resumed.set_augmentation(crop);
  loader.start_epoch(2);
  nn::Batch b, r;
  for (int i = 0; i < 3; ++i) loader.next(b);
  resumed.start_epoch(2, 2);
  resumed.next(r);
  CHECK(equal(b.inputs, r.inputs));
  CHECK_FALSE(equal(b.inputs, index_select(images, 0, b.targets)));
  TINYNN_REQUIRE_THROWS_CONTAINING(nn::augment_batch(zeros({4, 6}), crop, 1, 0, 0), nn::DataError, "expected float32 image batches");
}
