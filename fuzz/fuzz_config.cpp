// Fuzzes the JSON config parser and validator (and --set overrides, from the input's last line).
#include <tinynn/nn/train/config.h>

#include "fuzz_input.h"

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  std::string text(reinterpret_cast<const char*>(data), size);
  std::vector<std::string> overrides;
  if (const auto nl = text.rfind('\n'); nl != std::string::npos && text.find('=', nl) != std::string::npos) {
    overrides.push_back(text.substr(nl + 1));
    text.resize(nl);
  }
  tinynn::fuzz::expect_only_tinynn_errors([&] { tinynn::nn::parse_config(text, "fuzz.json", overrides); });
  return 0;
}
