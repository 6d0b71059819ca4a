#include "actors/managed_job/managed_job.hpp"

#include "actors/core/logging.hpp"
#include "actors/core/timeouts.hpp"
#include "actors/managed_job/managed_job_internal.hpp"
#include "messages/msgpack_util.hpp"

namespace sky::actors {

namespace managed_job_detail {

namespace {

std::string lower(std::string_view s) {
  std::string out;
  for (char c : s)
    out += static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
  return out;
}

// Only what a follower needs: never the task (it may hold secrets).
event_draft job_draft(const optimizer::managed_job_snapshot& s,
                      const std::string& kind) {
  event_draft d;
  d.entity = optimizer::managed_job_entity(s.job.id);
  d.kind = kind;
  d.fields = map_writer{7}
               .add("name", s.job.name)
               .add("state", std::string{optimizer::to_string(s.job.state)})
               .add("reason", s.job.reason)
               .add("recoveries", s.job.recovery_count)
               .add("task", s.job.task_index)
               .add("cluster", s.cluster)
               .add("infra", s.infra)
               .bytes();
  d.snapshot = snapshot_op::put;
  d.snapshot_value = encode(s);
  return d;
}

void next_event(managed_job_ptr self);

void report(managed_job_ptr self) {
  auto& st = self->state;
  self->send(st.registry, job_update_atom_v, row_of(st.snap));
}

// Appends the snapshot `s` under `kind`; retried until durable, because
// the job must not act on a decision that is not recorded.
void append(managed_job_ptr self, optimizer::managed_job_snapshot s,
            std::string kind, std::function<void()> then) {
  std::vector<event_draft> drafts{job_draft(s, kind)};
  self
    ->request(self->state.deps.log, timeouts::log_append, append_atom_v,
              std::move(drafts))
    .then([=](uint64_t) { then(); },
          [=](caf::error& err) {
            logger("managed_jobs")
              ->error("managed job {}: recording {} failed ({}); retrying",
                      s.job.id, kind, describe(err).message);
            // Other messages keep queueing meanwhile (recording is set).
            self->state.retry_append = [=] { append(self, s, kind, then); };
            self->delayed_send(self, timeouts::record_retry, flush_atom_v);
          });
}

void decide_and_record(managed_job_ptr self,
                       managed_job_state::queued_event q) {
  auto& st = self->state;
  auto d = optimizer::decide_managed_job(st.snap.job, q.event, st.deps.limits,
                                         st.deps.now_ms());
  if (!d.ignored.empty()) {
    logger("managed_jobs")
      ->info("managed job {}: {}", st.snap.job.id, d.ignored);
    if (q.promise.pending())
      q.promise.deliver(std::string{optimizer::to_string(st.snap.job.state)});
    next_event(self);
    return;
  }
  auto next = optimizer::next_snapshot(st.snap, d, q.launched);
  auto kind = "managed_job." + lower(optimizer::to_string(next.job.state));
  st.recording = true;
  append(self, next, kind, [=]() mutable {
    auto& s = self->state;
    s.recording = false;
    logger("managed_jobs")
      ->info("managed job {} ({}): {}{}", d.job.id, d.job.name,
             optimizer::to_string(d.job.state),
             d.job.reason.empty() ? "" : ": " + d.job.reason);
    s.snap = std::move(next);
    report(self);
    if (q.promise.pending())
      q.promise.deliver(std::string{optimizer::to_string(s.snap.job.state)});
    carry_out(self, d);
    next_event(self);
  });
}

void next_event(managed_job_ptr self) {
  auto& st = self->state;
  if (st.recording || st.queue.empty())
    return;
  auto q = std::move(st.queue.front());
  st.queue.pop_front();
  decide_and_record(self, std::move(q));
}

} // namespace

void feed(managed_job_ptr self, optimizer::managed_job_event ev,
          std::optional<optimizer::launch_facts> launched,
          caf::response_promise promise) {
  self->state.queue.push_back(
    {std::move(ev), std::move(launched), std::move(promise)});
  next_event(self);
}

void record(managed_job_ptr self, optimizer::managed_job_snapshot next,
            const std::string& kind, std::function<void()> then) {
  auto& st = self->state;
  st.recording = true;
  append(self, next, kind, [=] {
    self->state.snap = next;
    self->state.recording = false;
    report(self);
    then();
    next_event(self);
  });
}

} // namespace managed_job_detail

optimizer::launch_place place_of(const placement_info& p) {
  return {p.provider, p.region, p.zone};
}

caf::behavior managed_job_actor(managed_job_ptr self, managed_job_deps deps,
                                caf::actor registry,
                                optimizer::managed_job_snapshot snap) {
  using namespace managed_job_detail;
  auto& st = self->state;
  st.deps = std::move(deps);
  st.registry = std::move(registry);
  st.snap = std::move(snap);
  return {
    [=](start_atom) { resume(self); },
    [=](controller_failed_atom, std::string& reason) {
      // A cancel in progress is finished rather than failed: the user
      // asked for the job to end, and tearing down is all that is left.
      if (self->state.snap.job.state
          == optimizer::managed_job_state::cancelling)
        resume(self);
      else
        feed(self, optimizer::mj_event::controller_failed{reason});
    },
    [=](launch_atom) { feed(self, optimizer::mj_event::admitted{}); },
    [=](cancel_atom) {
      auto promise = self->make_response_promise();
      feed(self, optimizer::mj_event::cancel_requested{}, {}, promise);
      return promise;
    },
    [=](node_event_atom, providers::provider_event& ev) {
      // The cluster was preempted or lost a node: the whole cluster is
      // recovered (a multi-node job cannot go on without a node).
      auto& s = self->state;
      // During a launch the cluster actor sees the loss itself (the launch
      // fails, or the job it submitted ends FAILED_DRIVER).
      if (ev.cluster != s.snap.cluster || s.snap.cluster.empty() || s.launching)
        return;
      auto reason
        = std::string{ev.what == providers::provider_event::kind::preempted
                        ? "preempted"
                        : "lost node " + std::to_string(ev.rank)};
      if (!ev.reason.empty())
        reason += " (" + ev.reason + ")";
      stop_watching(self);
      feed(self, optimizer::mj_event::cluster_lost{reason, std::nullopt});
    },
    [=](poll_atom) {
      // The cluster job ended (its job.finished is durable): the archiver
      // reads now instead of at its next (slow) poll.
      if (self->state.archiver)
        self->send(self->state.archiver, poll_atom_v);
    },
    [=](logs_atom) {
      // `jobs logs` reads the copy: keep it as fresh as the short interval
      // while someone reads, whatever the archiver's backoff.
      auto& s = self->state;
      auto now = std::chrono::steady_clock::now();
      if (s.archiver && now - s.last_hurry >= s.deps.watch_interval) {
        s.last_hurry = now;
        self->send(s.archiver, poll_atom_v);
      }
    },
    [=](flush_atom) {
      auto retry = std::move(self->state.retry_append);
      self->state.retry_append = nullptr;
      if (retry)
        retry();
    },
    [=](tick_atom, uint64_t epoch) {
      if (epoch == self->state.epoch)
        launch_now(self);
    },
    [=](retry_atom, uint64_t epoch) {
      if (epoch == self->state.epoch)
        retry_teardown(self);
    },
    [=](done_atom, uint64_t epoch, protocol::job_outcome& out) {
      if (epoch == self->state.epoch)
        on_attempt_ended(self, out);
    },
    [=](done_atom, uint64_t epoch, std::string& why) {
      if (epoch == self->state.epoch)
        on_attempt_lost(self, why);
    },
  };
}

} // namespace sky::actors
