#include "providers/sim/preemption.hpp"

#include <cmath>

namespace sky::providers::sim {

namespace {

/// SplitMix64's finaliser: spreads every input bit over the output.
uint64_t mix(uint64_t x) {
  x += 0x9e3779b97f4a7c15ull;
  x = (x ^ (x >> 30)) * 0xbf58476d1ce4e5b9ull;
  x = (x ^ (x >> 27)) * 0x94d049bb133111ebull;
  return x ^ (x >> 31);
}

} // namespace

double seeded_uniform(uint64_t seed, std::string_view identity) {
  uint64_t h = 1469598103934665603ull; // FNV-1a over the identity
  for (unsigned char ch : identity) {
    h ^= ch;
    h *= 1099511628211ull;
  }
  uint64_t x = mix(mix(seed) ^ h);
  // 53 random bits, shifted into (0, 1]: never 0, so log() is finite.
  return static_cast<double>((x >> 11) + 1) * 0x1.0p-53;
}

int64_t preemption_time(const preemption_rule& rule, uint64_t seed,
                        std::string_view identity, int64_t started_at_ms) {
  if (rule.after_ms)
    return started_at_ms + *rule.after_ms;
  double rate = rule.rate_per_hour.value_or(0);
  if (!(rate > 0))
    return started_at_ms;
  double hours = -std::log(seeded_uniform(seed, identity)) / rate;
  return started_at_ms + static_cast<int64_t>(std::llround(hours * 3.6e6));
}

} // namespace sky::providers::sim
