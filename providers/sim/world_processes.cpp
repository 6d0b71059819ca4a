// Virtual processes: what a virtual node "runs". Nothing is executed; a
// process's life is computed from the sim clock, its scripted duration,
// signals, and what happened to its node.

#include <algorithm>
#include <csignal>

#include "providers/common/fs_util.hpp"
#include "providers/sim/sim_duration.hpp"
#include "providers/sim/sim_world.hpp"

namespace sky::providers {

namespace {

/// Handles carry the sim start time where a real one carries the kernel's
/// start ticks: together with the pid it names one process for good.
process_handle handle_of(const sim::virtual_process& p) {
  return process_handle{p.pid, static_cast<uint64_t>(p.started_at_ms),
                        p.log_file, p.log_file + ".exit"};
}

/// How the process stands at `now` on a node that ended (stopped or was
/// preempted) at `node_end` (nullopt: it is running).
process_status status_at(const sim::virtual_process& p, int64_t now,
                         std::optional<int64_t> node_end) {
  std::optional<int64_t> end;
  int code = p.exit_code;
  if (p.duration_ms)
    end = p.started_at_ms + *p.duration_ms;
  if (p.signalled_at_ms && (!end || *p.signalled_at_ms < *end)) {
    end = p.signalled_at_ms;
    code = p.signal_exit_code;
  }
  process_status s;
  if (end && *end <= now && (!node_end || *end <= *node_end)) {
    s.state = process_state::exited;
    s.exit_code = code;
    s.ended_at_ms = *end;
    return s;
  }
  // The machine went away under it: nobody recorded how it ended.
  s.state = node_end ? process_state::lost : process_state::running;
  return s;
}

std::optional<int64_t> node_end_of(const sim::sim_instance& inst) {
  if (inst.state == sim::phase::active)
    return std::nullopt;
  return inst.ended_at_ms.value_or(inst.launched_at_ms);
}

sim::virtual_process* find_by_handle(sim::sim_instance& inst,
                                     const process_handle& h) {
  for (auto& p : inst.processes)
    if (p.pid == h.pid
        && static_cast<uint64_t>(p.started_at_ms) == h.start_ticks)
      return &p;
  return nullptr;
}

const sim::virtual_process* latest_with_log(const sim::sim_instance& inst,
                                            const std::string& log) {
  for (auto it = inst.processes.rbegin(); it != inst.processes.rend(); ++it)
    if (it->log_file == log)
      return &*it;
  return nullptr;
}

std::string log_text(const sim::virtual_process& p) {
  std::string duration = p.duration_ms
                           ? "runs " + sim::format_duration_ms(*p.duration_ms)
                               + " of sim time, then exits with "
                               + std::to_string(p.exit_code)
                           : "runs until stopped";
  return "[sim] virtual node: '" + p.name
         + "' started no process (sim.mode virtual); it " + duration + "\n";
}

} // namespace

result<process_handle> sim_world::start_virtual(const sim_node_ref& ref,
                                                const process_spec& spec,
                                                const sim_directive& d) {
  if (!local_detail::is_safe_name(spec.name))
    return make_error(errc::invalid_argument,
                      "process name '" + spec.name
                        + "' is not a safe file name",
                      "use letters, digits, '.', '_' and '-'");
  if (spec.log_file.empty())
    return make_error(errc::invalid_argument,
                      "process '" + spec.name + "' has no log file",
                      "set process_spec::log_file");
  auto raw = settings_.now_ms();
  effects fx;
  std::lock_guard guard{mu_};
  auto now = advance(raw, fx);
  auto* inst = instance_of(ref);
  if (inst == nullptr || !inst->running_at(now))
    return make_error(
      errc::conflict,
      ref.cloud + " (simulated): node " + std::to_string(ref.rank)
        + " of cluster '" + ref.cluster + "' is not running"
        + (inst && !inst->end_reason.empty() ? " (" + inst->end_reason + ")"
                                             : ""),
      "start the cluster again (skyctl start " + ref.cluster + ")");
  sim::virtual_process p;
  p.pid = inst->next_pid++;
  p.name = spec.name;
  p.log_file = local_detail::resolve_under(ref.home, spec.log_file).string();
  p.started_at_ms = now;
  p.duration_ms = d.duration_ms;
  p.exit_code = d.exit_code;
  inst->processes.push_back(p);
  if (auto ok = persist(*find(ref.cloud, ref.cluster)); !ok) {
    inst->processes.pop_back();
    return ok.error();
  }
  return handle_of(p);
}

result<process_status> sim_world::poll_virtual(const sim_node_ref& ref,
                                               const process_handle& handle) {
  auto raw = settings_.now_ms();
  effects fx;
  std::lock_guard guard{mu_};
  auto now = advance(raw, fx);
  auto* inst = instance_of(ref);
  process_status lost;
  lost.state = process_state::lost;
  if (inst == nullptr)
    return lost; // the node was torn down or replaced
  const auto* p = find_by_handle(*inst, handle);
  if (p == nullptr)
    return lost;
  return status_at(*p, now, node_end_of(*inst));
}

result<std::optional<process_handle>>
sim_world::find_virtual(const sim_node_ref& ref, const std::string& log_file) {
  auto log = local_detail::resolve_under(ref.home, log_file).string();
  std::lock_guard guard{mu_};
  auto* inst = instance_of(ref);
  if (inst == nullptr)
    return std::optional<process_handle>{};
  if (const auto* p = latest_with_log(*inst, log))
    return std::optional<process_handle>{handle_of(*p)};
  return std::optional<process_handle>{};
}

result<log_chunk> sim_world::read_virtual_log(const sim_node_ref& ref,
                                              const std::string& log_file,
                                              uint64_t offset,
                                              size_t max_bytes) {
  auto log = local_detail::resolve_under(ref.home, log_file).string();
  std::lock_guard guard{mu_};
  auto* inst = instance_of(ref);
  const auto* p = inst ? latest_with_log(*inst, log) : nullptr;
  if (p == nullptr)
    return make_error(errc::not_found, "log file " + log + " does not exist",
                      "the process may not have been started on this node");
  auto text = log_text(*p);
  log_chunk chunk;
  chunk.next_offset = offset;
  if (offset < text.size()) {
    chunk.data = text.substr(offset, max_bytes);
    chunk.next_offset = offset + chunk.data.size();
  }
  return chunk;
}

result<void> sim_world::signal_virtual(const sim_node_ref& ref,
                                       const process_handle& handle, int sig) {
  if (sig < 0 || sig >= NSIG)
    return make_error(errc::invalid_argument,
                      "signal " + std::to_string(sig) + " does not exist");
  auto raw = settings_.now_ms();
  effects fx;
  std::lock_guard guard{mu_};
  auto now = advance(raw, fx);
  auto* inst = instance_of(ref);
  auto* p = inst ? find_by_handle(*inst, handle) : nullptr;
  if (p == nullptr
      || status_at(*p, now, node_end_of(*inst)).state != process_state::running)
    return make_error(errc::not_found,
                      "process " + std::to_string(handle.pid) + " (log "
                        + handle.log_file + ") is gone: not signalled",
                      "poll it: it has exited or was lost");
  if (sig == 0)
    return {};
  p->signalled_at_ms = now;
  p->signal_exit_code = 128 + sig;
  auto saved = persist(*find(ref.cloud, ref.cluster));
  settle_watches(ref.cloud, ref.cluster, fx);
  return saved;
}

void sim_world::watch_virtual(const sim_node_ref& ref,
                              const process_handle& handle,
                              std::function<void()> notify) {
  auto raw = settings_.now_ms();
  effects fx;
  std::lock_guard guard{mu_};
  auto now = advance(raw, fx);
  auto* inst = instance_of(ref);
  const auto* p = inst ? find_by_handle(*inst, handle) : nullptr;
  if (p == nullptr
      || status_at(*p, now, node_end_of(*inst)).state
           != process_state::running) {
    fx.notices.push_back(std::move(notify));
    return;
  }
  watches_[{ref.cloud, ref.cluster}].push_back(sim::exit_watch{
    ref.rank, ref.instance_id, p->pid, p->started_at_ms, std::move(notify)});
  // A signal or the node's end settles the watch when it happens; the
  // scripted end needs a look at that time.
  if (p->duration_ms)
    watched_ends_.emplace(p->started_at_ms + *p->duration_ms, ref.cloud,
                          ref.cluster);
}

void sim_world::settle_watches(const std::string& cloud,
                               const std::string& cluster, effects& fx) {
  auto it = watches_.find({cloud, cluster});
  if (it == watches_.end())
    return;
  auto* c = find(cloud, cluster);
  auto running = [&](const sim::exit_watch& w) {
    if (c == nullptr || w.rank >= c->instances.size())
      return false;
    auto& inst = c->instances[w.rank];
    if (inst.id != w.instance_id)
      return false;
    auto h
      = process_handle{w.pid, static_cast<uint64_t>(w.started_at_ms), {}, {}};
    const auto* p = find_by_handle(inst, h);
    return p != nullptr
           && status_at(*p, clock_ms_, node_end_of(inst)).state
                == process_state::running;
  };
  auto& list = it->second;
  for (auto w = list.begin(); w != list.end();) {
    if (running(*w)) {
      ++w;
      continue;
    }
    fx.notices.push_back(std::move(w->notify));
    w = list.erase(w);
  }
  if (list.empty())
    watches_.erase(it);
}

} // namespace sky::providers
