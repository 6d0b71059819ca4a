#pragma once

// Internal functions of the managed job supervisor, split over
// managed_job.cpp (event queue, recording, decisions, restore) and
// managed_job_actions.cpp (launch, teardown, watching the task).

#include "actors/managed_job/managed_job.hpp"

namespace sky::actors::managed_job_detail {

// -- managed_job.cpp -------------------------------------------------------

/// Queues `ev`; it is decided and recorded after the events before it.
void feed(managed_job_ptr self, optimizer::managed_job_event ev,
          std::optional<optimizer::launch_facts> launched = {},
          caf::response_promise promise = {});

/// Records `next` (a change that needs no decision: a launch about to
/// start, a cluster cleaned up); once durable it becomes the snapshot and
/// `then` runs.
void record(managed_job_ptr self, optimizer::managed_job_snapshot next,
            const std::string& kind, std::function<void()> then);

// -- managed_job_actions.cpp -----------------------------------------------

/// Carries out a decision recorded just now.
void carry_out(managed_job_ptr self, const optimizer::managed_job_decision& d);

/// After a restart (or the first spawn): resumes what the recorded state
/// was doing.
void resume(managed_job_ptr self);

/// Stops watching the current attempt (its reports become stale).
void stop_watching(managed_job_ptr self);

/// Tears down `cluster` (retrying until it is gone), then runs `then`.
void tear_down(managed_job_ptr self, std::string cluster,
               std::function<void()> then);

/// A failed teardown's retry timer fired.
void retry_teardown(managed_job_ptr self);

/// The delayed launch of the current order.
void launch_now(managed_job_ptr self);

/// The archiver's report on the current attempt.
void on_attempt_ended(managed_job_ptr self, const protocol::job_outcome& out);
void on_attempt_lost(managed_job_ptr self, const std::string& why);

} // namespace sky::actors::managed_job_detail
