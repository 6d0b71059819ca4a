#include "optimizer/managed_job/managed_job_admission.hpp"

#include <algorithm>

namespace sky::optimizer {

std::vector<uint64_t> admit_pending_jobs(const std::vector<uint64_t>& pending,
                                         uint32_t launching,
                                         uint32_t max_concurrent_launches) {
  uint32_t slots = std::max<uint32_t>(max_concurrent_launches, 1);
  if (launching >= slots)
    return {};
  auto n = std::min<size_t>(slots - launching, pending.size());
  return {pending.begin(), pending.begin() + static_cast<std::ptrdiff_t>(n)};
}

} // namespace sky::optimizer
