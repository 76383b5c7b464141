// safetensors files and checkpoints: round trips, validation of corrupt files, atomic writes,
// and resuming a run that ends bit for bit where an uninterrupted run ends.
#include <tinynn/tinynn.h>

#include <filesystem>
#include <fstream>

#include "test_helpers.h"

using namespace tinynn;
using tinynn::test::read_file;
using tinynn::test::scratch_dir;
namespace fs = std::filesystem;

namespace {

void write_file(const fs::path& p, const std::string& bytes) {
  std::ofstream out(p, std::ios::binary | std::ios::trunc);
  out << bytes;
}

std::shared_ptr<nn::Sequential> make_model(Generator* gen) {
  auto m = std::make_shared<nn::Sequential>();
  m->add(std::make_shared<nn::Linear>(6, 8, true, gen)).add(std::make_shared<nn::ReLU>());
  m->add(std::make_shared<nn::Dropout>(0.2, gen)).add(std::make_shared<nn::Linear>(8, 3, true, gen));
  return m;
}

}  // namespace

TEST_CASE("safetensors round-trips every dtype, shape and metadata", "[nn][checkpoint]") {
  const auto dir = scratch_dir("roundtrip");
  const std::map<std::string, Tensor> tensors = {{"f32", tensor({{1.5, -2.0}, {3.0, 4.0}})},
                                                 {"f64", tensor({1e-300, 2.0}, DType::Float64)},
                                                 {"i64", tensor({-5, 7, 1})},
                                                 {"mask", tensor({1, 0}) == 1},
                                                 {"scalar", tensor(2.5)},
                                                 {"empty", zeros({0, 3})},
                                                 {"strided", arange(0, 6, 1, {DType::Float32}).reshape({2, 3}).t()}};
  nn::save_safetensors((dir / "a.safetensors").string(), tensors, {{"note", "hello"}});
  const auto loaded = nn::load_safetensors((dir / "a.safetensors").string());
  CHECK(loaded.metadata.at("note") == "hello");
  REQUIRE(loaded.tensors.size() == tensors.size());
  for (const auto& [name, t] : tensors) {
    INFO(name);
    CHECK(equal(loaded.tensors.at(name), t.contiguous()));
  }
  // The layout is the documented one: 8-byte little-endian header size, then JSON.
  const std::string bytes = read_file(dir / "a.safetensors");
  std::uint64_t header = 0;
  for (int i = 0; i < 8; ++i) header |= static_cast<std::uint64_t>(static_cast<unsigned char>(bytes[i])) << (8 * i);
  CHECK(bytes[8] == '{');
  CHECK(header % 8 == 0);
  CHECK(bytes.find("\"dtype\":\"F32\"") != std::string::npos);
  CHECK_FALSE(fs::exists(dir / ".a.safetensors.tmp"));
  fs::remove_all(dir);
}

TEST_CASE("corrupt or truncated safetensors files give clear errors", "[nn][checkpoint]") {
  const auto dir = scratch_dir("corrupt");
  const auto good = dir / "good.safetensors";
  nn::save_safetensors(good.string(), {{"w", ones({4, 4})}});
  const std::string bytes = read_file(good);
  auto expect_error = [&](const std::string& content, const std::string& message) {
    write_file(dir / "bad.safetensors", content);
    TINYNN_REQUIRE_THROWS_CONTAINING(nn::load_safetensors((dir / "bad.safetensors").string()), nn::CheckpointError, message);
  };
  expect_error("", "too short for a safetensors header");
  expect_error(bytes.substr(0, bytes.size() - 10), "outside the");  // truncated data
  expect_error(bytes.substr(0, 20), "does not fit in a file");     // truncated header
  std::string huge = bytes;
  huge[7] = '\x7f';  // header size near 2^63
  expect_error(huge, "does not fit in a file");
  std::string bad_json = bytes;
  bad_json[8] = '[';
  expect_error(bad_json, "not valid JSON");
  auto with_header = [](const std::string& json_text, std::size_t data_bytes) {
    std::string out(8, '\0');
    for (int i = 0; i < 8; ++i) out[i] = static_cast<char>((json_text.size() >> (8 * i)) & 0xff);
    return out + json_text + std::string(data_bytes, '\0');
  };
  expect_error(with_header(R"({"w":{"dtype":"F16","shape":[1],"data_offsets":[0,2]}})", 2), "unsupported dtype");
  expect_error(with_header(R"({"w":{"dtype":"F32","shape":[2],"data_offsets":[0,4]}})", 4), "has 4 bytes but shape [2]");
  expect_error(with_header(R"({"w":{"dtype":"F32","shape":[1],"data_offsets":[4,8]}})", 4), "outside the 4 data bytes");
  expect_error(with_header(R"({"w":{"dtype":"F32","shape":[-1],"data_offsets":[0,4]}})", 4), "invalid shape");
  expect_error(with_header(R"({"w":{"dtype":"F32","shape":[1099511627776,1099511627776],"data_offsets":[0,4]}})", 4),
               "impossibly large");
  TINYNN_REQUIRE_THROWS_CONTAINING(nn::load_safetensors((dir / "missing.safetensors").string()), nn::CheckpointError,
                                   "cannot open");
  fs::remove_all(dir);
}

TEST_CASE("a failed save leaves the previous checkpoint intact", "[nn][checkpoint]") {
  const auto dir = scratch_dir("atomic");
  const auto path = dir / "model.safetensors";
  nn::save_safetensors(path.string(), {{"w", ones({2})}});
  const std::string before = read_file(path);
  // A tensor that cannot be written (a reserved name) aborts the save after the temp file began.
  TINYNN_REQUIRE_THROWS_CONTAINING(nn::save_safetensors(path.string(), {{"__metadata__", zeros({2})}}), nn::CheckpointError,
                                   "cannot name a tensor");
  TINYNN_REQUIRE_THROWS_CONTAINING(nn::save_safetensors((dir / "no" / "such" / "dir.safetensors").string(), {{"w", ones({1})}}),
                                   nn::CheckpointError, "cannot create");
  CHECK(read_file(path) == before);
  CHECK_FALSE(fs::exists(dir / ".model.safetensors.tmp"));
  // A full disk: the temporary file is /dev/full, where every write fails with ENOSPC.
  fs::create_symlink("/dev/full", dir / ".model.safetensors.tmp");
  TINYNN_REQUIRE_THROWS_CONTAINING(nn::save_safetensors(path.string(), {{"w", zeros({1000})}}), nn::CheckpointError,
                                   "No space left on device");
  CHECK(read_file(path) == before);
  CHECK_FALSE(fs::exists(fs::symlink_status(dir / ".model.safetensors.tmp")));
  fs::remove_all(dir);
}

TEST_CASE("checkpoints validate the model they are loaded into", "[nn][checkpoint]") {
  const auto dir = scratch_dir("validate");
  Generator gen(1);
  auto model = make_model(&gen);
  nn::SGD opt(model->parameters(), {0.1, 0.9});
  const auto path = (dir / "ckpt.safetensors").string();
  nn::save_checkpoint(path, *model, &opt, nullptr, {3, 120, R"({"k":1})", 1, 2});
  const auto progress = nn::load_checkpoint(path, *model, &opt);
  CHECK(progress.epoch == 3);
  CHECK(progress.step == 120);
  CHECK(progress.config_json == R"({"k":1})");
  // Another architecture.
  nn::Sequential other({std::make_shared<nn::Linear>(6, 5)});
  TINYNN_REQUIRE_THROWS_CONTAINING(nn::load_checkpoint(path, other), nn::CheckpointError, "does not fit this model");
  // A different optimizer type.
  nn::Adam adam(model->parameters(), {});
  TINYNN_REQUIRE_THROWS_CONTAINING(nn::load_checkpoint(path, *model, &adam), nn::CheckpointError, "no Adam optimizer state");
  // Wrong dtype for a weight.
  auto state = model->state_dict();
  std::map<std::string, Tensor> tensors;
  for (const auto& [k, t] : state) tensors["model." + k] = t.to(DType::Float64);
  nn::save_safetensors((dir / "f64.safetensors").string(), tensors,
                       {{"format", "tinynn-checkpoint-1"}, {"epoch", "0"}, {"step", "0"}, {"rng_seed", "0"},
                        {"rng_offset", "0"}, {"config", ""}});
  TINYNN_REQUIRE_THROWS_CONTAINING(nn::load_checkpoint((dir / "f64.safetensors").string(), *model), nn::CheckpointError,
                                   "is float64 in the file but float32 in the model");
  nn::save_safetensors((dir / "plain.safetensors").string(), tensors);
  TINYNN_REQUIRE_THROWS_CONTAINING(nn::load_checkpoint((dir / "plain.safetensors").string(), *model), nn::CheckpointError,
                                   "metadata 'format' is missing");
  fs::remove_all(dir);
}

TEST_CASE("resume: N steps, save, load into fresh objects, M steps == N + M steps bit for bit", "[nn][checkpoint]") {
  const auto dir = scratch_dir("resume");
  const auto path = (dir / "ckpt.safetensors").string();
  Generator data_gen(99);
  const Tensor x = randn({32, 6}, {}, &data_gen);
  const Tensor y = randint(0, 3, {32}, {DType::Int64}, &data_gen);
  auto train_steps = [&](nn::Module& model, nn::Optimizer& opt, nn::ClosedFormScheduler& sched, int steps) {
    for (int s = 0; s < steps; ++s) {
      opt.zero_grad();
      Tensor loss = nn::cross_entropy(model(x), y) + nn::regularization_penalty(model, {{0.0, 1e-3}, {}});
      loss.backward();
      nn::clip_grad_norm(model.parameters(), 1.0);
      opt.step();
      sched.step();
    }
  };
  auto adam_options = nn::adamw_options(0.01, 0.01);
  adam_options.amsgrad = true;

  // Uninterrupted: 7 + 5 steps.
  Generator g_full(5);
  auto full = make_model(&g_full);
  nn::Adam opt_full(full->parameters(), adam_options);
  nn::StepLR sched_full(opt_full, 4, 0.5);
  train_steps(*full, opt_full, sched_full, 12);

  // Interrupted after 7 steps; everything rebuilt from scratch before resuming.
  Generator g_first(5);
  auto first = make_model(&g_first);
  nn::Adam opt_first(first->parameters(), adam_options);
  nn::StepLR sched_first(opt_first, 4, 0.5);
  train_steps(*first, opt_first, sched_first, 7);
  nn::save_checkpoint(path, *first, &opt_first, &sched_first, {0, 7, "{}", g_first.seed(), g_first.offset()});

  Generator g_resumed(12345);  // a different seed: the checkpoint must restore the real state
  auto resumed = make_model(&g_resumed);
  nn::Adam opt_resumed(resumed->parameters(), adam_options);
  nn::StepLR sched_resumed(opt_resumed, 4, 0.5);
  const auto progress = nn::load_checkpoint(path, *resumed, &opt_resumed, &sched_resumed);
  g_resumed.set_state(progress.rng_seed, progress.rng_offset);  // dropout draws continue where they left off
  CHECK(progress.step == 7);
  CHECK(opt_resumed.lr() == opt_first.lr());
  train_steps(*resumed, opt_resumed, sched_resumed, 5);

  const auto a = full->state_dict(), b = resumed->state_dict();
  for (const auto& [name, t] : a) {
    INFO(name);
    CHECK(equal(t, b.at(name)));  // exact, not approximate
  }
  fs::remove_all(dir);
}
