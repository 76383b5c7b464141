// All-reduce under `mpirun -np N`: tinynn::dist::all_reduce_sum on a float32 tensor, and the
// trainer's gradient all-reduce (gradients copied into one flat buffer and back) on the default
// MLP's parameters, against MPI_Allreduce called directly on a plain buffer of the same size.
// Rank 0 prints TSV: what, floats, tinynn seconds, MPI seconds, tinynn GB/s (bytes / time).
#include <mpi.h>

#include <cstdio>
#include <vector>

#include <tinynn/tinynn.h>

#include "bench_util.h"

namespace dist = tinynn::dist;
namespace nn = tinynn::nn;

namespace {

double raw_mpi_seconds(std::int64_t n) {
  std::vector<float> buffer(static_cast<std::size_t>(n), 1.0f);
  return tinynn::bench::median_seconds(
      [&] { MPI_Allreduce(MPI_IN_PLACE, buffer.data(), static_cast<int>(n), MPI_FLOAT, MPI_SUM, MPI_COMM_WORLD); }, 15, 10);
}

void report(const char* what, std::int64_t n, double ours, double theirs) {
  if (dist::is_main())
    std::printf("%s\t%lld\t%.9f\t%.9f\t%.3f\n", what, static_cast<long long>(n), ours, theirs,
                static_cast<double>(n) * 4 / ours / 1e9);
}

}  // namespace

int main(int argc, char** argv) {
  dist::init(&argc, &argv);
  if (dist::world_size() < 2) {
    std::fprintf(stderr, "bench_allreduce: run it under mpirun -np 2 (or more)\n");
    return 2;
  }
  for (const std::int64_t n : {std::int64_t{1000}, std::int64_t{100000}, std::int64_t{235146}, std::int64_t{421834},
                               std::int64_t{4000000}}) {
    tinynn::Tensor t = tinynn::ones({n});
    const double ours = tinynn::bench::median_seconds([&] { dist::all_reduce_sum(t); }, 15, 10);
    report("all_reduce_sum", n, ours, raw_mpi_seconds(n));
  }
  // The default config's MLP (784-256-128-10): what one training step's gradient sum costs.
  tinynn::Generator gen(1);
  nn::Sequential mlp;
  mlp.add(std::make_shared<nn::Linear>(784, 256, true, &gen)).add(std::make_shared<nn::Linear>(256, 128, true, &gen));
  mlp.add(std::make_shared<nn::Linear>(128, 10, true, &gen));
  std::vector<tinynn::Tensor> params = mlp.parameters();
  for (tinynn::Tensor& p : params) p.set_grad(tinynn::ones_like(p));
  dist::GradientAllReduce reducer;
  const double ours = tinynn::bench::median_seconds([&] { reducer.sum_gradients(params); }, 15, 10);
  report("gradients_of_default_mlp", mlp.parameter_count(), ours, raw_mpi_seconds(mlp.parameter_count()));
  // As TrainStep keeps them: in one flat buffer (the gradients move into their slots), summed in place.
  const nn::FlatParameters flat(params);
  const double in_place = tinynn::bench::median_seconds([&] { reducer.sum_gradients(params); }, 15, 10);
  report("flat_gradients_of_default_mlp", mlp.parameter_count(), in_place, raw_mpi_seconds(mlp.parameter_count()));
  return 0;
}
