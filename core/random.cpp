// The default generator (Philox itself is inline in random.h).
#include "random.h"

namespace tinynn {

Generator& default_generator() {
  static Generator gen;
  return gen;
}

void manual_seed(std::uint64_t seed) { default_generator().manual_seed(seed); }

}  // namespace tinynn
