// The JSON config and the type registry: per-type keys and defaults, every activation of the
// op table usable by name, and configs/README.md's key tables generated from the same rows.
#include <fmt/format.h>

#include <cstdlib>
#include <fstream>
#include <sstream>

#include "test_helpers.h"

using namespace tinynn;

namespace {

nn::Config parse(const std::string& model_and_rest) {
  return nn::parse_config(R"({"data": {"type": "synthetic"}, )" + model_and_rest + "}", "test.json");
}

nn::Config parse_optimizer(const std::string& optimizer) {
  return parse(R"("model": {"layers": [{"type": "linear"}]}, "optimizer": )" + optimizer);
}

std::string read_file(const std::string& path) {
  std::ifstream in(path);
  std::stringstream text;
  text << in.rdbuf();
  return text.str();
}

}  // namespace

TEST_CASE("config reference tables match the registry", "[config][registry]") {
  const std::string path = std::string(TINYNN_SOURCE_DIR) + "/configs/README.md";
  const std::string begin = "<!-- registry tables begin -->\n", end = "<!-- registry tables end -->";
  std::string readme = read_file(path);
  const auto a = readme.find(begin), b = readme.find(end);
  REQUIRE(a != std::string::npos);
  REQUIRE(b != std::string::npos);
  const std::string expected = nn::config_reference_markdown();
  if (std::getenv("TINYNN_WRITE_CONFIG_README") != nullptr) {
    readme.replace(a + begin.size(), b - a - begin.size(), expected);
    std::ofstream(path) << readme;
    WARN("rewrote the registry tables of " << path);
    return;
  }
  INFO("configs/README.md is out of date; rerun with TINYNN_WRITE_CONFIG_README=1. Expected:\n" << expected);
  CHECK(readme.substr(a + begin.size(), b - a - begin.size()) == expected);
}

TEST_CASE("every activation of the pointwise table is a layer type by its name", "[config][registry]") {
  int activations = 0;
#define TINYNN_OP(Name, name) UnaryOp::Name,
  for (const UnaryOp op : {TINYNN_UNARY_OPS(TINYNN_OP)}) {
#undef TINYNN_OP
    const ActivationTraits traits = unary_op_activation(op);
    const nn::LayerType* row = nn::find_layer_type(unary_op_name(op));
    CHECK((row != nullptr) == traits.activation);
    if (!traits.activation) continue;
    ++activations;
    const nn::Config c = parse(fmt::format(R"("model": {{"layers": [{{"type": "linear", "units": 4}}, {{"type": "{}"}},
                                                                    {{"type": "linear"}}]}})", unary_op_name(op)));
    Generator gen(1);
    auto model = nn::build_model(c, {2}, 3, &gen);
    REQUIRE(model->size() == 3);
    const auto* layer = dynamic_cast<const nn::Pointwise*>((*model)[1].get());
    REQUIRE(layer != nullptr);
    CHECK(layer->op() == op);
    if (traits.param) CHECK(layer->params().a == traits.param_default);
    const Tensor x = from_vector(std::vector<float>{0.5f, -1.0f, 2.0f, 0.25f}, {2, 2});
    CHECK((*model)(x).shape() == Shape{2, 3});
  }
  CHECK(activations >= 6);  // relu, leaky_relu, tanh, sigmoid, gelu, softplus
  const nn::Config leaky = parse(R"("model": {"layers": [{"type": "leaky_relu", "slope": 0.2}, {"type": "linear"}]})");
  Generator gen(1);
  auto model = nn::build_model(leaky, {2}, 2, &gen);
  CHECK(dynamic_cast<const nn::Pointwise&>(*(*model)[0]).params().a == 0.2);
}

TEST_CASE("optimizer keys are checked per type", "[config][registry]") {
  CHECK_THROWS_WITH(parse_optimizer(R"({"type": "sgd", "amsgrad": true})"),
                    Catch::Contains("optimizer.amsgrad: unknown key; allowed keys: type, lr, momentum, dampening, nesterov, weight_decay"));
  CHECK_THROWS_WITH(parse_optimizer(R"({"type": "adam", "momentum": 0.9})"), Catch::Contains("optimizer.momentum: unknown key"));
  CHECK_THROWS_WITH(parse_optimizer(R"({"type": "sgd", "nesterov": true})"), Catch::Contains("optimizer.nesterov: needs momentum > 0"));
  CHECK_THROWS_WITH(parse_optimizer(R"({"type": "adam", "betas": [0.9]})"), Catch::Contains("optimizer.betas: expected two numbers"));
  CHECK_THROWS_WITH(parse_optimizer(R"({"type": "lion"})"), Catch::Contains("optimizer.type: unknown optimizer 'lion'; known: sgd, adam"));
  CHECK_NOTHROW(parse_optimizer(R"({"type": "adam", "amsgrad": true})"));
}

TEST_CASE("JSON defaults are the C++ options' defaults", "[config][registry]") {
  auto lr_of = [](const std::string& type) { return parse_optimizer(R"({"type": ")" + type + R"("})").optimizer.values.number("lr"); };
  CHECK(lr_of("sgd") == nn::SGDOptions{}.lr);
  CHECK(lr_of("adam") == nn::AdamOptions{}.lr);
  CHECK(lr_of("rmsprop") == nn::RMSpropOptions{}.lr);  // 1e-2 in both now (JSON said 1e-3)
  CHECK(lr_of("adagrad") == nn::AdagradOptions{}.lr);
  const nn::Config adamw = parse_optimizer(R"({"type": "adamw"})");
  CHECK(adamw.optimizer.values.number("weight_decay") == nn::adamw_options().weight_decay);
  CHECK(parse_optimizer(R"({"type": "adagrad"})").optimizer.values.number("eps") == nn::AdagradOptions{}.eps);
  const nn::Config none = parse_optimizer(R"({"type": "sgd"})");
  CHECK(none.scheduler.type == "none");
  CHECK(none.loss.type == "cross_entropy");
}

TEST_CASE("layer, loss and scheduler types: unknown names and their own keys", "[config][registry]") {
  CHECK_THROWS_WITH(parse(R"("model": {"layers": [{"type": "conv9d"}]})"),
                    Catch::Contains("model.layers[0].type: unknown layer 'conv9d' (did you mean 'conv2d'?); known: linear, relu"));
  CHECK_THROWS_WITH(parse(R"("model": {"layers": [{"type": "relu", "p": 0.5}, {"type": "linear"}]})"),
                    Catch::Contains("model.layers[0].p: unknown key"));
  CHECK_THROWS_WITH(parse(R"("model": {"layers": [{"type": "linear"}]}, "loss": {"type": "mse", "delta": 2})"),
                    Catch::Contains("loss.delta: unknown key"));
  CHECK_THROWS_WITH(parse(R"("model": {"layers": [{"type": "linear"}]}, "scheduler": {"type": "plateau", "warmup_epochs": 2})"),
                    Catch::Contains("scheduler.warmup_epochs: unknown key"));
  CHECK_THROWS_WITH(parse(R"("model": {"layers": [{"type": "linear"}]}, "scheduler": {"type": "multi_step", "milestones": [5, 2]})"),
                    Catch::Contains("scheduler.milestones: must be increasing"));
  const nn::Config c = parse(R"("model": {"layers": [{"type": "linear"}]}, "scheduler": {"type": "cosine", "warmup_epochs": 1})");
  CHECK(c.scheduler.values.integer("warmup_epochs") == 1);
  CHECK(c.scheduler.values.number("eta_min") == 0.0);
  // The resolved config holds the chosen types' keys, every default filled in, and parses back.
  const std::string resolved = c.resolved.dump();
  CHECK_THAT(resolved, Catch::Contains(R"("eta_min":0.0)") && !Catch::Contains("milestones") && !Catch::Contains("nesterov"));
  CHECK(nn::parse_config(resolved, "again.json").resolved.dump() == resolved);
}

TEST_CASE("batchnorm on image samples: refused in a new config, kept in a trained model's", "[config][registry]") {
  // Before the rule, batchnorm flattened image samples; checkpoints trained so must still load.
  const nn::Config c = parse(R"("model": {"layers": [{"type": "batchnorm"}, {"type": "linear"}]})");
  Generator gen(1);
  CHECK_THROWS_WITH(nn::build_model(c, {2, 3, 3}, 4, &gen),
                    Catch::Contains("model.layers[0]: batchnorm normalizes feature vectors [F], but its input is [2, 3, 3]: "
                                    "use batchnorm2d for image samples"));
  auto trained = nn::build_model(c, {2, 3, 3}, 4, &gen, nullptr, /*trained=*/true);
  CHECK(trained->forward(ones({5, 2, 3, 3})).shape() == Shape{5, 4});
  // A batch of one sample reaching a batch norm over features, on one process and split over two.
  std::vector<std::size_t> ends;
  auto model = nn::build_model(parse(R"("model": {"layers": [{"type": "linear", "units": 3}, {"type": "batchnorm"},
                                                             {"type": "linear"}]})"), {6}, 4, &gen, &ends);
  nn::Config config = parse(R"("model": {"layers": [{"type": "linear", "units": 3}, {"type": "batchnorm"}, {"type": "linear"}]})");
  config.training.batch_size = 8;
  CHECK_THROWS_WITH(nn::check_batch_norm_batches(config, *model, {6}, ends, 17),
                    Catch::Contains("model.layers[1]: batchnorm in training needs more than one value per channel, but the "
                                    "last training batch holds one sample (17 samples"));
  CHECK_NOTHROW(nn::check_batch_norm_batches(config, *model, {6}, ends, 18));
  CHECK_THROWS_WITH(nn::check_batch_norm_batches(config, *model, {6}, ends, 19, 2),  // a last batch of 3 over 2 ranks
                    Catch::Contains("the last training batch (3) leaves a rank of 2 one sample"));
  CHECK_NOTHROW(nn::check_batch_norm_batches(config, *model, {6}, ends, 20, 2));
  config.training.drop_last = true;
  CHECK_NOTHROW(nn::check_batch_norm_batches(config, *model, {6}, ends, 17));
  CHECK(model->is_training());  // the check's eval-mode pass leaves the mode as it was
}

TEST_CASE("the model summary lists every config layer by its registry type", "[config][registry]") {
  const nn::Config c = parse(R"("model": {"layers": [{"type": "linear", "units": 8, "l2": 0.01}, {"type": "leaky_relu", "slope": 0.2},
                                                     {"type": "dropout", "p": 0.5}, {"type": "linear"}]})");
  Generator gen(1);
  std::vector<std::size_t> layer_ends;
  auto model = nn::build_model(c, {2, 3}, 4, &gen, &layer_ends);  // a non-flat sample: the first linear flattens it
  const std::string summary = nn::model_summary(c, *model, {2, 3}, layer_ends);
  INFO(summary);
  CHECK_THAT(summary, Catch::Contains("model.layers[0]    linear       units=8 l2=0.01") && Catch::Contains("[8]") &&
                          Catch::Contains("56\n"));  // 6 * 8 + 8
  CHECK_THAT(summary, Catch::Contains("leaky_relu   slope=0.2"));
  CHECK_THAT(summary, Catch::Contains("dropout") && !Catch::Contains("p=0.5"));  // the default is not repeated
  CHECK_THAT(summary, Catch::Contains("model.layers[3]    linear") && Catch::Contains("[4]") && Catch::Contains("36\n"));
  CHECK_THAT(summary, Catch::EndsWith("total parameters: 92\n"));
  // Settings longer than the column widen it: every row's output shape starts where the header's does.
  const nn::Config wide = parse(R"("model": {"layers": [{"type": "linear", "units": 8, "l1": 0.00001, "l2": 0.0001, "bias": false},
                                                        {"type": "linear"}]})");
  layer_ends.clear();
  auto wide_model = nn::build_model(wide, {2, 3}, 4, &gen, &layer_ends);
  std::istringstream lines(nn::model_summary(wide, *wide_model, {2, 3}, layer_ends));
  std::string header, first, second;
  std::getline(lines, header), std::getline(lines, first), std::getline(lines, second);
  INFO(header << "\n" << first << "\n" << second);
  const std::size_t column = header.find("output shape");
  CHECK(first.find("[8]") == column);
  CHECK(second.find("[4]") == column);
  CHECK(first.find("units=8 bias=false l1=1e-05 l2=0.0001 ") != std::string::npos);
}
