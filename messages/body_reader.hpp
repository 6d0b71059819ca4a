#pragma once

// Reads the fields of a request or reply body (a msgpack map) with type
// checks and defaults. Unknown keys are ignored so that newer clients can talk
// to older daemons; a present key of the wrong type is an error naming it.

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "messages/msgpack_util.hpp"

namespace sky {

class body_reader {
public:
  /// Parses `bytes`; nil or an empty body reads as an empty map. `what`
  /// names the body in errors ("events request").
  static result<body_reader> parse(std::string_view bytes,
                                   std::string_view what);

  result<uint64_t> u64(std::string_view key, uint64_t fallback) const;
  result<int64_t> i64(std::string_view key, int64_t fallback) const;
  result<double> f64(std::string_view key, double fallback) const;
  result<bool> boolean(std::string_view key, bool fallback) const;
  result<std::string> str(std::string_view key, std::string fallback) const;
  result<std::vector<std::string>> str_list(std::string_view key) const;

  bool has(std::string_view key) const;

  /// The raw value of a key (nullptr when absent).
  const msgpack::object* find(std::string_view key) const;

private:
  body_reader(msgpack::object_handle doc, std::string what);

  caf::error wrong_type(std::string_view key, std::string_view expected) const;

  std::shared_ptr<msgpack::object_handle> doc_;
  std::string what_;
};

/// Moves a successful result into `out`; returns the error otherwise, so a
/// decoder reads `if (auto err = read_into(x.f, r.u64("f", 0))) return err;`.
template <class Out, class T>
caf::error read_into(Out& out, result<T> value) {
  if (!value)
    return std::move(value.error());
  out = std::move(*value);
  return {};
}

} // namespace sky
