#pragma once

// Whether a managed job's task that found no place to launch could ever run
// (docs/MANAGED_JOBS.md "No capacity"): a task no enabled infra can run as
// written ends FAILED_PRECHECKS at once, instead of waiting through launch
// rounds that can never find anything.
//
// The judge is the optimizer's ranking of the task as written (no
// blocklist, not narrowed by a recovery strategy). Its exclusions say why
// each infra offers nothing; some reasons hold for as long as skyd runs
// with this configuration (the infra is not enabled, no instance type has
// the accelerator, nothing is priced as spot), others may pass (a failover
// block, fixed-capacity infra whose free capacity is taken now).

#include <optional>
#include <string>

#include "optimizer/placement/optimizer.hpp"

namespace sky::optimizer {

/// True for exclusion kinds that do not change while skyd runs with the
/// same configuration and catalogs. `no_free_capacity` is not one: the
/// planner reports the free capacity of fixed infra, which other clusters
/// give back.
bool is_permanent(exclusion_kind kind);

/// The FAILED_PRECHECKS reason when `task_ranking` (the task as written,
/// without a blocklist) has no candidate and every exclusion is permanent:
/// "no enabled infra can run the task: aws: no accelerator 'FOO'; ...".
/// nullopt when it has a candidate, or some exclusion may pass, or it has
/// no exclusion to name (nothing to tell the user: keep the rounds).
std::optional<std::string> never_runnable(const ranking& task_ranking);

} // namespace sky::optimizer
