// tinynn::dist under `mpirun -np N` (ctest runs it on 2 and 3 ranks): all-reduce and broadcast of
// every dtype at uneven sizes (0, 1, 7 and a million and three elements), the gradient all-reduce
// through its flat buffer, and a custom loop with DataParallel whose parameters stay identical on
// every rank while each rank trains on its own data. Prints one line per check; exit 1 on a failure.
#include <fmt/format.h>

#include <cmath>
#include <cstdint>
#include <cstring>
#include <iostream>

#include <tinynn/tinynn.h>

namespace dist = tinynn::dist;
namespace nn = tinynn::nn;
using tinynn::DType;
using tinynn::Tensor;

namespace {

int failures = 0;

void check(bool ok, const std::string& what) {
  if (!ok) {
    ++failures;
    std::cerr << fmt::format("FAILED on rank {}: {}\n", dist::rank(), what);
  }
}

// Rank r holds value(r, i) at element i; the sum over ranks is known in closed form.
double value(int r, std::int64_t i) { return static_cast<double>((r + 1) * (i % 13 + 1)); }

void all_reduce_every_dtype(int n) {
  const int ranks = dist::world_size();
  for (const DType t : {DType::Float32, DType::Float64, DType::Int64})
    for (const std::int64_t size : {0, 1, 7, 1000003}) {
      std::vector<double> v(static_cast<std::size_t>(size));
      for (std::int64_t i = 0; i < size; ++i) v[static_cast<std::size_t>(i)] = value(dist::rank(), i);
      Tensor x = tinynn::from_vector(v, {size}).to(t);
      dist::all_reduce_sum(x);
      const std::vector<double> got = x.to_vector<double>();
      bool ok = static_cast<std::int64_t>(got.size()) == size;
      // Sum over r of (r + 1) * k = k * n (n + 1) / 2: exact in every dtype at these sizes.
      for (std::int64_t i = 0; ok && i < size; ++i) ok = got[static_cast<std::size_t>(i)] == (i % 13 + 1) * n * (n + 1) / 2.0;
      check(ok, fmt::format("all_reduce_sum of {} {} elements on {} ranks", size, tinynn::dtype_name(t), ranks));
    }
  std::vector<double> values = {1.0, static_cast<double>(dist::rank())};
  dist::all_reduce_sum(values);
  check(values[0] == n && values[1] == n * (n - 1) / 2.0, "all_reduce_sum of a vector<double>");
}

void broadcast_from_every_root() {
  for (int root = 0; root < dist::world_size(); ++root)
    for (const DType t : {DType::Float32, DType::Float64, DType::Int64}) {
      Tensor x = tinynn::full({5, 3}, static_cast<double>(dist::rank() * 10 + 1)).to(t);
      dist::broadcast(x, root);
      bool ok = true;
      for (const double v : x.to_vector<double>()) ok = ok && v == root * 10 + 1;
      check(ok, fmt::format("broadcast of {} from rank {}", tinynn::dtype_name(t), root));
    }
  bool threw = false;
  try {
    Tensor x = tinynn::zeros({2});
    dist::broadcast(x, dist::world_size());
  } catch (const tinynn::ValueError&) {
    threw = true;
  }
  check(threw, "broadcast from a rank that does not exist is an error");
}

// A bit-exact fingerprint of the parameters.
std::uint64_t fingerprint(const nn::Module& model) {
  std::uint64_t h = 1469598103934665603ull;
  for (const auto& [name, p] : model.named_parameters())
    for (const float v : p.to_vector<float>()) {
      std::uint32_t bits;
      std::memcpy(&bits, &v, 4);
      h = (h ^ bits) * 1099511628211ull;
    }
  return h;
}

// Every rank trains on its own batches; after DataParallel's sync each step is the same step.
void data_parallel_loop() {
  tinynn::Generator gen(static_cast<std::uint64_t>(7 + dist::rank()));  // different initial weights per rank...
  nn::Sequential model;
  model.add(std::make_shared<nn::Linear>(6, 16, true, &gen)).add(std::make_shared<nn::ReLU>());
  model.add(std::make_shared<nn::Linear>(16, 3, true, &gen));
  // A parameter no rank computes a gradient for keeps none after sync (the optimizer skips it).
  nn::Linear unused(2, 2, true, &gen);
  dist::DataParallel parallel(model);  // ...until rank 0's are broadcast
  nn::SGD sgd(model.parameters(), nn::SGDOptions{0.05, 0.9});
  tinynn::Generator data(static_cast<std::uint64_t>(100 + dist::rank()));
  for (int step = 0; step < 20; ++step) {
    const Tensor x = tinynn::randn({8, 6}, {}, &data);
    const Tensor y = tinynn::randint(0, 3, {8}, {DType::Int64, tinynn::Device::cpu()}, &data);
    sgd.zero_grad();
    nn::cross_entropy(model(x), y).backward();
    parallel.sync();
    sgd.step();
  }
  dist::GradientAllReduce reducer;
  reducer.sum_gradients(unused.parameters());
  check(!unused.weight().grad().defined(), "a parameter without a gradient on any rank keeps none");
  Tensor mine = tinynn::from_vector(std::vector<double>{static_cast<double>(fingerprint(model) % (1ull << 52))}, {1}).to(DType::Float64);
  Tensor root = mine.clone();
  dist::broadcast(root);
  check(mine.to_vector<double>() == root.to_vector<double>(), "parameters identical on every rank after 20 data-parallel steps");
}

}  // namespace

int main(int argc, char** argv) {
  dist::init(&argc, &argv);
  const int n = dist::world_size();
  all_reduce_every_dtype(n);
  broadcast_from_every_root();
  data_parallel_loop();
  dist::barrier();
  std::vector<double> total = {static_cast<double>(failures)};
  dist::all_reduce_sum(total);
  if (dist::is_main()) std::cout << (total[0] == 0 ? "PASSED" : "FAILED") << fmt::format(": tinynn::dist on {} ranks\n", n);
  return total[0] == 0 ? 0 : 1;
}
