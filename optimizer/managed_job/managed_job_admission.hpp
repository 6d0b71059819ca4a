#pragma once

// Which PENDING managed jobs start launching now (docs/MANAGED_JOBS.md
// "Admission"). Launching (provisioning, setup of the first cluster) is the
// expensive phase for skyd and for the clouds' APIs, so at most a configured
// number of jobs are in it at once; the rest wait in PENDING, first come
// first served. Pure: the caller counts what is launching and applies the
// answer by feeding mj_event::admitted to each job returned.

#include <cstdint>
#include <vector>

namespace sky::optimizer {

/// `pending`: ids of PENDING jobs in submission order (the caller's order is
/// kept; ids are not compared). `launching`: jobs launching now (STARTING,
/// and RECOVERING with a launch in flight or waiting). Returns the first
/// max_concurrent_launches - launching ids of `pending`, none when the slots
/// are full. A max of 0 counts as 1: a configuration that could never start
/// a job would leave every job PENDING forever.
std::vector<uint64_t> admit_pending_jobs(const std::vector<uint64_t>& pending,
                                         uint32_t launching,
                                         uint32_t max_concurrent_launches);

} // namespace sky::optimizer
