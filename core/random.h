// Seeded random numbers: a counter-based Philox4x32-10 generator, so the same seed gives the same
// numbers on every device and the state is two integers (easy to checkpoint).
#pragma once
#include <cstdint>

namespace tinynn {

class Generator {
 public:
  explicit Generator(std::uint64_t seed = 0x5eed) : seed_(seed) {}
  void manual_seed(std::uint64_t seed) { seed_ = seed; offset_ = 0; }
  std::uint64_t seed() const { return seed_; }
  // Number of 128-bit blocks consumed so far; with the seed, the whole state.
  std::uint64_t offset() const { return offset_; }
  void set_state(std::uint64_t seed, std::uint64_t offset) { seed_ = seed; offset_ = offset; }

  // Reserves `blocks` counter values and returns the first; each block yields four uint32.
  std::uint64_t advance(std::uint64_t blocks) { std::uint64_t first = offset_; offset_ += blocks; return first; }

 private:
  std::uint64_t seed_;
  std::uint64_t offset_ = 0;
};

// The generator used when none is passed.
Generator& default_generator();
void manual_seed(std::uint64_t seed);

// Philox4x32-10 (Salmon et al., "Parallel random numbers: as easy as 1, 2, 3"): four 32-bit
// random words for (key = seed, counter). Inline, so loops drawing many blocks can vectorize.
inline void philox4x32(std::uint64_t seed, std::uint64_t counter, std::uint32_t out[4]) {
  constexpr std::uint32_t kMul0 = 0xD2511F53u, kMul1 = 0xCD9E8D57u;
  constexpr std::uint32_t kWeyl0 = 0x9E3779B9u, kWeyl1 = 0xBB67AE85u;
  std::uint32_t c0 = static_cast<std::uint32_t>(counter), c1 = static_cast<std::uint32_t>(counter >> 32);
  std::uint32_t c2 = 0, c3 = 0;
  std::uint32_t k0 = static_cast<std::uint32_t>(seed), k1 = static_cast<std::uint32_t>(seed >> 32);
  for (int round = 0; round < 10; ++round) {
    const std::uint64_t p0 = static_cast<std::uint64_t>(kMul0) * c0;
    const std::uint64_t p1 = static_cast<std::uint64_t>(kMul1) * c2;
    const std::uint32_t hi0 = static_cast<std::uint32_t>(p0 >> 32), lo0 = static_cast<std::uint32_t>(p0);
    const std::uint32_t hi1 = static_cast<std::uint32_t>(p1 >> 32), lo1 = static_cast<std::uint32_t>(p1);
    c0 = hi1 ^ c1 ^ k0;
    c1 = lo1;
    c2 = hi0 ^ c3 ^ k1;
    c3 = lo0;
    k0 += kWeyl0;
    k1 += kWeyl1;
  }
  out[0] = c0; out[1] = c1; out[2] = c2; out[3] = c3;
}

}  // namespace tinynn
