#include "providers/sim/sim_duration.hpp"

#include <charconv>
#include <cmath>
#include <limits>

namespace sky::providers::sim {

namespace {

caf::error bad_duration(std::string_view text) {
  return make_error(errc::invalid_argument,
                    "'" + std::string{text} + "' is not a duration",
                    "write a number with a unit: 500ms, 30s, 10m, 2h, 1d, "
                    "1h30m (a plain number means seconds)");
}

/// Milliseconds in one `unit`, 0 when the unit is unknown.
double unit_ms(std::string_view unit) {
  if (unit == "ms")
    return 1;
  if (unit == "s")
    return 1000;
  if (unit == "m" || unit == "min")
    return 60'000;
  if (unit == "h")
    return 3'600'000;
  if (unit == "d")
    return 86'400'000;
  return 0;
}

bool is_digit(char c) {
  return c >= '0' && c <= '9';
}

} // namespace

result<int64_t> parse_duration_ms(std::string_view text) {
  auto s = text;
  while (!s.empty() && s.front() == ' ')
    s.remove_prefix(1);
  while (!s.empty() && s.back() == ' ')
    s.remove_suffix(1);
  if (s.empty())
    return bad_duration(text);
  double total = 0;
  bool any = false;
  while (!s.empty()) {
    size_t n = 0;
    while (n < s.size() && (is_digit(s[n]) || s[n] == '.'))
      ++n;
    if (n == 0)
      return bad_duration(text);
    double value = 0;
    auto [ptr, ec] = std::from_chars(s.data(), s.data() + n, value);
    if (ec != std::errc{} || ptr != s.data() + n)
      return bad_duration(text);
    s.remove_prefix(n);
    size_t u = 0;
    while (u < s.size() && !is_digit(s[u]) && s[u] != '.')
      ++u;
    auto unit = s.substr(0, u);
    s.remove_prefix(u);
    double factor
      = unit.empty() ? (any || !s.empty() ? 0 : 1000) : unit_ms(unit);
    if (factor == 0)
      return bad_duration(text);
    total += value * factor;
    any = true;
  }
  if (!std::isfinite(total)
      || total > static_cast<double>(std::numeric_limits<int64_t>::max() / 2))
    return make_error(errc::invalid_argument,
                      "duration '" + std::string{text} + "' is too long",
                      "use at most a few years");
  return static_cast<int64_t>(std::llround(total));
}

std::string format_duration_ms(int64_t ms) {
  if (ms <= 0)
    return "0s";
  static constexpr std::pair<int64_t, const char*> units[] = {
    {86'400'000, "d"}, {3'600'000, "h"}, {60'000, "m"}, {1000, "s"}, {1, "ms"}};
  std::string out;
  for (auto [size, name] : units) {
    if (ms >= size) {
      out += std::to_string(ms / size);
      out += name;
      ms %= size;
    }
  }
  return out;
}

} // namespace sky::providers::sim
