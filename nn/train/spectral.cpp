// Weight spectra and low-rank compression of dense layers, on tinynn::linalg.
#include "spectral.h"

#include <fmt/format.h>

#include <cmath>

#include "../../autograd/autograd.h"
#include "../../core/linalg.h"
#include "../../core/ops.h"
#include "../../core/reduce.h"
#include "../layers.h"
#include "builders.h"
#include "detail/config_document.h"

namespace tinynn::nn {

namespace {
bool ends_with(const std::string& s, const std::string& tail) {
  return s.size() >= tail.size() && s.compare(s.size() - tail.size(), tail.size(), tail) == 0;
}
}  // namespace

std::int64_t parameter_count(const Module& model) {
  std::int64_t n = 0;
  for (const auto& [name, p] : model.named_parameters()) n += p.numel();
  return n;
}

std::vector<WeightSpectrum> weight_spectra(const Module& model, std::int64_t top_k) {
  NoGradGuard no_grad;
  std::vector<WeightSpectrum> out;
  for (const auto& [name, p] : model.named_parameters()) {
    if ((p.dim() != 2 && p.dim() != 4) || !ends_with(name, "weight") || p.numel() == 0) continue;
    // A convolution's weight [out, in, kH, kW] acts as the matrix [out, in kH kW] on image patches.
    const Tensor w = p.to(Device::cpu()).to(DType::Float64).reshape({p.shape()[0], -1});
    const auto s = linalg::svdvals(w).to_vector<double>();
    WeightSpectrum ws;
    ws.name = name;
    ws.shape = p.shape();
    ws.frobenius = linalg::matrix_norm(w).item();
    ws.spectral = s.front();
    ws.rank = linalg::matrix_rank(w).item<std::int64_t>();
    ws.condition = linalg::cond(w).item();
    double total = 0, top = 0;
    for (std::size_t i = 0; i < s.size(); ++i) {
      total += s[i] * s[i];
      if (static_cast<std::int64_t>(i) < top_k) {
        top += s[i] * s[i];
        ws.top_singular_values.push_back(s[i]);
      }
    }
    ws.top_k_energy = total > 0 ? top / total : 1.0;
    out.push_back(std::move(ws));
  }
  return out;
}

namespace {

// The rank a layer keeps: the option's rank (capped), or the fewest singular values holding
// the requested energy share.
std::int64_t chosen_rank(const std::vector<double>& energy, const CompressOptions& options) {
  const auto most = static_cast<std::int64_t>(energy.size());
  if (options.rank > 0) return std::min(options.rank, most);
  for (std::int64_t k = 0; k < most; ++k)
    if (energy[static_cast<std::size_t>(k)] >= options.energy - 1e-12) return k + 1;
  return most;
}

}  // namespace

Compression compress_dense_layers(const Config& config, const Sequential& model, const Shape& sample_shape,
                                  std::int64_t outputs, const CompressOptions& options) {
  if ((options.rank > 0) == (options.energy > 0))
    throw ValueError("tinynn::nn::compress_dense_layers: give either a rank > 0 or an energy share in (0, 1]");
  if (options.energy > 1.0)
    throw ValueError(fmt::format("tinynn::nn::compress_dense_layers: energy {} is not a share in (0, 1]", options.energy));
  NoGradGuard no_grad;

  // build_model makes one Linear per dense layer spec, in order.
  std::vector<std::shared_ptr<Linear>> linears;
  for (std::size_t i = 0; i < model.size(); ++i)
    if (auto l = std::dynamic_pointer_cast<Linear>(model[i])) linears.push_back(l);
  std::vector<std::size_t> linear_specs;
  for (std::size_t i = 0; i < config.layers.size(); ++i)
    if (find_layer_type(config.layers[i].type)->dense) linear_specs.push_back(i);
  if (linears.size() != linear_specs.size())
    throw ValueError(fmt::format("tinynn::nn::compress_dense_layers: the model has {} dense layers but its config {}",
                                 linears.size(), linear_specs.size()));

  // Decide every layer's rank and its two factors W ~ (U_k sqrt(S_k)) (sqrt(S_k) V_k^T).
  Compression result;
  std::vector<std::map<std::string, Tensor>> first_states, second_states;
  nlohmann::json rewritten = config.resolved.impl().json;
  nlohmann::json layers = nlohmann::json::array();
  std::size_t next_linear = 0;
  for (std::size_t i = 0; i < config.layers.size(); ++i) {
    const nlohmann::json& spec = config.resolved.impl().json["model"]["layers"][i];
    if (!find_layer_type(config.layers[i].type)->dense) {
      layers.push_back(spec);
      continue;
    }
    const auto& linear = linears[next_linear++];
    const Tensor w = linear->weight().to(Device::cpu()).to(DType::Float64);
    const auto svd = linalg::svd(w, false);
    const Tensor squares = square(svd.S);  // energy from these singular values, not a second SVD
    const auto energy = (cumsum(squares, 0) / sum(squares)).to_vector<double>();
    LayerCompression lc;
    lc.layer = config.layers[i].path;
    lc.in = linear->in_features();
    lc.out = linear->out_features();
    lc.rank = chosen_rank(energy, options);
    lc.energy_kept = lc.rank > 0 ? energy[static_cast<std::size_t>(lc.rank - 1)] : 0.0;
    lc.factorized = lc.rank * (lc.in + lc.out) < lc.in * lc.out;
    if (lc.factorized) {
      const Tensor root = sqrt(svd.S.narrow(0, 0, lc.rank));
      const DType t = linear->weight().dtype();
      first_states.push_back({{"weight", (root.unsqueeze(1) * svd.Vh.narrow(0, 0, lc.rank)).to(t)}});
      std::map<std::string, Tensor> second{{"weight", (svd.U.narrow(1, 0, lc.rank) * root.unsqueeze(0)).to(t)}};
      if (linear->bias().defined()) second["bias"] = linear->bias();
      second_states.push_back(std::move(second));
      layers.push_back({{"type", "linear"}, {"units", lc.rank}, {"bias", false}});
    } else {
      lc.rank = std::min(lc.in, lc.out);
      lc.energy_kept = 1.0;
    }
    layers.push_back(spec);
    result.layers.push_back(lc);
  }
  rewritten["model"]["layers"] = layers;
  result.config = parse_config(rewritten.dump(), config.name.empty() ? "compressed config" : config.name);
  result.config.name = config.name;

  // Build the new model and fill it: factorized layers from their factors, the rest copied.
  Generator gen(0);
  result.model = build_model(result.config, sample_shape, outputs, &gen, nullptr, /*trained=*/true);
  std::size_t j = 0, factor = 0, dense = 0;
  for (std::size_t i = 0; i < model.size(); ++i, ++j) {
    const bool is_linear = std::dynamic_pointer_cast<Linear>(model[i]) != nullptr;
    if (is_linear && result.layers[dense++].factorized) {
      (*result.model)[j]->load_state_dict(first_states[factor]);
      (*result.model)[++j]->load_state_dict(second_states[factor++]);
    } else {
      (*result.model)[j]->load_state_dict(model[i]->state_dict());
    }
  }
  result.params_before = parameter_count(model);
  result.params_after = parameter_count(*result.model);
  return result;
}

}  // namespace tinynn::nn
