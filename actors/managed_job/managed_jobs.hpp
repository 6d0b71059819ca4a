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
//   (get_atom, uint64_t id)               -> the job's supervisor (tests,
//                                         diagnostics)
//   (node_event_atom, provider_event)     from a provider's event sink
//   (committed_atom, event_batch)         every event (it subscribes): a
//                                         job.finished on a job's cluster
//                                         pokes its supervisor
//
// A supervisor that dies abnormally while its job is live is replaced from
// the job's last snapshot, up to deps.supervision's budget; past it the job
// ends FAILED_CONTROLLER (optimizer/managed_job/managed_job_supervision.hpp). A
// snapshot that cannot be decoded at start-up is shown as FAILED_CONTROLLER
// and left as it is (a newer skyd may read it); its id is never reused.
//
// Admission and event routing must stay cheap with 10,000 jobs: the
// launching count, the PENDING ids and the cluster -> job index are kept up
// to date on every row change instead of being rebuilt from the rows.

#include <map>
#include <set>
#include <unordered_map>

#include <caf/event_based_actor.hpp>
#include <caf/stateful_actor.hpp>

#include "actors/managed_job/managed_job.hpp"

namespace sky::actors {

struct managed_jobs_state {
  static inline const char* name = "managed_jobs";

  managed_job_deps deps;
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
  /// When each job's supervisor was restarted after dying abnormally
  /// (Unix ms): the budget of optimizer::after_supervisor_died.
  std::unordered_map<uint64_t, std::vector<int64_t>> supervisor_restarts;
  /// Jobs whose dead supervisor is being replaced (their snapshot is being
  /// read back): cancels wait for the new one.
  std::set<uint64_t> reviving;
};

caf::behavior managed_jobs(caf::stateful_actor<managed_jobs_state>* self,
                           managed_job_deps deps);

} // namespace sky::actors
