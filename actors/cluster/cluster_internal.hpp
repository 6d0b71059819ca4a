#pragma once

// Internal functions of the cluster actor, split by concern over
// cluster_actor.cpp (behavior, persistence, status, autostop),
// cluster_launch.cpp (provisioning, failover, stop, start, down) and
// cluster_jobs.cpp (submission, scheduling, queue, cancel, logs).

#include <functional>

#include "actors/cluster/cluster_actor.hpp"
#include "actors/cluster/provision_attempt.hpp"
#include "optimizer/cluster/cluster_model.hpp"

namespace sky::actors::cluster_detail {

// -- cluster_actor.cpp -----------------------------------------------------

/// The event recording the cluster's state under `kind`, with its snapshot
/// (or the snapshot's removal when `erase`).
event_draft cluster_event(const cluster_state& st, const std::string& kind,
                          std::string fields = {}, bool erase = false);

/// Appends `drafts`, then runs `then` (or `on_error`) in the actor.
void persist(cluster_ptr self, std::vector<event_draft> drafts,
             std::function<void()> then,
             std::function<void(const caf::error&)> on_error = {});

/// Tells the launch watcher (if any) about progress.
void progress(cluster_ptr self, const std::string& stage,
              const std::string& message);

cluster_status status_of(const cluster_state& st);
void set_status(cluster_state& st, cluster_status s);

cluster_summary summary_of(const cluster_state& st);
/// Sends the cluster's summary to the registry when it changed since the
/// last one sent: `status` reads the registry's copies instead of asking
/// every cluster actor.
void publish_summary(cluster_ptr self);

/// Re-evaluates autostop after anything that changes idleness or settings.
void check_autostop(cluster_ptr self);

/// Answers everyone waiting for the operation in flight.
void finish_op(cluster_ptr self, const caf::error& err);

// -- cluster_launch.cpp ----------------------------------------------------

/// What decide_cluster reads of the actor (optimizer/cluster/).
optimizer::cluster_facts facts_of(cluster_ptr self);

// Each asks decide_cluster, takes the snapshot it returns, records, then
// carries the step out (or answers the refusal).
void on_launch(cluster_ptr self, launch_order order,
               caf::response_promise promise);
void do_stop(cluster_ptr self, caf::response_promise promise, stop_cause cause);
void do_start(cluster_ptr self, caf::response_promise promise);
void do_down(cluster_ptr self, caf::response_promise promise, stop_cause cause);
/// --retry-until-up: the next round of a launch.
void retry_launch(cluster_ptr self);
/// Takes the provider's record of the cluster's instances as its nodes.
void adopt_record(cluster_ptr self, const provision_result& r);

/// A provisioning attempt answered (`made`: what it created, if it
/// succeeded). When a `down` waited for it, the teardown starts now (of
/// what it made too) and true is returned: the caller stops there.
bool run_waiting_down(cluster_ptr self, const provision_result* made);
/// Launches waiting for the cluster to be UP: check each fits, then submit.
void process_launches(cluster_ptr self);
/// The provider of the cluster's placement (null when not configured).
std::shared_ptr<providers::provider> provider_of(cluster_ptr self);
/// Runs a provider operation for the cluster on the worker pool.
void provider_op(cluster_ptr self,
                 std::function<result<void>(providers::provider&)> op,
                 std::function<void(result<void>)> then);

// -- cluster_restore.cpp ---------------------------------------------------

/// After a restart: resume the operation in flight (stop, teardown, a
/// --retry-until-up launch) or reconcile with what the provider reports.
void restore_cluster(cluster_ptr self);

// -- cluster_node_events.cpp -----------------------------------------------

/// A node of the cluster was preempted or lost (a provider event).
void on_node_event(cluster_ptr self, const providers::provider_event& ev);

// -- cluster_jobs.cpp ------------------------------------------------------

/// Records a new job (PENDING) and answers `promise` with its id once it
/// is durable; then the scheduler may start it.
void submit_job(cluster_ptr self, task::task_spec task, bool run_setup,
                caf::response_promise promise, std::string task_id = {});
void schedule(cluster_ptr self);
void on_job_update(cluster_ptr self, job_snapshot snap);
/// Ends every pending and running job (stop, down): pending ones at once
/// (CANCELLED), running ones through their actors (as `running_status`:
/// CANCELLED, or FAILED_DRIVER when their node is gone).
void end_all_jobs(cluster_ptr self, const std::string& reason,
                  std::function<void()> then,
                  job_status running_status = job_status::cancelled);
/// Re-creates job actors for jobs that were running when skyd stopped.
void reattach_jobs(cluster_ptr self);
std::vector<job_summary> queue_of(const cluster_state& st);
protocol::outcomes_reply cancel_jobs(cluster_ptr self,
                                     const protocol::cancel_request& req);
result<job_log_target> log_target(cluster_ptr self, uint64_t job_id);
job_context context_for(const cluster_state& st, const job_snapshot& job,
                        const optimizer::job_placement& where);
/// No job pending or running.
bool idle(const cluster_state& st);

} // namespace sky::actors::cluster_detail
