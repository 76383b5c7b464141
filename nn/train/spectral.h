// Trained weights seen through their singular values: per-layer statistics (`tinynn inspect`,
// the trainer's optional spectral log) and low-rank compression of dense layers (`tinynn compress`).
#pragma once
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "config.h"
#include "../sequential.h"

namespace tinynn::nn {

struct WeightSpectrum {
  std::string name;  // the parameter, as in named_parameters(): "1.weight"
  Shape shape;
  double frobenius = 0, spectral = 0;
  double condition = 0;        // spectral / smallest singular value; inf when numerically singular
  std::int64_t rank = 0;       // numerical rank (NumPy's tolerance)
  std::vector<double> top_singular_values;  // the largest, descending, at most top_k
  double top_k_energy = 0;     // share of sum(s^2) held by those
};

// Every weight matrix of the model (parameters named "*weight" with two axes, and convolution
// weights [out, in, kH, kW] as the matrices [out, in kH kW]), in order.
std::vector<WeightSpectrum> weight_spectra(const Module& model, std::int64_t top_k = 5);

struct CompressOptions {
  std::int64_t rank = 0;  // keep this many singular values per layer, or
  double energy = 0;      // the fewest that hold this share of sum(s^2), in (0, 1]
};

struct LayerCompression {
  std::string layer;  // the config path: "model.layers[2]"
  std::int64_t in = 0, out = 0, rank = 0;
  double energy_kept = 1;  // share of sum(s^2) kept
  bool factorized = false; // false when rank * (in + out) would not be smaller than in * out
};

struct Compression {
  Config config;                       // the rewritten config: factorized layers become two
  std::shared_ptr<Sequential> model;   // weights set from the truncated SVDs
  std::vector<LayerCompression> layers;
  std::int64_t params_before = 0, params_after = 0;
};

// Replaces each dense layer W [out, in] (+ bias) by Linear(in -> k, no bias) with weight
// sqrt(S_k) V_k^T followed by Linear(k -> out) with weight U_k sqrt(S_k) and the bias: the best
// rank-k approximation of W. Layers where that saves no parameters stay dense. `model` must
// have been built from `config` by build_model(config, sample_shape, outputs).
Compression compress_dense_layers(const Config& config, const Sequential& model, const Shape& sample_shape,
                                  std::int64_t outputs, const CompressOptions& options);

std::int64_t parameter_count(const Module& model);

}  // namespace tinynn::nn
