// What subnormal floats cost, and what flushing them saves: an SGD-momentum step (fused) over a
// million parameters whose gradients are zero and whose momentum has decayed to subnormal values,
// as in a run whose weights stopped changing; with IEEE subnormals and with set_flush_denormal.
// Prints "sgd_momentum_step_subnormal<TAB>ieee|flushed<TAB>seconds".
#include <cstdio>

#include <tinynn/tinynn.h>

#include "bench_util.h"

int main() {
  namespace nn = tinynn::nn;
  for (const bool flush : {false, true}) {
    tinynn::set_flush_denormal(flush);
    tinynn::Tensor p = tinynn::ones({1 << 20}).requires_grad_();
    nn::SGD sgd({p}, nn::SGDOptions{0.0, 0.999});
    auto step = [&] {
      p.set_grad(tinynn::full({1 << 20}, 1e-39));  // subnormal (float32's normal range ends at 1.2e-38)
      sgd.step();
    };
    const double seconds = tinynn::bench::median_seconds(step, 15, 5, 3);
    std::printf("sgd_momentum_step_subnormal\t%s\t%.9f\n", flush ? "flushed" : "ieee", seconds);
  }
  tinynn::set_flush_denormal(false);
  return 0;
}
