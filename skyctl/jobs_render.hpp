#pragma once

// Tables and JSON of `skyctl jobs queue` (managed jobs), SkyPilot-like.

#include <cstdint>
#include <iosfwd>

#include <nlohmann/json.hpp>

#include "messages/managed_job_protocol.hpp"

namespace sky::cli {

/// ID, TASK (pipelines), NAME, SUBMITTED, DURATION, #RECOVERIES, STATUS,
/// CLUSTER, INFRA, REASON; "No managed jobs." when empty.
void print_managed_queue(std::ostream& out,
                         const protocol::jobs_queue_reply& reply,
                         int64_t now_ms);

/// {"jobs": [{job_id, name, status, reason, recoveries, task, tasks,
/// cluster, infra, submitted_at, started_at, ended_at, duration_s,
/// task_id}]}; times are Unix ms or null.
nlohmann::ordered_json
managed_queue_json(const protocol::jobs_queue_reply& reply, int64_t now_ms);

} // namespace sky::cli
