#pragma once

// Pure helpers of the proxy: per-second request counts for `report`, and the
// hop-by-hop header rules of RFC 9110 section 7.6.1.

#include <cstddef>
#include <cstdint>
#include <deque>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

namespace sky::lb {

/// Requests per unix second since the last drain. Bounded: if nobody drains
/// (skyd is down) the oldest seconds go, so memory stays flat.
class rate_counter {
public:
  explicit rate_counter(size_t max_seconds = 3600) : max_(max_seconds) {}

  void add(int64_t unix_second, uint64_t n = 1);
  std::vector<std::pair<int64_t, uint64_t>> drain();
  size_t seconds_held() const { return buckets_.size(); }

private:
  size_t max_;
  std::deque<std::pair<int64_t, uint64_t>> buckets_;
};

/// Which header fields a proxy must not forward: the fixed hop-by-hop set
/// plus those the message's own Connection header names.
class hop_by_hop {
public:
  /// Adds the comma-separated tokens of one Connection header value.
  void add_connection_tokens(std::string_view value);
  bool drop(std::string_view name) const;
  /// Whether the Connection header named this token ("upgrade", "close").
  bool names(std::string_view token) const;
  static bool always_dropped(std::string_view name);

private:
  std::vector<std::string> named_; // lower case
};

/// X-Forwarded-For after this hop: the existing list with the client's
/// address appended.
std::string forwarded_for(std::string_view existing, std::string_view client);

/// Case-insensitive ASCII comparison (header names).
bool iequals(std::string_view a, std::string_view b);

} // namespace sky::lb
