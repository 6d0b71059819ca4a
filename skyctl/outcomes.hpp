#pragma once

// Per-cluster (or per-job) results of stop, start, down, autostop and
// cancel. skyd answers them with `outcomes_reply` ({results: [...]}) or a
// single `cluster_outcome`; both read into the same list here, so the
// commands print one line per result whichever shape a verb uses.

#include <cstdint>
#include <functional>
#include <iosfwd>
#include <optional>
#include <string>
#include <vector>

#include "messages/result.hpp"

namespace sky::cli {

struct outcome {
  std::string cluster;
  /// Set when the result is about one job (cancel).
  std::optional<uint64_t> job_id;
  /// A result without `ok` is a success: failures come as error replies.
  bool ok = true;
  std::string status;
  std::string message;
};

/// Reads `{results: [outcome...]}`, a single outcome map, or nil (no
/// details: an empty list).
result<std::vector<outcome>> read_outcomes(std::string_view body);

/// Prints each outcome: successes on `out` (skyd's message, or
/// `fallback(o)` when it sent none), failures on `err` as "skyctl: cluster
/// NAME: why".
/// Returns exit_failed when any failed, else exit_ok.
int print_outcomes(std::ostream& out, std::ostream& err,
                   const std::vector<outcome>& outcomes,
                   const std::function<std::string(const outcome&)>& fallback);

} // namespace sky::cli
