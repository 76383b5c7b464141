// Batch inference through nn::Predictor (what `tinynn predict` runs): seconds to predict the whole
// test set of a checkpoint's config, raw samples in, probabilities out, medians of repeats.
// Usage: bench_predict CHECKPOINT [BATCH] -> one line "tinynn_predict<TAB>samples<TAB>seconds"
// (bench/bench_inference.sh compares it with ONNX Runtime on the exported model).
#include <cstdio>
#include <string>

#include <tinynn/tinynn.h>

#include "bench_util.h"

namespace nn = tinynn::nn;

int main(int argc, char** argv) {
  if (argc < 2) {
    std::fprintf(stderr, "usage: bench_predict CHECKPOINT [BATCH]\n");
    return 2;
  }
  const std::int64_t batch = argc > 2 ? std::stoll(argv[2]) : 256;
  nn::Predictor predictor(argv[1]);
  nn::Config raw = predictor.config();
  raw.data.scale = raw.data.normalize = false;  // the samples as the files hold them: Predictor preprocesses
  const tinynn::Tensor samples = nn::load_data(raw).test.inputs;
  const double seconds = tinynn::bench::median_seconds([&] { predictor.predict(samples, batch); }, 7, 1, 2);
  std::printf("tinynn_predict\t%lld\t%.6f\n", static_cast<long long>(samples.shape()[0]), seconds);
  return 0;
}
