// Initializers: draw on the CPU from the generator, then copy into the parameter in place.
#include "init.h"

#include <fmt/format.h>

#include <cmath>

#include "../autograd/autograd.h"
#include "../core/creation.h"
#include "../core/error.h"
#include "../core/ops.h"

namespace tinynn::nn::init {

namespace {
void assign(Tensor& t, const Tensor& values) {
  NoGradGuard no_grad;
  t.copy_(values.to(t.device()));
}
}  // namespace

double calculate_gain(Nonlinearity nonlinearity, double param) {
  switch (nonlinearity) {
    case Nonlinearity::Linear:
    case Nonlinearity::Sigmoid: return 1.0;
    case Nonlinearity::Tanh: return 5.0 / 3.0;
    case Nonlinearity::ReLU: return std::sqrt(2.0);
    case Nonlinearity::LeakyReLU: return std::sqrt(2.0 / (1.0 + param * param));
  }
  return 1.0;
}

std::pair<std::int64_t, std::int64_t> fan_in_and_out(const Tensor& w) {
  if (w.dim() < 2)
    throw ShapeError(fmt::format("tinynn::nn::init: fan in and out need at least 2 dimensions, got {}", shape_str(w.shape())));
  std::int64_t receptive = 1;
  for (int d = 2; d < w.dim(); ++d) receptive *= w.shape()[d];
  return {w.shape()[1] * receptive, w.shape()[0] * receptive};
}

void uniform_(Tensor& t, double low, double high, Generator* gen) {
  assign(t, rand(t.shape(), {t.dtype()}, gen) * (high - low) + low);
}
void normal_(Tensor& t, double mean, double std, Generator* gen) {
  assign(t, randn(t.shape(), {t.dtype()}, gen) * std + mean);
}
void constant_(Tensor& t, double value) { assign(t, full(t.shape(), value, {t.dtype()})); }
void zeros_(Tensor& t) { constant_(t, 0.0); }
void ones_(Tensor& t) { constant_(t, 1.0); }

void xavier_uniform_(Tensor& t, double gain, Generator* gen) {
  const auto [fan_in, fan_out] = fan_in_and_out(t);
  const double bound = gain * std::sqrt(6.0 / static_cast<double>(fan_in + fan_out));
  uniform_(t, -bound, bound, gen);
}
void xavier_normal_(Tensor& t, double gain, Generator* gen) {
  const auto [fan_in, fan_out] = fan_in_and_out(t);
  normal_(t, 0.0, gain * std::sqrt(2.0 / static_cast<double>(fan_in + fan_out)), gen);
}

namespace {
double kaiming_std(const Tensor& t, double a, FanMode mode, Nonlinearity nonlinearity) {
  const auto [fan_in, fan_out] = fan_in_and_out(t);
  const auto fan = static_cast<double>(mode == FanMode::FanIn ? fan_in : fan_out);
  return calculate_gain(nonlinearity, a) / std::sqrt(fan);
}
}  // namespace

void kaiming_uniform_(Tensor& t, double a, FanMode mode, Nonlinearity nonlinearity, Generator* gen) {
  const double bound = std::sqrt(3.0) * kaiming_std(t, a, mode, nonlinearity);
  uniform_(t, -bound, bound, gen);
}
void kaiming_normal_(Tensor& t, double a, FanMode mode, Nonlinearity nonlinearity, Generator* gen) {
  normal_(t, 0.0, kaiming_std(t, a, mode, nonlinearity), gen);
}

}  // namespace tinynn::nn::init
