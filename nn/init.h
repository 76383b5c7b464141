// Parameter initializers (in place, from a seeded generator), with PyTorch's fan and gain rules.
// For a weight of shape [out, in, ...]: fan_in = in * receptive field, fan_out = out * receptive field.
#pragma once
#include "../core/random.h"
#include "../core/tensor.h"

namespace tinynn::nn::init {

enum class FanMode { FanIn, FanOut };
enum class Nonlinearity { Linear, Sigmoid, Tanh, ReLU, LeakyReLU };

// The recommended gain for a nonlinearity (torch.nn.init.calculate_gain); `param` is the
// negative slope of LeakyReLU.
double calculate_gain(Nonlinearity nonlinearity, double param = 0.01);
std::pair<std::int64_t, std::int64_t> fan_in_and_out(const Tensor& weight);

void uniform_(Tensor& t, double low = 0.0, double high = 1.0, Generator* gen = nullptr);
void normal_(Tensor& t, double mean = 0.0, double std = 1.0, Generator* gen = nullptr);
void constant_(Tensor& t, double value);
void zeros_(Tensor& t);
void ones_(Tensor& t);
// Glorot: U(-a, a) with a = gain * sqrt(6 / (fan_in + fan_out)); normal with std = gain * sqrt(2 / (fan_in + fan_out)).
void xavier_uniform_(Tensor& t, double gain = 1.0, Generator* gen = nullptr);
void xavier_normal_(Tensor& t, double gain = 1.0, Generator* gen = nullptr);
// He: std = gain / sqrt(fan); uniform bound = sqrt(3) * std. `a` is LeakyReLU's slope.
void kaiming_uniform_(Tensor& t, double a = 0.0, FanMode mode = FanMode::FanIn,
                      Nonlinearity nonlinearity = Nonlinearity::LeakyReLU, Generator* gen = nullptr);
void kaiming_normal_(Tensor& t, double a = 0.0, FanMode mode = FanMode::FanIn,
                     Nonlinearity nonlinearity = Nonlinearity::LeakyReLU, Generator* gen = nullptr);

}  // namespace tinynn::nn::init
