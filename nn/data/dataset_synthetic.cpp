// Synthetic data sets for the small examples and tests.
#include <fmt/format.h>

#include <cmath>

#include "../../core/creation.h"
#include "../../core/linear.h"
#include "../../core/ops.h"
#include "dataset.h"

namespace tinynn::nn {

Dataset make_synthetic(const std::string& kind, std::int64_t samples, double noise, std::uint64_t seed) {
  if (samples <= 0) throw DataError(fmt::format("tinynn: synthetic data needs a positive sample count, got {}", samples));
  Generator gen(seed);
  Dataset d;
  if (kind == "xor") {
    // Corners of the unit square (with noise); the class is x1 xor x2.
    const Tensor bits = randint(0, 2, {samples, 2}, {DType::Int64}, &gen);
    d.inputs = bits.to(DType::Float32) + randn({samples, 2}, {}, &gen) * noise;
    d.targets = (bits.select(1, 0) != bits.select(1, 1)).to(DType::Int64);
    d.num_classes = 2;
  } else if (kind == "spirals") {
    // Three interleaved spiral arms in the plane.
    const std::int64_t classes = 3;
    const auto r = rand({samples}, {DType::Float64}, &gen).to_vector<double>();
    const auto jitter = randn({samples}, {DType::Float64}, &gen).to_vector<double>();
    std::vector<float> xy(static_cast<std::size_t>(samples * 2));
    std::vector<std::int64_t> label(static_cast<std::size_t>(samples));
    for (std::int64_t i = 0; i < samples; ++i) {
      const std::int64_t c = i % classes;
      const double radius = r[static_cast<std::size_t>(i)];
      const double angle = c * 4.0 + radius * 4.0 + jitter[static_cast<std::size_t>(i)] * noise;
      xy[static_cast<std::size_t>(2 * i)] = static_cast<float>(radius * std::sin(angle));
      xy[static_cast<std::size_t>(2 * i + 1)] = static_cast<float>(radius * std::cos(angle));
      label[static_cast<std::size_t>(i)] = c;
    }
    d.inputs = from_vector(xy, {samples, 2});
    d.targets = from_vector(label, {samples});
    d.num_classes = classes;
  } else if (kind == "linear") {
    // y = x . [2, -3, 0.5] + 1 + noise
    d.inputs = randn({samples, 3}, {}, &gen);
    d.targets = matmul(d.inputs, tensor({{2.0}, {-3.0}, {0.5}})) + 1.0 + randn({samples, 1}, {}, &gen) * noise;
    d.num_classes = 0;
  } else {
    throw DataError(fmt::format("tinynn: unknown synthetic data set '{}' (known: xor, spirals, linear)", kind));
  }
  for (std::int64_t c = 0; c < d.num_classes; ++c) d.class_names.push_back(std::to_string(c));
  return d;
}

}  // namespace tinynn::nn
