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

// Philox4x32-10: four 32-bit random words for (key = seed, counter).
void philox4x32(std::uint64_t seed, std::uint64_t counter, std::uint32_t out[4]);

}  // namespace tinynn
