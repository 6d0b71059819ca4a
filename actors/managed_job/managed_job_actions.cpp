// What a managed job supervisor does for a decision: launch the current
// task's cluster through the cluster registry, watch the task with a log
// archiver, tear clusters down, finish. Every reply of an older attempt is
// recognised by its epoch and ignored.

#include "actors/core/logging.hpp"
#include "actors/core/timeouts.hpp"
#include "actors/managed_job/managed_job_archiver.hpp"
#include "actors/managed_job/managed_job_internal.hpp"
#include "actors/core/planner.hpp"
#include "messages/cluster_protocol.hpp"
#include "optimizer/managed_job/managed_job_prechecks.hpp"

namespace sky::actors::managed_job_detail {

namespace {

using mj_state = optimizer::managed_job_state;

std::filesystem::path attempt_file(const managed_job_ptr self) {
  const auto& st = self->state;
  char name[32];
  std::snprintf(name, sizeof(name), "%04u.log", st.snap.attempts);
  return st.deps.dir / std::to_string(st.snap.job.id) / name;
}

void watch(managed_job_ptr self) {
  auto& st = self->state;
  stop_watching(self);
  if (st.snap.cluster.empty() || st.snap.cluster_job == 0)
    return;
  archiver_args a;
  a.supervisor = caf::actor{self};
  a.epoch = st.epoch;
  a.clusters = st.deps.clusters;
  a.pool = st.deps.pool;
  a.cluster = st.snap.cluster;
  a.job_id = st.snap.cluster_job;
  a.file = attempt_file(self);
  a.poll = st.deps.watch_interval;
  a.max_poll = st.deps.watch_max_interval;
  const auto& j = st.snap.job;
  a.header
    = "--- managed job " + std::to_string(j.id) + ", task "
      + std::to_string(j.task_index + 1) + "/" + std::to_string(j.tasks.size())
      + ", attempt " + std::to_string(st.snap.attempts) + " on cluster "
      + st.snap.cluster
      + (st.snap.infra.empty() ? "" : " (" + st.snap.infra + ")") + " ---\n";
  // Linked: it ends with the supervisor.
  st.archiver = self->spawn<caf::linked>(log_archiver, std::move(a));
}

// A launch error's list ("...now:\n  - aws: x\n  - local: y") as one line
// ("...now: aws: x; local: y"): it becomes the job's reason, one row of
// `jobs queue`.
std::string one_line(const std::string& text) {
  std::string out;
  for (size_t i = 0; i < text.size(); ++i) {
    if (text[i] != '\n') {
      out += text[i];
      continue;
    }
    while (i + 1 < text.size() && (text[i + 1] == ' ' || text[i + 1] == '-'))
      ++i;
    if (!out.empty() && out.back() != ':')
      out += ';';
    out += ' ';
  }
  return out;
}

// Launch failures the rules can act on: no capacity (a failover round
// found none) is retried by the strategy; a task the cluster refuses as
// written can never run.
optimizer::managed_job_event launch_failure(const caf::error& err) {
  auto info = describe(err);
  auto text = one_line(info.message)
              + (info.hint.empty() ? "" : " (" + info.hint + ")");
  switch (info.code) {
    case errc::invalid_argument:
    case errc::unsupported:
    case errc::conflict:
      return optimizer::mj_event::prechecks_failed{text};
    default:
      return optimizer::mj_event::launch_found_no_resources{text};
  }
}

// A launch that found no place: a round without capacity, unless the
// planner says no enabled infra could ever run the task as written (then
// waiting through rounds is pointless: FAILED_PRECHECKS with its reasons).
void on_launch_failed(managed_job_ptr self, uint64_t epoch,
                      const caf::error& err) {
  auto& st = self->state;
  auto ev = launch_failure(err);
  const auto index = st.snap.job.launch ? st.snap.job.launch->task_index : 0;
  if (!std::holds_alternative<optimizer::mj_event::launch_found_no_resources>(
        ev)
      || !st.deps.planner || index >= st.snap.tasks.size()) {
    feed(self, std::move(ev));
    return;
  }
  // As written: no blocklist, not pinned by the strategy's first try.
  rank_request req{st.snap.tasks[index], {}};
  self->request(st.deps.planner, timeouts::planner_rank, std::move(req))
    .then(
      [=](ranking_ptr ranking) {
        if (epoch != self->state.epoch)
          return; // cancelled or lost meanwhile: that event decides
        if (auto why = optimizer::never_runnable(*ranking))
          feed(self, optimizer::mj_event::prechecks_failed{*why});
        else
          feed(self, ev);
      },
      [=](caf::error&) {
        if (epoch == self->state.epoch)
          feed(self, ev);
      });
}

void on_launched(managed_job_ptr self, uint64_t epoch, uint64_t cluster_job) {
  auto& st = self->state;
  if (epoch != st.epoch)
    return;
  auto cluster = st.snap.cluster;
  // Where it came up: the strategies start from there after a loss.
  protocol::clusters_request req{{cluster}, false};
  self->request(st.deps.clusters, timeouts::quick_request, status_atom_v, req)
    .then(
      [=](protocol::status_reply& reply) {
        optimizer::launch_place place;
        std::string infra;
        for (const auto& c : reply.clusters)
          if (c.name == cluster) {
            place = place_of(c.placement);
            infra = c.placement.infra();
          }
        feed(self, optimizer::mj_event::cluster_launched{place},
             optimizer::launch_facts{cluster_job, infra});
      },
      [=](caf::error&) {
        feed(self, optimizer::mj_event::cluster_launched{},
             optimizer::launch_facts{cluster_job, ""});
      });
}

void start_launch(managed_job_ptr self) {
  auto& st = self->state;
  const auto& order = *st.snap.job.launch;
  auto index = order.task_index;
  if (index >= st.snap.tasks.size()) {
    feed(self, optimizer::mj_event::controller_failed{
                 "the job's tasks were not recorded"});
    return;
  }
  ++st.epoch;
  // Write-ahead: the cluster's name is durable before it exists, so a
  // restart knows what to tear down.
  record(self, optimizer::begin_launch(st.snap, index), "managed_job.launching",
         [=] {
           auto& s = self->state;
           launch_order lo;
           lo.task = s.snap.tasks[index];
           if (s.snap.job.launch && s.snap.job.launch->only_in)
             lo.task = optimizer::pin_to_place(std::move(lo.task),
                                               *s.snap.job.launch->only_in);
           if (s.snap.job.launch)
             lo.blocked = s.snap.job.launch->blocked;
           lo.task_id = optimizer::managed_task_id(s.snap.job, index);
           lo.run_setup = true;
           // The cluster is the job's: hidden from `skyctl status`, out of
           // reach of the user's down/stop/exec; only the job tears it down.
           lo.owner = managed_job_owner(s.snap.job.id);
           s.launching = true;
           auto epoch = s.epoch;
           self
             ->request(s.deps.clusters, caf::infinite, launch_atom_v,
                       s.snap.cluster, std::move(lo))
             .then(
               [=](uint64_t cluster_job) {
                 self->state.launching = false;
                 on_launched(self, epoch, cluster_job);
               },
               [=](caf::error& err) {
                 auto& s2 = self->state;
                 s2.launching = false;
                 if (epoch != s2.epoch)
                   return;
                 if (s2.snap.job.state == mj_state::cancelling) {
                   // Cancelled while launching: whatever the launch left goes.
                   tear_down(self, s2.snap.cluster, [=] {
                     feed(self, optimizer::mj_event::cluster_torn_down{});
                   });
                   return;
                 }
                 logger("managed_jobs")
                   ->info("managed job {}: launch of {} failed: {}",
                          s2.snap.job.id, s2.snap.cluster,
                          describe(err).message);
                 on_launch_failed(self, epoch, err);
               });
         });
}

void finish(managed_job_ptr self) {
  auto& st = self->state;
  stop_watching(self);
  if (!st.snap.cluster_left) {
    st.quitting = true;
    self->quit();
    return;
  }
  tear_down(self, st.snap.cluster, [=] {
    record(self, optimizer::cleaned_up(self->state.snap),
           "managed_job.cleaned_up", [=] {
             self->state.quitting = true;
             self->quit();
           });
  });
}

} // namespace

void stop_watching(managed_job_ptr self) {
  auto& st = self->state;
  ++st.epoch;
  if (st.archiver) {
    self->unlink_from(st.archiver);
    self->send_exit(st.archiver, caf::exit_reason::user_shutdown);
    st.archiver = nullptr;
  }
}

void tear_down(managed_job_ptr self, std::string cluster,
               std::function<void()> then) {
  auto& st = self->state;
  if (cluster.empty()) {
    then();
    return;
  }
  st.teardown_cluster = std::move(cluster);
  st.after_teardown = std::move(then);
  retry_teardown(self);
}

void retry_teardown(managed_job_ptr self) {
  auto& st = self->state;
  auto epoch = st.epoch;
  auto cluster = st.teardown_cluster;
  protocol::clusters_request req{{cluster}, false};
  // As the cluster's owner: the user's form of `down` refuses it.
  self
    ->request(st.deps.clusters, caf::infinite, down_atom_v, req,
              managed_job_owner(st.snap.job.id))
    .then(
      [=](protocol::outcomes_reply& reply) {
        auto& s = self->state;
        if (epoch != s.epoch)
          return;
        bool gone = reply.results.empty() || reply.results.front().ok
                    || reply.results.front().code == errc::not_found;
        if (!gone) {
          logger("managed_jobs")
            ->warn("managed job {}: teardown of {} failed ({}); retrying",
                   s.snap.job.id, cluster, reply.results.front().message);
          self->delayed_send(self, s.deps.teardown_retry, retry_atom_v, epoch);
          return;
        }
        auto then = std::move(s.after_teardown);
        s.after_teardown = nullptr;
        s.teardown_cluster.clear();
        if (then)
          then();
      },
      [=](caf::error& err) {
        auto& s = self->state;
        if (epoch != s.epoch)
          return;
        logger("managed_jobs")
          ->warn("managed job {}: teardown of {} failed ({}); retrying",
                 s.snap.job.id, cluster, describe(err).message);
        self->delayed_send(self, s.deps.teardown_retry, retry_atom_v, epoch);
      });
}

void launch_now(managed_job_ptr self) {
  auto& st = self->state;
  auto s = st.snap.job.state;
  if ((s != mj_state::starting && s != mj_state::recovering)
      || !st.snap.job.launch)
    return;
  start_launch(self);
}

// The launch order says: tear down what is left, wait, launch.
void do_launch(managed_job_ptr self, bool tear_down_first) {
  auto& st = self->state;
  stop_watching(self);
  auto go = [=] {
    auto& s = self->state;
    auto delay = s.snap.job.launch ? s.snap.job.launch->delay_ms : 0;
    if (delay > 0) {
      ++s.epoch;
      self->delayed_send(self, std::chrono::milliseconds(delay), tick_atom_v,
                         s.epoch);
      return;
    }
    launch_now(self);
  };
  if (tear_down_first && !st.snap.cluster.empty())
    tear_down(self, st.snap.cluster, go);
  else
    go();
}

// skyd stopped during a launch. When the launch got as far as submitting
// the task (the job's cluster is there with a job of the task's id, maybe
// running it already), the job goes on there: tearing that down and
// launching again would run the task twice (the crash harness saw it).
// Otherwise what the launch made is torn down and the launch starts again.
void adopt_or_relaunch(managed_job_ptr self) {
  auto& st = self->state;
  const auto& order = st.snap.job.launch;
  if (st.snap.cluster.empty() || !order) {
    do_launch(self, true);
    return;
  }
  auto task_id = optimizer::managed_task_id(st.snap.job, order->task_index);
  auto epoch = ++st.epoch;
  self
    ->request(st.deps.clusters, timeouts::quick_request, queue_atom_v,
              protocol::queue_request{{st.snap.cluster}})
    .then(
      [=](protocol::queue_reply& q) {
        if (epoch != self->state.epoch)
          return; // cancelled meanwhile: that decides
        for (const auto& j : q.jobs)
          if (j.task_id == task_id) {
            logger("managed_jobs")
              ->info("managed job {}: its task is on cluster {} as job {}; "
                     "carrying on there",
                     self->state.snap.job.id, self->state.snap.cluster,
                     j.job_id);
            on_launched(self, epoch, j.job_id);
            return;
          }
        do_launch(self, true);
      },
      [=](caf::error&) {
        // No such cluster (its launch was undone at restart): launch.
        if (epoch == self->state.epoch)
          do_launch(self, true);
      });
}

void carry_out(managed_job_ptr self, const optimizer::managed_job_decision& d) {
  auto& st = self->state;
  switch (d.action) {
    case optimizer::managed_job_action::none:
      if (st.snap.job.state == mj_state::running && !st.archiver)
        watch(self);
      return;
    case optimizer::managed_job_action::launch:
      do_launch(self, d.tear_down);
      return;
    case optimizer::managed_job_action::tear_down:
      // A launch in flight answers first (then cluster_launched or its
      // failure brings us back here); tearing down under it could leave
      // nodes behind. Its reply must not look stale, so the epoch stays.
      if (st.launching)
        return;
      stop_watching(self);
      tear_down(self, st.snap.cluster,
                [=] { feed(self, optimizer::mj_event::cluster_torn_down{}); });
      return;
    case optimizer::managed_job_action::finish:
      finish(self);
      return;
  }
}

void resume(managed_job_ptr self) {
  auto& st = self->state;
  const auto& j = st.snap.job;
  switch (j.state) {
    case mj_state::pending:
      return; // the registry admits it
    case mj_state::starting:
    case mj_state::recovering:
      adopt_or_relaunch(self);
      return;
    case mj_state::running:
      watch(self);
      return;
    case mj_state::cancelling:
      tear_down(self, st.snap.cluster,
                [=] { feed(self, optimizer::mj_event::cluster_torn_down{}); });
      return;
    default:
      finish(self);
      return;
  }
}

void on_attempt_ended(managed_job_ptr self, const protocol::job_outcome& out) {
  auto& st = self->state;
  st.archiver = nullptr;
  std::vector<int> codes;
  if (out.exit_code)
    codes.push_back(*out.exit_code);
  auto status = job_status_from(out.status).value_or(job_status::failed);
  switch (status) {
    case job_status::succeeded:
      feed(self, optimizer::mj_event::task_succeeded{});
      return;
    case job_status::failed:
      feed(self, optimizer::mj_event::task_failed{codes});
      return;
    case job_status::failed_setup:
      feed(self, optimizer::mj_event::setup_failed{codes});
      return;
    default:
      // FAILED_DRIVER: a node went away; CANCELLED: the cluster was torn
      // down or the job cancelled under us. Either way the cluster cannot
      // be trusted: recover on a new one.
      feed(self,
           optimizer::mj_event::cluster_lost{
             "the job on cluster " + st.snap.cluster + " ended " + out.status,
             std::nullopt});
      return;
  }
}

void on_attempt_lost(managed_job_ptr self, const std::string& why) {
  auto& st = self->state;
  st.archiver = nullptr;
  feed(self, optimizer::mj_event::cluster_lost{"cluster " + st.snap.cluster
                                                 + " is gone (" + why + ")",
                                               std::nullopt});
}

} // namespace sky::actors::managed_job_detail
