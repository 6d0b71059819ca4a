#pragma once

// Pipelines (several task documents in one YAML) are placed together by
// dynamic programming over each task's candidates, so that a cost between
// consecutive tasks (e.g. moving data from one cloud to another) can weigh
// in. Egress is not modelled yet: without a transfer cost the optimum is
// each task's own best candidate.

#include <functional>
#include <vector>

#include "messages/result.hpp"
#include "messages/task/task_spec.hpp"
#include "optimizer/placement/optimizer.hpp"

namespace sky::optimizer {

/// Extra cost of running task `next_task` on `to` right after task
/// `next_task - 1` ran on `from`, in the same unit as candidate prices.
using transfer_cost_fn = std::function<double(
  const candidate& from, const candidate& to, size_t next_task)>;

struct chain_plan {
  /// One ranking per task, as optimize() returned it.
  std::vector<ranking> rankings;
  /// Per task, the index of the chosen candidate in rankings[i].candidates.
  std::vector<size_t> chosen;
  /// Sum of the chosen candidates' hourly prices.
  double total_hourly_price = 0;
  /// The minimised objective: prices plus transfer costs.
  double total_cost = 0;

  const candidate& choice(size_t task) const {
    return rankings[task].candidates[chosen[task]];
  }
};

/// Places every task of `pipeline`. Each task only considers candidates of
/// its best feasible preference tier (`ordered` keeps its meaning). Errors:
/// invalid_argument for an empty pipeline or an invalid task, no_capacity
/// naming the first task that fits nowhere.
result<chain_plan> optimize_chain(const task::pipeline_spec& pipeline,
                                  const catalog& cat,
                                  const enabled_infra& infra,
                                  const blocklist& blocked = {},
                                  const transfer_cost_fn& transfer = {});

/// The dynamic programme alone, over rankings computed elsewhere (each must
/// be feasible). Ties go to the better-ranked candidate.
result<chain_plan> solve_chain(std::vector<ranking> rankings,
                               const transfer_cost_fn& transfer = {});

} // namespace sky::optimizer
