#pragma once

// Printing benchmark figures beside their targets. Benchmarks never fail on
// timing: they report, and docs/PERFORMANCE.md records what they printed.

#include <algorithm>
#include <cstdio>
#include <string>
#include <vector>

namespace sky::bench {

/// The p-th percentile (0..100) of `samples` (sorted in place).
inline double percentile(std::vector<double>& samples, double p) {
  if (samples.empty())
    return 0;
  std::sort(samples.begin(), samples.end());
  auto idx = static_cast<size_t>(p / 100.0 * (samples.size() - 1) + 0.5);
  return samples[std::min(idx, samples.size() - 1)];
}

/// "  control round trip p50      41.2 us   (target < 100 us)  ok"
inline void report(const std::string& what, double value,
                   const std::string& unit, const std::string& target,
                   bool met) {
  std::printf("  %-44s %10.1f %-6s (target %s)  %s\n", what.c_str(), value,
              unit.c_str(), target.c_str(), met ? "ok" : "MISSED");
  std::fflush(stdout);
}

inline void note(const std::string& what, double value,
                 const std::string& unit) {
  std::printf("  %-44s %10.1f %-6s\n", what.c_str(), value, unit.c_str());
  std::fflush(stdout);
}

} // namespace sky::bench
