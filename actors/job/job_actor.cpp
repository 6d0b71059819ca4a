#include "actors/job/job_actor.hpp"

#include <csignal>
#include <functional>
#include <utility>

#include "actors/core/logging.hpp"
#include "actors/core/worker_pool.hpp"
#include "actors/core/timeouts.hpp"
#include "messages/msgpack_util.hpp"

namespace sky::actors {

namespace {

using self_ptr = caf::stateful_actor<job_actor_state>*;

void poll_later(self_ptr self);
void start_phase_now(self_ptr self, job_phase phase);

// Records the job's state (write-ahead), tells the cluster, then continues.
template <class Then>
void persist(self_ptr self, const std::string& kind, Then then) {
  auto& st = self->state;
  std::vector<event_draft> drafts{job_event(st.snap, kind)};
  self
    ->request(st.deps.log, timeouts::log_append, append_atom_v,
              std::move(drafts))
    .then(
      [=](uint64_t) {
        self->send(self->state.cluster, job_update_atom_v, self->state.snap);
        then();
      },
      [=](caf::error& err) {
        // Without a durable record the job must not act: try again.
        logger("jobs")->error("job {} of {}: recording {} failed ({}); "
                              "retrying",
                              self->state.snap.job_id, self->state.snap.cluster,
                              kind, describe(err).message);
        self->delayed_send(self, timeouts::record_retry, tick_atom_v);
        self->become(caf::keep_behavior, [=](tick_atom) {
          self->unbecome();
          persist(self, kind, then);
        });
      });
}

void finish(self_ptr self, job_status status, std::optional<int32_t> code,
            std::string reason) {
  auto& st = self->state;
  if (st.finishing)
    return;
  st.finishing = true;
  st.snap.status = std::string{to_string(status)};
  st.snap.exit_code = code;
  st.snap.reason = std::move(reason);
  st.snap.ended_at_ms = st.deps.now_ms();
  if (st.snap.started_at_ms == 0)
    st.snap.started_at_ms = st.snap.ended_at_ms;
  persist(self, "job.finished", [=] { self->quit(); });
}

// Kills the job's processes, then finishes with `status`.
void kill_and_finish(self_ptr self, int sig, job_status status,
                     std::optional<int32_t> code, std::string reason) {
  auto ctx = self->state.ctx;
  auto procs = self->state.snap.processes;
  run_blocking<bool>(
    self, self->state.deps.pool,
    [ctx, procs, sig]() -> result<bool> {
      signal_processes(ctx, procs, sig);
      return true;
    },
    [=](result<bool>) { finish(self, status, code, reason); });
}

void cancel(self_ptr self) {
  auto& st = self->state;
  if (st.cancelling || st.finishing)
    return;
  st.cancelling = true;
  if (st.snap.processes.empty())
    return; // a start is in flight: it sees the flag when it completes
  auto ctx = st.ctx;
  auto procs = st.snap.processes;
  // SIGTERM first so the task can clean up; the poll loop sees the wrapper
  // record the exit and finishes as CANCELLED (SIGKILL after a grace).
  run_blocking<bool>(
    self, st.deps.pool,
    [ctx, procs]() -> result<bool> {
      signal_processes(ctx, procs, SIGTERM);
      return true;
    },
    [=](result<bool>) {
      self->delayed_send(self, timeouts::cancel_grace, cancel_atom_v);
      self->state.poll_interval = self->state.deps.job_poll_min;
      poll_later(self);
    });
}

void on_poll(self_ptr self,
             const std::vector<providers::process_status>& statuses) {
  auto& st = self->state;
  bool all_exited = true;
  std::optional<size_t> failed;
  std::optional<size_t> lost;
  for (size_t i = 0; i < statuses.size(); ++i) {
    const auto& s = statuses[i];
    if (s.state == providers::process_state::running)
      all_exited = false;
    else if (s.state == providers::process_state::lost && !lost)
      lost = i;
    else if (s.state == providers::process_state::exited && s.exit_code != 0
             && !failed)
      failed = i;
  }
  if (st.cancelling) {
    if (all_exited || lost)
      finish(self, job_status::cancelled, std::nullopt, "cancelled");
    else
      poll_later(self);
    return;
  }
  if (lost) {
    auto rank = st.snap.processes[*lost].rank;
    kill_and_finish(self, SIGKILL, job_status::failed_driver, std::nullopt,
                    "the process on node rank " + std::to_string(rank)
                      + " ended without an exit record (node lost or "
                        "killed)");
    return;
  }
  if (failed) {
    const auto& p = st.snap.processes[*failed];
    int code = statuses[*failed].exit_code;
    auto status = st.phase == job_phase::setup ? job_status::failed_setup
                                               : job_status::failed;
    std::string reason = std::string{to_string(st.phase)} + " failed on rank "
                         + std::to_string(p.rank) + " with exit code "
                         + std::to_string(code);
    if (all_exited)
      finish(self, status, code, reason);
    else
      // A multi-node job fails as a whole: stop the other ranks.
      kill_and_finish(self, SIGTERM, status, code, reason);
    return;
  }
  if (!all_exited) {
    poll_later(self);
    return;
  }
  if (st.phase == job_phase::setup) {
    start_phase_now(self, job_phase::run);
    return;
  }
  finish(self, job_status::succeeded, 0, "");
}

void poll_now(self_ptr self) {
  auto& st = self->state;
  if (st.polling) {
    st.repoll = true; // its answer may predate the news: look again
    return;
  }
  st.polling = true;
  auto ctx = st.ctx;
  auto procs = st.snap.processes;
  run_blocking<std::vector<providers::process_status>>(
    self, st.deps.pool, [ctx, procs] { return poll_processes(ctx, procs); },
    [=](result<std::vector<providers::process_status>> r) {
      self->state.polling = false;
      if (self->state.finishing)
        return;
      if (!r) {
        // The node may be unreachable for a moment; keep trying.
        logger("jobs")->warn("job {} of {}: poll failed: {}",
                             self->state.snap.job_id, self->state.snap.cluster,
                             describe(r.error()).message);
        poll_later(self);
        return;
      }
      on_poll(self, *r);
    });
}

void poll_later(self_ptr self) {
  auto& st = self->state;
  auto epoch = ++st.poll_epoch;
  if (std::exchange(st.repoll, false)) {
    self->send(self, poll_atom_v, epoch);
    return;
  }
  self->delayed_send(self, st.poll_interval, poll_atom_v, epoch);
  // Back off while nothing happens: short jobs end fast, long ones cost
  // little. When the channels push the ends, polling is only the fallback.
  st.poll_interval
    = std::min(st.poll_interval * 2, st.watched ? st.deps.job_poll_max_watched
                                                : st.deps.job_poll_max);
}

// Asks the nodes to tell this actor when the current processes end
// (exited_atom), so that polls can back off to the slow fallback. The
// notice holds a weak handle: it does not keep the actor alive and is
// dropped once the actor is gone; it is a message, never a touch of the
// actor's state from the thread that sees the end.
void watch_ends(self_ptr self) {
  auto& st = self->state;
  auto epoch = ++st.watch_epoch;
  st.watched = false;
  auto ctx = st.ctx;
  auto procs = st.snap.processes;
  auto addr = caf::actor_cast<caf::actor_addr>(self);
  std::function<void()> notify = [addr, epoch] {
    if (auto a = caf::actor_cast<caf::actor>(addr))
      caf::anon_send(a, exited_atom_v, epoch);
  };
  run_blocking<bool>(
    self, st.deps.pool,
    [ctx, procs, notify] { return watch_processes(ctx, procs, notify); },
    [=](result<bool> r) {
      auto& s = self->state;
      if (epoch != s.watch_epoch)
        return;
      s.watched = r && *r;
      if (!r)
        logger("jobs")->debug("job {} of {}: no exit watch ({}); polling",
                              s.snap.job_id, s.snap.cluster,
                              describe(r.error()).message);
    });
}

void start_phase_now(self_ptr self, job_phase phase) {
  auto& st = self->state;
  st.phase = phase;
  st.snap.phase = std::string{to_string(phase)};
  st.snap.status = std::string{to_string(
    phase == job_phase::setup ? job_status::setting_up : job_status::running)};
  st.snap.processes.clear();
  ++st.watch_epoch; // notices of the previous phase's processes are stale
  st.watched = false;
  // Write-ahead: the intent is durable before any process exists. A skyd
  // that dies before the handles are recorded marks the job FAILED_DRIVER
  // on restart rather than running it twice.
  persist(self, phase == job_phase::setup ? "job.setting_up" : "job.running",
          [=] {
            auto ctx = self->state.ctx;
            // Files are synced once, before the job's first phase.
            bool sync = !self->state.files_synced;
            self->state.files_synced = true;
            run_blocking<std::vector<process_ref>>(
              self, self->state.deps.pool,
              [ctx, phase, sync]() -> result<std::vector<process_ref>> {
                if (sync)
                  if (auto synced = sync_job_files(ctx); !synced)
                    return synced.error();
                return start_phase(ctx, phase);
              },
              [=](result<std::vector<process_ref>> started) {
                auto& s = self->state;
                if (!started) {
                  finish(self,
                         phase == job_phase::setup ? job_status::failed_setup
                                                   : job_status::failed_driver,
                         std::nullopt,
                         "could not start " + std::string{to_string(phase)}
                           + ": " + describe(started.error()).message);
                  return;
                }
                s.snap.processes = std::move(*started);
                persist(self, "job.processes", [=] {
                  auto& s2 = self->state;
                  s2.poll_interval = s2.deps.job_poll_min;
                  watch_ends(self);
                  if (s2.cancelling) {
                    s2.cancelling = false;
                    cancel(self);
                    return;
                  }
                  poll_later(self);
                });
              });
          });
}

// skyd died after recording that the phase starts but before recording
// the processes: ask the nodes what was started, so that nothing runs twice
// and nothing is lost.
void recover(self_ptr self) {
  auto& st = self->state;
  st.phase = st.snap.phase == "setup" ? job_phase::setup : job_phase::run;
  auto ctx = st.ctx;
  auto phase = st.phase;
  using found_list = std::vector<std::optional<process_ref>>;
  run_blocking<found_list>(
    self, st.deps.pool,
    [ctx, phase]() -> result<found_list> {
      found_list found;
      for (auto rank : ctx.ranks) {
        auto ch = ctx.provider->open_channel(*ctx.record, rank);
        if (!ch)
          return ch.error();
        auto f = (*ch)->find_process(job_log_file(ctx.job_id, phase, rank));
        if (!f)
          return f.error();
        if (*f)
          found.push_back(process_ref{rank, (*f)->pid, (*f)->start_ticks,
                                      (*f)->log_file, (*f)->exit_file});
        else
          found.push_back(std::nullopt);
      }
      return found;
    },
    [=](result<found_list> r) {
      auto& s = self->state;
      if (!r) {
        finish(self, job_status::failed_driver, std::nullopt,
               "skyd stopped while the job was starting: "
                 + describe(r.error()).message);
        return;
      }
      size_t started = 0;
      for (const auto& f : *r)
        started += f.has_value();
      if (started == 0) {
        // Nothing was started: starting now runs it exactly once.
        start_phase_now(self, s.phase);
        return;
      }
      for (const auto& f : *r)
        if (f)
          s.snap.processes.push_back(*f);
      if (started < r->size()) {
        kill_and_finish(self, SIGKILL, job_status::failed_driver, std::nullopt,
                        "skyd stopped while the job was starting on some "
                        "of its nodes");
        return;
      }
      persist(self, "job.processes", [=] {
        self->state.poll_interval = self->state.deps.job_poll_min;
        watch_ends(self);
        poll_later(self);
      });
    });
}

void begin(self_ptr self) {
  auto& st = self->state;
  if (st.snap.started_at_ms == 0)
    st.snap.started_at_ms = st.deps.now_ms();
  bool setup
    = st.snap.run_setup && st.ctx.task.setup && !st.ctx.task.setup->empty();
  start_phase_now(self, setup ? job_phase::setup : job_phase::run);
}

} // namespace

event_draft job_event(const job_snapshot& snap, const std::string& kind) {
  event_draft d;
  d.entity = job_entity(snap.cluster, snap.job_id);
  d.kind = kind;
  map_writer fields{5};
  fields.add("status", snap.status)
    .add("phase", snap.phase)
    .add("exit_code", snap.exit_code ? *snap.exit_code : -1)
    .add("reason", snap.reason)
    .add("name", snap.name);
  d.fields = fields.bytes();
  d.snapshot = snapshot_op::put;
  d.snapshot_value = encode(snap);
  return d;
}

caf::behavior job_actor(self_ptr self, cluster_deps deps, caf::actor cluster,
                        job_start start) {
  auto& st = self->state;
  st.deps = std::move(deps);
  st.cluster = std::move(cluster);
  st.ctx = std::move(start.context);
  st.snap = std::move(start.snapshot);
  st.poll_interval = st.deps.job_poll_min;
  auto status = job_status_from(st.snap.status).value_or(job_status::pending);
  if (status == job_status::pending) {
    begin(self);
  } else if (!st.snap.processes.empty()) {
    // Re-attach after a skyd restart: the processes ran on without us.
    st.phase = st.snap.phase == "setup" ? job_phase::setup : job_phase::run;
    self->send(self, poll_atom_v, ++st.poll_epoch);
    watch_ends(self);
  } else {
    recover(self);
  }
  return {
    [=](poll_atom, uint64_t epoch) {
      if (epoch == self->state.poll_epoch && !self->state.finishing)
        poll_now(self);
    },
    [=](exited_atom, uint64_t epoch) {
      // A watched process ended: look now instead of at the (slow)
      // fallback poll, which this replaces.
      auto& s = self->state;
      if (epoch != s.watch_epoch || s.finishing || s.snap.processes.empty())
        return;
      ++s.poll_epoch;
      poll_now(self);
    },
    [=](cancel_atom) {
      auto& s = self->state;
      if (s.cancelling && !s.snap.processes.empty()) {
        // Second cancel (or the grace period ran out): force it.
        kill_and_finish(self, SIGKILL, job_status::cancelled, std::nullopt,
                        "cancelled");
        return;
      }
      cancel(self);
    },
  };
}

} // namespace sky::actors
