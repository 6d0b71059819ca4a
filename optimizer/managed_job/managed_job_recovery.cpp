#include "optimizer/managed_job/managed_job_recovery.hpp"

#include <algorithm>

namespace sky::optimizer {

namespace {

using state = managed_job_state;

// A decision being built from a copy of the job; `ignore` leaves the
// record as it was.
struct builder {
  managed_job_decision d;
  int64_t now_ms;

  builder(const managed_job& job, int64_t now) : now_ms(now) { d.job = job; }

  managed_job& job() { return d.job; }

  void enter(state s, std::string reason) {
    auto& j = d.job;
    if (j.state != s)
      j.state_since_ms = now_ms;
    j.state = s;
    j.reason = std::move(reason);
    if (s == state::running && j.started_at_ms == 0)
      j.started_at_ms = now_ms;
    if (is_terminal(s)) {
      j.ended_at_ms = now_ms;
      j.launch.reset();
    }
  }

  managed_job_decision finish(state s, std::string reason, bool tear_down) {
    enter(s, std::move(reason));
    d.action = managed_job_action::finish;
    d.tear_down = tear_down;
    return std::move(d);
  }

  managed_job_decision launch(managed_job_launch order) {
    d.tear_down = order.tear_down_first;
    d.job.launch = std::move(order);
    d.action = managed_job_action::launch;
    return std::move(d);
  }

  managed_job_decision keep_watching() { return std::move(d); }
};

managed_job_decision ignore(const managed_job& job, std::string why) {
  managed_job_decision d;
  d.job = job;
  d.ignored = std::move(why);
  return d;
}

std::string in_state(const managed_job& job) {
  return "the job is " + std::string{to_string(job.state)};
}

std::string codes_text(const std::vector<int>& codes) {
  if (codes.empty())
    return "an unknown exit code";
  std::string out = codes.size() == 1 ? "exit code " : "exit codes ";
  for (size_t i = 0; i < codes.size(); ++i)
    out += (i ? ", " : "") + std::to_string(codes[i]);
  return out;
}

std::string seconds_text(int64_t ms) {
  return std::to_string((ms + 999) / 1000) + " s";
}

// The strategy's first, narrowed try after a lost cluster or a restart.
// The lost region is to blame for a preemption, not for a user-code
// failure: a restart blocks nothing, but FAILOVER still prefers the place
// it knows (its disks and images are there, in SkyPilot's reasoning).
managed_job_launch relaunch_order(const managed_job& job, launch_kind kind,
                                  const std::optional<launch_place>& lost) {
  managed_job_launch order;
  order.task_index = job.task_index;
  order.kind = kind;
  order.tear_down_first = true;
  if (!lost)
    return order;
  const auto& settings = job.tasks[job.task_index].recovery;
  if (settings.strategy == recovery_strategy::failover) {
    order.only_in = launch_place{lost->cloud, lost->region, ""};
    order.narrowed = true;
  } else if (kind == launch_kind::recovery) {
    block_entry e;
    e.scope = block_scope::region;
    e.cloud = lost->cloud;
    e.region = lost->region;
    e.reason = "preempted";
    e.source = "preemption";
    order.blocked.entries.push_back(std::move(e));
    order.narrowed = true;
  }
  return order;
}

std::string relaunch_where(const managed_job_launch& order) {
  if (order.only_in)
    return "in " + order.only_in->text() + " first";
  if (!order.blocked.entries.empty())
    return "outside " + scope_text(order.blocked.entries.front()) + " first";
  return "anywhere";
}

managed_job_decision on_admitted(const managed_job& job, int64_t now) {
  if (job.state != state::pending)
    return ignore(job, in_state(job) + ", not PENDING");
  builder b{job, now};
  b.enter(state::starting, "launching");
  b.job().task_index = 0;
  b.job().rounds_without_capacity = 0;
  managed_job_launch order;
  order.kind = launch_kind::first;
  return b.launch(std::move(order));
}

managed_job_decision on_launched(const managed_job& job,
                                 const mj_event::cluster_launched& ev,
                                 int64_t now) {
  if (job.state == state::cancelling) {
    // The launch finished after the cancel: that cluster must go too.
    managed_job_decision d;
    d.job = job;
    d.action = managed_job_action::tear_down;
    d.tear_down = true;
    return d;
  }
  if (job.state != state::starting && job.state != state::recovering)
    return ignore(job, in_state(job) + ", no launch was in flight");
  builder b{job, now};
  b.job().place = ev.place;
  b.job().launch.reset();
  b.job().rounds_without_capacity = 0;
  b.enter(state::running, "running on " + ev.place.text());
  return b.keep_watching();
}

managed_job_decision on_succeeded(const managed_job& job, int64_t now) {
  if (job.state != state::running)
    return ignore(job, in_state(job) + ", no task was running");
  builder b{job, now};
  auto next = job.task_index + 1;
  if (next >= job.tasks.size()) {
    std::string reason
      = job.tasks.size() == 1
          ? "the task succeeded"
          : "all " + std::to_string(job.tasks.size()) + " tasks succeeded";
    return b.finish(state::succeeded, std::move(reason), true);
  }
  // Each task has its own cluster and its own restart budget.
  auto& j = b.job();
  j.task_index = next;
  j.restarts_on_errors = 0;
  j.rounds_without_capacity = 0;
  j.place.reset();
  b.enter(state::starting, "task " + std::to_string(next) + " succeeded; "
                             + "launching task " + std::to_string(next + 1)
                             + " of " + std::to_string(job.tasks.size()));
  managed_job_launch order;
  order.task_index = next;
  order.kind = launch_kind::first;
  order.tear_down_first = true;
  return b.launch(std::move(order));
}

managed_job_decision on_user_failure(const managed_job& job,
                                     const std::vector<int>& codes, bool setup,
                                     int64_t now) {
  if (job.state != state::running)
    return ignore(job, in_state(job) + ", no task was running");
  const auto& settings = job.tasks[job.task_index].recovery;
  const auto& free_codes = settings.recover_on_exit_codes;
  auto free_code = std::find_if(codes.begin(), codes.end(), [&](int c) {
    return std::find(free_codes.begin(), free_codes.end(), c)
           != free_codes.end();
  });
  std::string what = std::string{setup ? "setup" : "run"} + " failed with "
                     + codes_text(codes);
  builder b{job, now};
  auto& j = b.job();
  std::string why;
  if (free_code != codes.end()) {
    why = what + " (exit code " + std::to_string(*free_code)
          + " is in recover_on_exit_codes)";
  } else if (j.restarts_on_errors < settings.max_restarts_on_errors) {
    ++j.restarts_on_errors;
    why = what + "; restart " + std::to_string(j.restarts_on_errors) + " of "
          + std::to_string(settings.max_restarts_on_errors);
  } else {
    if (settings.max_restarts_on_errors > 0)
      what += "; all " + std::to_string(settings.max_restarts_on_errors)
              + " restarts used";
    return b.finish(setup ? state::failed_setup : state::failed,
                    std::move(what), true);
  }
  ++j.recovery_count;
  j.rounds_without_capacity = 0;
  auto order = relaunch_order(j, launch_kind::restart, j.place);
  b.enter(state::recovering, why + "; relaunching " + relaunch_where(order));
  return b.launch(std::move(order));
}

managed_job_decision on_lost(const managed_job& job,
                             const mj_event::cluster_lost& ev, int64_t now) {
  if (job.state != state::starting && job.state != state::running
      && job.state != state::recovering)
    return ignore(job, in_state(job) + ", it has no cluster to lose");
  builder b{job, now};
  auto& j = b.job();
  auto lost = ev.place ? ev.place : j.place;
  ++j.recovery_count;
  j.rounds_without_capacity = 0;
  auto order = relaunch_order(j, launch_kind::recovery, lost);
  std::string why = ev.reason.empty() ? "cluster lost" : ev.reason;
  if (lost)
    why += " in " + lost->text();
  b.enter(state::recovering, why + "; relaunching " + relaunch_where(order)
                               + " (recovery "
                               + std::to_string(j.recovery_count) + ")");
  return b.launch(std::move(order));
}

managed_job_decision
on_no_resources(const managed_job& job,
                const mj_event::launch_found_no_resources& ev,
                const managed_job_limits& limits, int64_t now) {
  if ((job.state != state::starting && job.state != state::recovering)
      || !job.launch)
    return ignore(job, in_state(job) + ", no launch was in flight");
  builder b{job, now};
  auto& j = b.job();
  managed_job_launch order = *job.launch;
  // Whatever a failed launch left behind goes before the next try.
  order.tear_down_first = true;
  if (order.narrowed) {
    // The strategy's first choice is full: "then anywhere", without waiting
    // and without counting a round (the rest of the world was not tried).
    order.narrowed = false;
    order.only_in.reset();
    order.blocked.entries.clear();
    order.delay_ms = 0;
    b.enter(j.state, ev.reason + " in the first choice; trying anywhere");
    return b.launch(std::move(order));
  }
  ++j.rounds_without_capacity;
  auto max_rounds = order.kind == launch_kind::first
                      ? limits.max_rounds_first_launch
                      : limits.max_rounds_relaunch;
  auto rounds = std::to_string(j.rounds_without_capacity);
  if (max_rounds > 0 && j.rounds_without_capacity >= max_rounds)
    return b.finish(state::failed_no_resource,
                    ev.reason + " after " + rounds + " launch round"
                      + (j.rounds_without_capacity == 1 ? "" : "s"),
                    true);
  order.delay_ms = retry_delay_ms(limits, j.rounds_without_capacity);
  b.enter(j.state, ev.reason + " (round " + rounds + "); retrying in "
                     + seconds_text(order.delay_ms));
  return b.launch(std::move(order));
}

managed_job_decision on_cancel(const managed_job& job, int64_t now) {
  if (is_terminal(job.state))
    return ignore(job, in_state(job) + " already");
  if (job.state == state::cancelling)
    return ignore(job, "already cancelling");
  builder b{job, now};
  if (job.state == state::pending)
    return b.finish(state::cancelled, "cancelled before it started", false);
  // A waiting or in-flight launch is dropped: the tear down stops it.
  b.job().launch.reset();
  b.enter(state::cancelling, "cancel requested");
  b.d.action = managed_job_action::tear_down;
  b.d.tear_down = true;
  return b.keep_watching();
}

managed_job_decision on_torn_down(const managed_job& job, int64_t now) {
  if (job.state != state::cancelling)
    return ignore(job, in_state(job) + ", not CANCELLING");
  builder b{job, now};
  return b.finish(state::cancelled, "cancelled", false);
}

managed_job_decision on_prechecks(const managed_job& job,
                                  const mj_event::prechecks_failed& ev,
                                  int64_t now) {
  if (job.state != state::pending && job.state != state::starting
      && job.state != state::recovering)
    return ignore(job, in_state(job) + ", prechecks were passed");
  builder b{job, now};
  return b.finish(state::failed_prechecks, ev.reason,
                  job.state != state::pending);
}

managed_job_decision on_controller_failed(const managed_job& job,
                                          const mj_event::controller_failed& ev,
                                          int64_t now) {
  if (is_terminal(job.state) || job.state == state::cancelling)
    return ignore(job, in_state(job));
  builder b{job, now};
  return b.finish(state::failed_controller, ev.reason,
                  job.state != state::pending);
}

} // namespace

int64_t retry_delay_ms(const managed_job_limits& limits, uint32_t rounds) {
  if (limits.retry_gap_ms <= 0 || rounds == 0)
    return 0;
  auto cap = std::max(limits.max_retry_gap_ms, limits.retry_gap_ms);
  int64_t gap = limits.retry_gap_ms;
  for (uint32_t i = 1; i < rounds && gap < cap; ++i)
    gap *= 2;
  return std::min(gap, cap);
}

managed_job_decision decide_managed_job(const managed_job& job,
                                        const managed_job_event& event,
                                        const managed_job_limits& limits,
                                        int64_t now_ms) {
  if (job.tasks.empty() || job.task_index >= job.tasks.size())
    return ignore(job, "the job record has no task "
                         + std::to_string(job.task_index + 1));
  // Cancel wins: once cancelling, only the tear down's outcome counts.
  if (job.state == state::cancelling
      && !std::holds_alternative<mj_event::cluster_torn_down>(event)
      && !std::holds_alternative<mj_event::cluster_launched>(event)
      && !std::holds_alternative<mj_event::cancel_requested>(event))
    return ignore(job, "cancelling");
  return std::visit(
    [&](const auto& ev) -> managed_job_decision {
      using E = std::decay_t<decltype(ev)>;
      if constexpr (std::is_same_v<E, mj_event::admitted>)
        return on_admitted(job, now_ms);
      else if constexpr (std::is_same_v<E, mj_event::cluster_launched>)
        return on_launched(job, ev, now_ms);
      else if constexpr (std::is_same_v<E, mj_event::task_succeeded>)
        return on_succeeded(job, now_ms);
      else if constexpr (std::is_same_v<E, mj_event::task_failed>)
        return on_user_failure(job, ev.exit_codes, false, now_ms);
      else if constexpr (std::is_same_v<E, mj_event::setup_failed>)
        return on_user_failure(job, ev.exit_codes, true, now_ms);
      else if constexpr (std::is_same_v<E, mj_event::cluster_lost>)
        return on_lost(job, ev, now_ms);
      else if constexpr (std::is_same_v<E, mj_event::launch_found_no_resources>)
        return on_no_resources(job, ev, limits, now_ms);
      else if constexpr (std::is_same_v<E, mj_event::prechecks_failed>)
        return on_prechecks(job, ev, now_ms);
      else if constexpr (std::is_same_v<E, mj_event::cancel_requested>)
        return on_cancel(job, now_ms);
      else if constexpr (std::is_same_v<E, mj_event::cluster_torn_down>)
        return on_torn_down(job, now_ms);
      else
        return on_controller_failed(job, ev, now_ms);
    },
    event);
}

} // namespace sky::optimizer
