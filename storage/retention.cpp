#include "storage/retention.hpp"

#include <algorithm>

namespace sky::storage {

uint64_t
first_to_keep(const retention_policy& policy, uint64_t first_seq,
              uint64_t last_seq, int64_t now_ms,
              const std::function<std::optional<int64_t>(uint64_t)>& time_of) {
  if (first_seq > last_seq || !policy.enabled())
    return first_seq;
  uint64_t keep = first_seq;
  const uint64_t count = last_seq - first_seq + 1;
  if (policy.max_events > 0 && count > policy.max_events)
    keep = last_seq - policy.max_events + 1;
  if (policy.max_age_ms > 0) {
    const int64_t oldest_kept = now_ms - policy.max_age_ms;
    // Smallest seq in [keep, last_seq + 1) whose time is >= oldest_kept;
    // last_seq + 1 when every event is older.
    uint64_t lo = keep, hi = last_seq + 1;
    while (lo < hi) {
      uint64_t mid = lo + (hi - lo) / 2;
      auto t = time_of(mid);
      if (!t)
        return keep; // unreadable: trim by count only
      if (*t >= oldest_kept)
        hi = mid;
      else
        lo = mid + 1;
    }
    keep = std::max(keep, lo);
  }
  return keep;
}

} // namespace sky::storage
