#include "optimizer/managed_job/managed_job_prechecks.hpp"

namespace sky::optimizer {

bool is_permanent(exclusion_kind kind) {
  switch (kind) {
    case exclusion_kind::not_enabled:
    case exclusion_kind::unknown_location:
    case exclusion_kind::no_match:
    case exclusion_kind::no_price:
    case exclusion_kind::too_expensive:
    case exclusion_kind::unsupported:
      return true;
    case exclusion_kind::blocked:
    case exclusion_kind::no_free_capacity:
      return false;
  }
  return false;
}

std::optional<std::string> never_runnable(const ranking& task_ranking) {
  if (task_ranking.feasible() || task_ranking.exclusions.empty())
    return std::nullopt;
  std::string reasons;
  for (const auto& e : task_ranking.exclusions) {
    if (!is_permanent(e.kind))
      return std::nullopt;
    // One line: it is the job's reason in `jobs queue`.
    reasons += (reasons.empty() ? "" : "; ") + e.reason;
  }
  return "no enabled infra can run the task: " + reasons;
}

} // namespace sky::optimizer
