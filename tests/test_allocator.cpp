// The CPU caching allocator: repeated work of the same shapes reuses memory instead of asking
// the system again, and blocks come back 64-byte aligned.
#include <tinynn/kernels/common/caching_allocator.h>
#include <tinynn/tinynn.h>

#include <cstdint>

#include "test_helpers.h"

using namespace tinynn;

TEST_CASE("steady-state tensor work allocates nothing new from the system", "[allocator]") {
  auto& alloc = cpu::cpu_allocator();
  Tensor w = randn({64, 32}), x = randn({16, 64});
  auto step = [&] { return relu(matmul(x, w) + 1.0).sum(); };
  step();  // warm-up fills the cache
  step();
  const auto before = alloc.stats().system_allocations;
  for (int i = 0; i < 100; ++i) step();
  CHECK(alloc.stats().system_allocations == before);
}

TEST_CASE("allocations are 64-byte aligned and reused by size", "[allocator]") {
  CachingAllocator alloc;
  void* a = alloc.allocate(100);
  CHECK(reinterpret_cast<std::uintptr_t>(a) % 64 == 0);
  alloc.deallocate(a, 100);
  CHECK(alloc.stats().cached_bytes == 128);
  void* b = alloc.allocate(120);  // same 128-byte bucket
  CHECK(b == a);
  alloc.deallocate(b, 120);
  void* big = alloc.allocate(1 << 20);
  CHECK(reinterpret_cast<std::uintptr_t>(big) % 64 == 0);
  alloc.deallocate(big, 1 << 20);
  CHECK(alloc.stats().system_allocations == 2);
  alloc.release_cached();
  CHECK(alloc.stats().cached_bytes == 0);
}

TEST_CASE("100 full training steps after warm-up allocate nothing new from the system", "[allocator][nn]") {
  auto& alloc = cpu::cpu_allocator();
  Generator gen(3);
  auto model = std::make_shared<nn::Sequential>();
  model->add(std::make_shared<nn::Linear>(32, 64, true, &gen)).add(std::make_shared<nn::ReLU>());
  model->add(std::make_shared<nn::Dropout>(0.2, &gen)).add(std::make_shared<nn::Linear>(64, 10, true, &gen));
  nn::Adam opt(model->parameters(), nn::adamw_options(1e-3, 1e-2));
  const Tensor x = randn({16, 32}, {}, &gen);
  const Tensor y = randint(0, 10, {16}, {DType::Int64}, &gen);
  auto step = [&] {
    opt.zero_grad();
    Tensor loss = nn::cross_entropy((*model)(x), y) + nn::regularization_penalty(*model, {{0.0, 1e-4}, {}});
    loss.backward();
    nn::clip_grad_norm(model->parameters(), 1.0);
    opt.step();
  };
  for (int i = 0; i < 3; ++i) step();  // warm-up: optimizer state and every buffer size seen once
  const auto before = alloc.stats().system_allocations;
  for (int i = 0; i < 100; ++i) step();
  CHECK(alloc.stats().system_allocations == before);
}

TEST_CASE("CNN training steps after warm-up allocate nothing new from the system", "[allocator][nn][conv]") {
  auto& alloc = cpu::cpu_allocator();
  Generator gen(5);
  auto model = std::make_shared<nn::Sequential>();
  model->add(std::make_shared<nn::Conv2d>(1, 4, Size2{3, 3}, Size2{1, 1}, Size2{1, 1}, Size2{1, 1}, 1, true, &gen));
  model->add(std::make_shared<nn::BatchNorm2d>(4)).add(std::make_shared<nn::ReLU>()).add(std::make_shared<nn::MaxPool2d>(Size2{2, 2}));
  model->add(std::make_shared<nn::Flatten>()).add(std::make_shared<nn::Linear>(4 * 6 * 6, 10, true, &gen));
  nn::Adam opt(model->parameters(), nn::adamw_options(1e-3, 1e-2));
  const Tensor x = randn({8, 1, 12, 12}, {}, &gen);
  const Tensor y = randint(0, 10, {8}, {DType::Int64}, &gen);
  nn::TrainStep step(*model, opt, [](const Tensor& o, const Tensor& t) { return nn::cross_entropy(o, t); }, {});
  for (int i = 0; i < 3; ++i) step(x, y);
  const auto before = alloc.stats().system_allocations;
  for (int i = 0; i < 30; ++i) step(x, y);
  CHECK(alloc.stats().system_allocations == before);
}
