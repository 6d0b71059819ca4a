#include "optimizer/placement/chain.hpp"

#include <limits>

namespace sky::optimizer {

namespace {

/// Candidates of the best feasible tier: an `ordered` preference must not
/// be overridden by a cheaper later alternative to save transfer costs.
size_t first_tier_size(const ranking& r) {
  size_t n = 0;
  while (n < r.candidates.size()
         && r.candidates[n].tier == r.candidates.front().tier)
    ++n;
  return n;
}

} // namespace

result<chain_plan> solve_chain(std::vector<ranking> rankings,
                               const transfer_cost_fn& transfer) {
  if (rankings.empty())
    return sky::make_error(errc::invalid_argument, "the pipeline has no task");
  for (size_t i = 0; i < rankings.size(); ++i)
    if (!rankings[i].feasible())
      return sky::make_error(errc::no_capacity,
                             "task " + std::to_string(i)
                               + " of the pipeline fits nowhere");
  const size_t n = rankings.size();
  // cost[j]: cheapest total for tasks 0..i ending with candidate j of task
  // i; back[i][j]: the candidate of task i-1 on that cheapest path.
  std::vector<double> cost, next;
  std::vector<std::vector<size_t>> back(n);
  const size_t m0 = first_tier_size(rankings[0]);
  cost.resize(m0);
  for (size_t j = 0; j < m0; ++j)
    cost[j] = rankings[0].candidates[j].hourly_price;
  for (size_t i = 1; i < n; ++i) {
    const auto& prev = rankings[i - 1].candidates;
    const auto& cur = rankings[i].candidates;
    const size_t m = first_tier_size(rankings[i]);
    next.assign(m, 0);
    back[i].assign(m, 0);
    // Without a transfer term every j has the same best predecessor.
    size_t best_prev = 0;
    if (!transfer)
      for (size_t k = 1; k < cost.size(); ++k)
        if (cost[k] < cost[best_prev])
          best_prev = k;
    for (size_t j = 0; j < m; ++j) {
      size_t arg = best_prev;
      double best = cost[best_prev];
      if (transfer) {
        best = std::numeric_limits<double>::infinity();
        for (size_t k = 0; k < cost.size(); ++k) {
          const double v = cost[k] + transfer(prev[k], cur[j], i);
          if (v < best) {
            best = v;
            arg = k;
          }
        }
      }
      next[j] = best + cur[j].hourly_price;
      back[i][j] = arg;
    }
    cost.swap(next);
  }
  chain_plan plan;
  plan.chosen.assign(n, 0);
  size_t j = 0;
  for (size_t k = 1; k < cost.size(); ++k)
    if (cost[k] < cost[j])
      j = k;
  plan.total_cost = cost[j];
  for (size_t i = n; i-- > 0;) {
    plan.chosen[i] = j;
    if (i > 0)
      j = back[i][j];
  }
  plan.rankings = std::move(rankings);
  for (size_t i = 0; i < n; ++i)
    plan.total_hourly_price += plan.choice(i).hourly_price;
  return plan;
}

result<chain_plan> optimize_chain(const task::pipeline_spec& pipeline,
                                  const catalog& cat,
                                  const enabled_infra& infra,
                                  const blocklist& blocked,
                                  const transfer_cost_fn& transfer) {
  if (pipeline.tasks.empty())
    return sky::make_error(errc::invalid_argument, "the pipeline has no task",
                           "a pipeline needs at least one task document");
  std::vector<ranking> rankings;
  rankings.reserve(pipeline.tasks.size());
  for (size_t i = 0; i < pipeline.tasks.size(); ++i) {
    const auto& t = pipeline.tasks[i];
    const std::string label
      = "task " + std::to_string(i) + (t.name ? " (" + *t.name + ")" : "");
    auto r = optimize(t, cat, infra, blocked);
    if (!r) {
      auto info = describe(r.error());
      return sky::make_error(info.code, label + ": " + info.message, info.hint);
    }
    if (!r->feasible()) {
      auto info = describe(best_candidate(*r).error());
      return sky::make_error(errc::no_capacity, label + ": " + info.message,
                             info.hint);
    }
    rankings.push_back(std::move(*r));
  }
  return solve_chain(std::move(rankings), transfer);
}

} // namespace sky::optimizer
