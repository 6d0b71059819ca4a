#pragma once

// The planner answers "where can this run?": it holds the price catalogs
// and the enabled infra and runs the optimizer. It runs detached because
// reading the local infra's free capacity touches the disk.

#include <memory>
#include <string>
#include <vector>

#include <caf/event_based_actor.hpp>
#include <caf/stateful_actor.hpp>

#include "messages/caf/type_ids.hpp"
#include "messages/cluster_protocol.hpp"
#include "optimizer/placement/catalog.hpp"
#include "optimizer/placement/chain.hpp"
#include "providers/provider.hpp"

namespace sky::actors {

/// A ranking for one task, shared read-only (local messages only).
using ranking_ptr = std::shared_ptr<const optimizer::ranking>;

struct rank_request {
  task::task_spec task;
  optimizer::blocklist blocked;
};

} // namespace sky::actors

CAF_ALLOW_UNSAFE_MESSAGE_TYPE(sky::actors::ranking_ptr)
CAF_ALLOW_UNSAFE_MESSAGE_TYPE(sky::actors::rank_request)
CAF_ALLOW_UNSAFE_MESSAGE_TYPE(sky::protocol::optimize_request)
CAF_ALLOW_UNSAFE_MESSAGE_TYPE(sky::protocol::plan_reply)
CAF_ALLOW_UNSAFE_MESSAGE_TYPE(sky::protocol::show_gpus_request)
CAF_ALLOW_UNSAFE_MESSAGE_TYPE(sky::protocol::show_gpus_reply)

namespace sky::actors {

struct planner_settings {
  std::shared_ptr<const optimizer::catalog> catalog;
  /// Clouds priced from the catalog (config `sim.clouds`).
  std::vector<std::string> clouds;
  /// Fixed-capacity providers whose free capacity is asked per request.
  std::vector<std::shared_ptr<providers::provider>> fixed;
  /// Providers with pools of machines taken whole (SSH node pools): one
  /// fixed-capacity infra per pool (`ssh/<pool>`).
  std::vector<std::shared_ptr<providers::provider>> pooled;
};

struct planner_state {
  static inline const char* name = "planner";
  planner_settings settings;
};

/// Handles:
///   (rank_request)       -> ranking_ptr   (for launches and failover)
///   (optimize_request)   -> plan_reply    (verb optimize, launch --dryrun)
///   (show_gpus_request)  -> show_gpus_reply
caf::behavior planner(caf::stateful_actor<planner_state>* self,
                      planner_settings settings);

/// The optimizer's ranking of one task as a table for the user (candidates
/// with the chosen one marked, and the exclusions).
protocol::task_plan to_task_plan(const optimizer::ranking& ranking,
                                 const std::string& task_name,
                                 std::optional<size_t> chosen);

} // namespace sky::actors
