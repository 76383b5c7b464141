// Config keys as registry rows declare them (name, JSON type through the default's type, range
// or choices, one-line doc) and the values read for them, defaults filled in.
#pragma once
#include <cstdint>
#include <map>
#include <string>
#include <variant>
#include <vector>

namespace tinynn::nn {

// The type of a key is the type of its default.
using KeyValue = std::variant<bool, std::int64_t, double, std::string, std::vector<double>, std::vector<std::int64_t>,
                              std::vector<std::string>>;

struct KeySpec {
  std::string name;
  KeyValue fallback;  // the default
  std::string doc;    // one line, for configs/README.md
  double lo = -1e300, hi = 1e300;  // numbers and integers: the allowed range
  bool lo_open = false;            // numbers: lo itself is excluded
  std::vector<std::string> choices;  // strings: the allowed values (empty: any)
  std::string shown_default;         // the README's default column when it is not the plain value
  bool pair = false;                 // integer lists: (height, width), written as n (for [n, n]) or [h, w]
};

// Shorthands for rows: number("lr", 1e-3, "learning rate", 0, 10, true).
KeySpec number_key(std::string name, double fallback, std::string doc, double lo = -1e300, double hi = 1e300,
                   bool lo_open = false);
KeySpec integer_key(std::string name, std::int64_t fallback, std::string doc, std::int64_t lo = INT64_MIN,
                    std::int64_t hi = INT64_MAX);
KeySpec bool_key(std::string name, bool fallback, std::string doc);
KeySpec choice_key(std::string name, std::string fallback, std::vector<std::string> choices, std::string doc);
// A window size (kernel, stride, padding, ...): an integer n for [n, n], or [height, width], each >= lo.
KeySpec pair_key(std::string name, std::int64_t fallback, std::string doc, std::int64_t lo);

// A value as configs/README.md and the model summary show it (strings quoted or not).
std::string key_value_text(const KeyValue& value, bool quote_strings);

// The values of one type's keys, as read from a config (every key present, defaults filled in).
class KeyValues {
 public:
  void set(const std::string& key, KeyValue value) { values_[key] = std::move(value); }
  bool has(const std::string& key) const { return values_.count(key) != 0; }
  double number(const std::string& key) const { return get<double>(key); }
  std::int64_t integer(const std::string& key) const { return get<std::int64_t>(key); }
  bool flag(const std::string& key) const { return get<bool>(key); }
  const std::string& text(const std::string& key) const { return get<std::string>(key); }
  template <class T>
  const std::vector<T>& list(const std::string& key) const { return get<std::vector<T>>(key); }
  const std::map<std::string, KeyValue>& all() const { return values_; }

 private:
  template <class T>
  const T& get(const std::string& key) const;  // throws ValueError for a key the row lacks
  std::map<std::string, KeyValue> values_;
};

}  // namespace tinynn::nn
