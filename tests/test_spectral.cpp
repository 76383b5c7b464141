// Weight spectra and low-rank compression of dense layers (nn/spectral.h).
#include "test_helpers.h"

using namespace tinynn;
using tinynn::test::check_values;

namespace {

// A config with two dense layers: 20 -> 30 -> tanh -> 3 classes.
nn::Config two_layer_config() {
  return nn::parse_config(R"({
    "model": {"layers": [{"type": "linear", "units": 30}, {"type": "tanh"}, {"type": "linear"}]},
    "data": {"type": "synthetic", "synthetic": "spirals", "samples": 60, "test_samples": 30}
  })", "test config");
}

}  // namespace

TEST_CASE("compress_dense_layers: a factorized layer computes the rank-k approximation", "[nn][spectral]") {
  const nn::Config config = two_layer_config();
  Generator gen(3);
  auto model = nn::build_model(config, {20}, 3, &gen);
  const nn::Compression c = nn::compress_dense_layers(config, *model, {20}, 3, {5, 0});
  // Layer 0: 5 * (20 + 30) = 250 < 600 parameters, factorized; layer 2 (3 x 30): 5 * 33 > 90, dense.
  REQUIRE(c.layers.size() == 2);
  CHECK(c.layers[0].factorized);
  CHECK(c.layers[0].rank == 5);
  CHECK_FALSE(c.layers[1].factorized);
  CHECK(c.params_before == 20 * 30 + 30 + 30 * 3 + 3);
  CHECK(c.params_after == 20 * 5 + 5 * 30 + 30 + 30 * 3 + 3);
  CHECK(c.config.layers.size() == 4);
  CHECK(c.config.layers[0].values.integer("units") == 5);
  CHECK_FALSE(c.config.layers[0].values.flag("bias"));

  // The compressed model computes tanh(x W5^T + b) V^T + c with W5 = low_rank(W, 5).
  const auto& dense = dynamic_cast<const nn::Linear&>(*(*model)[0]);
  const auto& head = dynamic_cast<const nn::Linear&>(*(*model)[2]);
  const Tensor x = randn({7, 20}, {}, &gen);
  const Tensor expected =
      matmul(tanh(matmul(x, linalg::low_rank(dense.weight().detach(), 5).t()) + dense.bias()), head.weight().t()) + head.bias();
  NoGradGuard no_grad;
  const Tensor got = (*c.model)(x);
  CHECK(allclose(got, expected, 1e-4, 1e-5));
  // The energy kept is the share of sum(S^2) of the five largest singular values.
  const auto s = linalg::svdvals(dense.weight().detach()).to_vector<double>();
  double top = 0, total = 0;
  for (std::size_t i = 0; i < s.size(); ++i) (i < 5 ? top : total) += s[i] * s[i];
  CHECK(c.layers[0].energy_kept == Approx(top / (top + total)).epsilon(1e-5));

  // By energy: asking for everything keeps every singular value, so nothing is factorized.
  const nn::Compression all = nn::compress_dense_layers(config, *model, {20}, 3, {0, 1.0});
  CHECK(all.params_after == all.params_before);
  CHECK(allclose((*all.model)(x), (*model)(x)));
  TINYNN_REQUIRE_THROWS_CONTAINING(nn::compress_dense_layers(config, *model, {20}, 3, {0, 0}), ValueError,
                                   "either a rank > 0 or an energy share");
}

TEST_CASE("weight_spectra: norms, rank, condition and energy of each weight matrix", "[nn][spectral]") {
  nn::Sequential model;
  auto linear = std::make_shared<nn::Linear>(3, 2);
  model.add(linear);
  {
    NoGradGuard no_grad;
    Tensor w = linear->weight();
    w.copy_(tensor({{3.0, 0.0, 0.0}, {0.0, 4.0, 0.0}}));  // singular values 4 and 3
  }
  const auto spectra = nn::weight_spectra(model, 1);
  REQUIRE(spectra.size() == 1);  // the bias is not a matrix
  const auto& s = spectra[0];
  CHECK(s.name == "0.weight");
  CHECK(s.shape == Shape{2, 3});
  CHECK(s.frobenius == Approx(5.0));
  CHECK(s.spectral == Approx(4.0));
  CHECK(s.rank == 2);
  CHECK(s.condition == Approx(4.0 / 3.0));
  REQUIRE(s.top_singular_values.size() == 1);
  CHECK(s.top_k_energy == Approx(16.0 / 25.0));
}
