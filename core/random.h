// Seeded random numbers: a counter-based Philox4x32-10 generator, so the same seed gives the same
// numbers on every device and the state is two integers (easy to checkpoint).
#pragma once
#include <cmath>
#include <cstdint>

#include "host_device.h"

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
TINYNN_HD inline void philox4x32(std::uint64_t seed, std::uint64_t counter, std::uint32_t out[4]) {
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

// Philox4x32-10 for `count` consecutive counters from `counter`: block i's words go to
// out[4 i .. 4 i + 3], the same words philox4x32 gives. Eight counters run side by side in
// lane arrays, a shape the compiler turns into vector multiplies.
inline void philox4x32_blocks(std::uint64_t seed, std::uint64_t counter, std::int64_t count, std::uint32_t* out) {
  constexpr int kLanes = 8;
  constexpr std::uint32_t kMul0 = 0xD2511F53u, kMul1 = 0xCD9E8D57u;
  constexpr std::uint32_t kWeyl0 = 0x9E3779B9u, kWeyl1 = 0xBB67AE85u;
  std::int64_t base = 0;
  for (; base + kLanes <= count; base += kLanes) {
    std::uint32_t c0[kLanes], c1[kLanes], c2[kLanes], c3[kLanes];
    for (int l = 0; l < kLanes; ++l) {
      const std::uint64_t c = counter + static_cast<std::uint64_t>(base + l);
      c0[l] = static_cast<std::uint32_t>(c);
      c1[l] = static_cast<std::uint32_t>(c >> 32);
      c2[l] = 0;
      c3[l] = 0;
    }
    std::uint32_t k0 = static_cast<std::uint32_t>(seed), k1 = static_cast<std::uint32_t>(seed >> 32);
    for (int round = 0; round < 10; ++round) {
      for (int l = 0; l < kLanes; ++l) {
        const std::uint64_t p0 = static_cast<std::uint64_t>(kMul0) * c0[l];
        const std::uint64_t p1 = static_cast<std::uint64_t>(kMul1) * c2[l];
        const std::uint32_t next0 = static_cast<std::uint32_t>(p1 >> 32) ^ c1[l] ^ k0;
        const std::uint32_t next2 = static_cast<std::uint32_t>(p0 >> 32) ^ c3[l] ^ k1;
        c1[l] = static_cast<std::uint32_t>(p1);
        c3[l] = static_cast<std::uint32_t>(p0);
        c0[l] = next0;
        c2[l] = next2;
      }
      k0 += kWeyl0;
      k1 += kWeyl1;
    }
    for (int l = 0; l < kLanes; ++l) {
      std::uint32_t* w = out + 4 * (base + l);
      w[0] = c0[l];
      w[1] = c1[l];
      w[2] = c2[l];
      w[3] = c3[l];
    }
  }
  for (; base < count; ++base) philox4x32(seed, counter + static_cast<std::uint64_t>(base), out + 4 * base);
}

// What one random element is made of. Elements of a uniform, integer or Bernoulli draw use one
// word each (element i: word i % 4 of block i / 4); a normal pair uses two words of one block
// (elements 2j and 2j + 1: words 0 and 1 of block j). The CPU and CUDA kernels share these, so
// one seed gives the same numbers on every device.
namespace random_draw {

// A uniform double in [0, 1) from 32 random bits.
TINYNN_HD inline double unit_uniform(std::uint32_t bits) { return bits * (1.0 / 4294967296.0); }

// low + bits mod span: integers in [low, low + span).
TINYNN_HD inline double integer(std::uint32_t bits, std::int64_t low, std::uint64_t span) {
  return static_cast<double>(low + static_cast<std::int64_t>(static_cast<std::uint64_t>(bits) % span));
}

// u < p  <=>  bits < ceil(p * 2^32) = threshold: an integer comparison, true always when p = 1
// (threshold 2^32) and never when p = 0.
TINYNN_HD inline bool bernoulli_hit(std::uint32_t bits, std::uint64_t threshold) {
  return static_cast<std::uint64_t>(bits) < threshold;
}

// Box-Muller: element `which` (0 or 1) of a standard normal pair from two words.
TINYNN_HD inline double normal(std::uint32_t w0, std::uint32_t w1, int which) {
  const double u1 = (w0 + 1.0) / 4294967297.0;  // (0, 1]: the log is finite
  const double angle = 2.0 * 3.14159265358979323846 * unit_uniform(w1);
  const double r = std::sqrt(-2.0 * std::log(u1));
  return which == 0 ? r * std::cos(angle) : r * std::sin(angle);
}

}  // namespace random_draw

}  // namespace tinynn
