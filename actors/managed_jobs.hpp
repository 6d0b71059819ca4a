#pragma once

// The managed jobs registry: id -> supervisor (managed_job_actor), the
// rows `jobs queue` shows, and admission. It restores every job from its
// snapshot at start-up (after the clusters, before skyd says it is ready),
// records new jobs durably before answering their submission, and starts
// PENDING jobs in submission order while at most max_concurrent_launches
// are launching (optimizer::admit_pending_jobs).
//
//   (load_atom)                           -> bool (when restored)
//   (launch_atom, jobs_launch_request)    -> managed_job_row (durable)
//   (queue_atom, jobs_queue_request)      -> jobs_queue_reply
//   (cancel_atom, jobs_cancel_request)    -> jobs_cancel_reply
//   (logs_atom, uint64_t id | 0 latest)   -> managed_job_row (and the
//                                         job's archiver copies at once)
//   (job_update_atom, managed_job_row)    from its supervisors
//   (node_event_atom, provider_event)     from a provider's event sink
//   (committed_atom, event_batch)         every event (it subscribes): a
//                                         job.finished on a job's cluster
//                                         pokes its supervisor
//
// Admission and event routing must stay cheap with 10,000 jobs: the
// launching count, the PENDING ids and the cluster -> job index are kept up
// to date on every row change instead of being rebuilt from the rows.

#include <map>
#include <set>
#include <unordered_map>

#include <caf/event_based_actor.hpp>
#include <caf/stateful_actor.hpp>

#include "actors/managed_job.hpp"

namespace sky::actors {

struct managed_jobs_state {
  static inline const char* name = "managed_jobs";

  managed_job_services svc;
  /// Live jobs' supervisors.
  std::map<uint64_t, caf::actor> supervisors;
  /// Every job's row, final ones included.
  std::map<uint64_t, protocol::managed_job_row> rows;
  /// Jobs told they are admitted whose STARTING has not come back yet
  /// (they hold a launch slot already).
  std::set<uint64_t> admitting;
  /// PENDING jobs not being admitted, in submission (id) order.
  std::set<uint64_t> pending;
  /// Jobs holding a launch slot: STARTING, RECOVERING, or admitting.
  uint32_t launching = 0;
  /// The current cluster of every job that has one.
  std::unordered_map<std::string, uint64_t> by_cluster;
  uint64_t next_id = 1;
  bool loaded = false;
};

caf::behavior managed_jobs(caf::stateful_actor<managed_jobs_state>* self,
                           managed_job_services svc);

} // namespace sky::actors
