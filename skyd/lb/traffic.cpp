#include "skyd/lb/traffic.hpp"

#include <algorithm>
#include <array>
#include <cctype>

namespace sky::lb {

void rate_counter::add(int64_t unix_second, uint64_t n) {
  // A clock step backwards adds to the newest second rather than reordering.
  if (!buckets_.empty() && unix_second <= buckets_.back().first)
    buckets_.back().second += n;
  else
    buckets_.emplace_back(unix_second, n);
  while (buckets_.size() > max_)
    buckets_.pop_front();
}

std::vector<std::pair<int64_t, uint64_t>> rate_counter::drain() {
  std::vector<std::pair<int64_t, uint64_t>> out(buckets_.begin(),
                                                buckets_.end());
  buckets_.clear();
  return out;
}

bool iequals(std::string_view a, std::string_view b) {
  return a.size() == b.size()
         && std::equal(a.begin(), a.end(), b.begin(), [](char x, char y) {
              return std::tolower(static_cast<unsigned char>(x))
                     == std::tolower(static_cast<unsigned char>(y));
            });
}

namespace {

std::string_view trim(std::string_view s) {
  while (!s.empty() && (s.front() == ' ' || s.front() == '\t'))
    s.remove_prefix(1);
  while (!s.empty() && (s.back() == ' ' || s.back() == '\t'))
    s.remove_suffix(1);
  return s;
}

} // namespace

void hop_by_hop::add_connection_tokens(std::string_view value) {
  while (!value.empty()) {
    const auto comma = value.find(',');
    const auto token = trim(value.substr(0, comma));
    if (!token.empty()) {
      std::string lower{token};
      for (auto& c : lower)
        c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
      named_.push_back(std::move(lower));
    }
    if (comma == std::string_view::npos)
      break;
    value.remove_prefix(comma + 1);
  }
}

bool hop_by_hop::always_dropped(std::string_view name) {
  // RFC 9110 7.6.1 and the historic set (RFC 2616 13.5.1); Proxy-* covers
  // Proxy-Connection, Proxy-Authorization and Proxy-Authenticate, which
  // belong to this hop only.
  static constexpr std::array<std::string_view, 6> fixed{
    "connection", "keep-alive",        "te",
    "trailer",    "transfer-encoding", "upgrade"};
  if (name.size() >= 6 && iequals(name.substr(0, 6), "proxy-"))
    return true;
  return std::any_of(fixed.begin(), fixed.end(),
                     [&](std::string_view f) { return iequals(f, name); });
}

bool hop_by_hop::drop(std::string_view name) const {
  return always_dropped(name) || names(name);
}

bool hop_by_hop::names(std::string_view token) const {
  return std::any_of(named_.begin(), named_.end(),
                     [&](const std::string& n) { return iequals(n, token); });
}

std::string forwarded_for(std::string_view existing, std::string_view client) {
  const auto prior = trim(existing);
  if (prior.empty())
    return std::string{client};
  std::string out{prior};
  out += ", ";
  out += client;
  return out;
}

} // namespace sky::lb
