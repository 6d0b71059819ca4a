// A cluster's job queue: submission (refusing jobs that can never fit),
// scheduling by the pure scheduler, job updates, cancel, queue and logs.

#include <cmath>

#include "actors/cluster/cluster_internal.hpp"
#include "actors/core/logging.hpp"
#include "messages/msgpack_util.hpp"
#include "messages/task/task_codec.hpp"
#include "optimizer/placement/resources.hpp"

namespace sky::actors::cluster_detail {

namespace {

optimizer::node_shape shape_of(const placement_info& p) {
  optimizer::node_shape shape;
  // Clouds without a vCPU figure (TPU VMs) do not limit jobs by CPU.
  shape.cpus = p.cpus > 0 ? p.cpus : 1e9;
  shape.memory_gib = p.memory_gib;
  shape.gpu = p.accelerator;
  shape.gpu_devices = static_cast<uint32_t>(std::ceil(p.accelerator_count));
  return shape;
}

// What a job asks for per node: the task's cpus (SkyPilot's 0.5 share by
// default), memory, and the accelerator among its choices that the
// cluster has (or the first).
void set_demand(job_snapshot& j, const task::task_spec& task,
                const placement_info& cluster) {
  const auto& r = task.resources;
  j.num_nodes = static_cast<uint32_t>(task.num_nodes.value_or(1));
  j.cpus = r.cpus ? r.cpus->value : 0.5;
  j.memory_gib = 0;
  if (r.memory) {
    j.memory_gib = r.memory->value;
    if (r.memory->mode == task::memory_spec::kind::per_cpu)
      j.memory_gib *= j.cpus;
  }
  j.accelerator.clear();
  j.accelerator_count = 0;
  for (const auto& acc : r.accelerators) {
    bool matches = optimizer::iequals(acc.name, cluster.accelerator);
    if (j.accelerator.empty() || matches) {
      j.accelerator = acc.name.empty() ? cluster.accelerator : acc.name;
      j.accelerator_count = acc.count;
    }
    if (matches)
      break;
  }
}

optimizer::job_request request_of(const job_snapshot& j) {
  optimizer::job_request r;
  r.id = j.job_id;
  r.nodes = j.num_nodes;
  r.cpus = j.cpus;
  r.memory_gib = j.memory_gib;
  r.gpu = j.accelerator;
  r.gpus = j.accelerator_count;
  return r;
}

std::string first_line(const std::optional<std::string>& run) {
  if (!run)
    return "";
  auto text = *run;
  auto start = text.find_first_not_of(" \t\n");
  if (start == std::string::npos)
    return "";
  auto end = text.find('\n', start);
  auto line = text.substr(start, end == std::string::npos ? end : end - start);
  if (line.size() > 120)
    line = line.substr(0, 117) + "...";
  return line;
}

std::string resources_text(const job_snapshot& j) {
  std::string inner
    = j.accelerator.empty()
        ? "CPU:" + optimizer::format_number(j.cpus)
        : j.accelerator + ":" + optimizer::format_number(j.accelerator_count);
  return std::to_string(j.num_nodes) + "x[" + inner + "]";
}

// A finished job keeps its summary; its task (with secrets) is dropped.
void trim(job_snapshot& j) {
  if (auto s = job_status_from(j.status); s && is_terminal(*s))
    j.task.clear();
}

void job_finished(cluster_ptr self, job_snapshot& j, job_status status,
                  const std::string& reason, std::vector<event_draft>& drafts) {
  auto& st = self->state;
  j.status = std::string{to_string(status)};
  j.reason = reason;
  j.ended_at_ms = st.deps.now_ms();
  drafts.push_back(job_event(j, "job.finished"));
  trim(j);
}

void became_idle_maybe(cluster_ptr self) {
  auto& st = self->state;
  if (!idle(st) || st.snap.idle_since_ms != 0
      || st.snap.phase != cluster_phase::none)
    return;
  st.snap.idle_since_ms = st.deps.now_ms();
  persist(self, {cluster_event(st, "cluster.idle")},
          [=] { check_autostop(self); });
}

} // namespace

job_context context_for(const cluster_state& st, const job_snapshot& job,
                        const optimizer::job_placement& where) {
  job_context ctx;
  ctx.provider = st.provider;
  ctx.record = st.record;
  ctx.cluster = st.snap.name;
  ctx.job_id = job.job_id;
  ctx.task_id = job.task_id;
  if (!job.task.empty())
    if (auto t = task::decode_task(job.task))
      ctx.task = std::move(*t);
  ctx.ranks = where.ranks;
  for (size_t i = 0; i < where.ranks.size(); ++i)
    ctx.cuda_visible_devices.push_back(
      optimizer::cuda_visible_devices(where, i));
  ctx.gpus_per_node = static_cast<uint32_t>(std::ceil(job.accelerator_count));
  return ctx;
}

void submit_job(cluster_ptr self, task::task_spec task, bool run_setup,
                caf::response_promise promise, std::string task_id) {
  auto& st = self->state;
  job_snapshot j;
  j.cluster = st.snap.name;
  set_demand(j, task, st.snap.placement);
  auto fits = optimizer::check_job_fits(
    shape_of(st.snap.placement), st.snap.placement.num_nodes, request_of(j));
  if (!fits) {
    auto info = describe(fits.error());
    promise.deliver(make_error(errc::conflict,
                               info.message + " (cluster '" + st.snap.name
                                 + "' has " + st.snap.placement.resources_text()
                                 + ")",
                               "ask for less, or launch a bigger cluster"));
    return;
  }
  j.job_id = st.snap.next_job_id++;
  j.name = task.name.value_or("");
  j.command = first_line(task.run);
  j.status = std::string{to_string(job_status::pending)};
  j.run_setup = run_setup;
  j.submitted_at_ms = st.deps.now_ms();
  j.task_id = !task_id.empty()
                ? std::move(task_id)
                : "sky-" + std::to_string(j.submitted_at_ms) + "_"
                    + st.snap.name + "_" + std::to_string(j.job_id);
  j.task = task::encode_task(task);
  auto id = j.job_id;
  st.jobs[id] = j;
  st.pending.push_back(id);
  st.snap.idle_since_ms = 0;
  ++st.autostop_epoch; // busy: a pending autostop check no longer applies
  // The job and the cluster's counter are recorded together.
  persist(
    self,
    {cluster_event(st, "cluster.job_submitted",
                   map_writer{1}.add("job_id", id).bytes()),
     job_event(j, "job.submitted")},
    [=]() mutable {
      promise.deliver(id);
      schedule(self);
    },
    [=](const caf::error& err) mutable {
      auto& s = self->state;
      s.jobs.erase(id);
      s.pending.erase(std::remove(s.pending.begin(), s.pending.end(), id),
                      s.pending.end());
      promise.deliver(err);
    });
}

void schedule(cluster_ptr self) {
  auto& st = self->state;
  if (status_of(st) != cluster_status::up
      || st.snap.phase != cluster_phase::none || !st.record || !st.provider
      || st.pending.empty())
    return;
  std::vector<optimizer::running_job> running;
  for (const auto& [id, r] : st.running)
    running.push_back(r);
  std::vector<optimizer::job_request> pending;
  for (auto id : st.pending)
    pending.push_back(request_of(st.jobs.at(id)));
  auto decision = optimizer::schedule_jobs(
    shape_of(st.snap.placement), st.snap.placement.num_nodes, running, pending);
  for (const auto& where : decision.start) {
    auto& job = st.jobs.at(where.id);
    st.pending.erase(
      std::remove(st.pending.begin(), st.pending.end(), where.id),
      st.pending.end());
    job.ranks = where.ranks;
    job.devices = where.devices;
    job.device_share = where.device_share;
    // Stamped here, in the one actor that decides the order, so start
    // times follow submission order.
    job.started_at_ms = st.deps.now_ms();
    st.running[where.id] = {request_of(job), where};
    auto actor = self->spawn(job_actor, st.deps, caf::actor{self},
                             job_start{context_for(st, job, where), job});
    st.job_actors[where.id] = actor;
  }
  if (!decision.never_fit.empty()) {
    std::vector<event_draft> drafts;
    for (auto id : decision.never_fit) {
      st.pending.erase(std::remove(st.pending.begin(), st.pending.end(), id),
                       st.pending.end());
      job_finished(self, st.jobs.at(id), job_status::failed,
                   "the job does not fit on this cluster", drafts);
    }
    persist(self, std::move(drafts), [=] { became_idle_maybe(self); });
  }
}

void on_job_update(cluster_ptr self, job_snapshot snap) {
  auto& st = self->state;
  auto id = snap.job_id;
  if (st.jobs.count(id) == 0)
    return; // a job of a cluster incarnation that was torn down
  auto status = job_status_from(snap.status).value_or(job_status::pending);
  bool done = is_terminal(status);
  trim(snap);
  st.jobs[id] = std::move(snap);
  if (!done)
    return;
  st.job_actors.erase(id);
  st.running.erase(id);
  schedule(self);
  became_idle_maybe(self);
}

void end_all_jobs(cluster_ptr self, const std::string& reason,
                  std::function<void()> then, job_status running_status) {
  auto& st = self->state;
  std::vector<event_draft> drafts;
  for (auto id : st.pending)
    job_finished(self, st.jobs.at(id), job_status::cancelled, reason, drafts);
  st.pending.clear();
  // Running jobs end with the cluster's processes (the provider kills
  // them); their actors stop here so they do not poll vanished nodes.
  for (auto& [id, actor] : st.job_actors) {
    self->send_exit(actor, caf::exit_reason::user_shutdown);
    auto& j = st.jobs.at(id);
    if (auto s = job_status_from(j.status); s && !is_terminal(*s))
      job_finished(self, j, running_status, reason, drafts);
  }
  st.job_actors.clear();
  st.running.clear();
  if (drafts.empty()) {
    then();
    return;
  }
  persist(self, std::move(drafts), then, [then](const caf::error&) { then(); });
}

void reattach_jobs(cluster_ptr self) {
  auto& st = self->state;
  for (auto& [id, job] : st.jobs) {
    auto s = job_status_from(job.status).value_or(job_status::pending);
    if (s != job_status::setting_up && s != job_status::running)
      continue;
    optimizer::job_placement where;
    where.id = id;
    where.ranks = job.ranks;
    where.devices = job.devices;
    where.device_share = job.device_share;
    st.running[id] = {request_of(job), where};
    st.job_actors[id]
      = self->spawn(job_actor, st.deps, caf::actor{self},
                    job_start{context_for(st, job, where), job});
  }
}

std::vector<job_summary> queue_of(const cluster_state& st) {
  std::vector<job_summary> out;
  for (auto i = st.jobs.rbegin(); i != st.jobs.rend(); ++i) {
    const auto& j = i->second;
    job_summary s;
    s.cluster = j.cluster;
    s.job_id = j.job_id;
    s.name = j.name;
    s.command = j.command;
    s.status = j.status;
    s.submitted_at_ms = j.submitted_at_ms;
    s.started_at_ms = j.started_at_ms;
    s.ended_at_ms = j.ended_at_ms;
    s.exit_code = j.exit_code;
    s.resources = resources_text(j);
    s.num_nodes = j.num_nodes;
    s.log_dir = ".sky/jobs/" + std::to_string(j.job_id);
    s.task_id = j.task_id;
    out.push_back(std::move(s));
  }
  return out;
}

protocol::outcomes_reply cancel_jobs(cluster_ptr self,
                                     const protocol::cancel_request& req) {
  auto& st = self->state;
  protocol::outcomes_reply reply;
  std::vector<uint64_t> ids = req.job_ids;
  if (req.all) {
    ids.assign(st.pending.begin(), st.pending.end());
    for (const auto& [id, actor] : st.job_actors)
      ids.push_back(id);
    std::sort(ids.begin(), ids.end());
  }
  std::vector<event_draft> drafts;
  for (auto id : ids) {
    protocol::cluster_outcome o;
    o.cluster = st.snap.name;
    auto it = st.jobs.find(id);
    if (it == st.jobs.end()) {
      o.message = "job " + std::to_string(id) + " does not exist on cluster '"
                  + st.snap.name + "'";
      o.code = errc::not_found;
      reply.results.push_back(std::move(o));
      continue;
    }
    auto& j = it->second;
    auto s = job_status_from(j.status).value_or(job_status::pending);
    if (is_terminal(s)) {
      o.ok = true;
      o.status = j.status;
      o.message = "job " + std::to_string(id) + " already " + j.status;
    } else if (s == job_status::pending) {
      st.pending.erase(std::remove(st.pending.begin(), st.pending.end(), id),
                       st.pending.end());
      job_finished(self, j, job_status::cancelled, "cancelled", drafts);
      o.ok = true;
      o.status = j.status;
      o.message = "job " + std::to_string(id) + " cancelled";
    } else {
      if (auto a = st.job_actors.find(id); a != st.job_actors.end())
        self->send(a->second, cancel_atom_v);
      o.ok = true;
      o.status = "CANCELLING";
      o.message = "job " + std::to_string(id) + " is being cancelled";
    }
    reply.results.push_back(std::move(o));
  }
  if (!drafts.empty())
    persist(self, std::move(drafts), [=] { became_idle_maybe(self); });
  return reply;
}

result<job_log_target> log_target(cluster_ptr self, uint64_t job_id) {
  auto& st = self->state;
  if (st.jobs.empty())
    return make_error(errc::not_found,
                      "cluster '" + st.snap.name + "' has no jobs yet",
                      "run one with skyctl exec " + st.snap.name);
  if (job_id == 0)
    job_id = st.jobs.rbegin()->first;
  auto it = st.jobs.find(job_id);
  if (it == st.jobs.end())
    return make_error(errc::not_found,
                      "job " + std::to_string(job_id)
                        + " does not exist on cluster '" + st.snap.name + "'",
                      "see skyctl queue " + st.snap.name);
  if (!st.record || !st.provider)
    return make_error(errc::conflict,
                      "cluster '" + st.snap.name + "' is " + st.snap.status
                        + "; its nodes (and logs) are not reachable",
                      status_of(st) == cluster_status::stopped
                        ? "start it: skyctl start " + st.snap.name
                        : "see skyctl status");
  const auto& j = it->second;
  optimizer::job_placement where;
  where.id = j.job_id;
  where.ranks = j.ranks;
  job_log_target t;
  t.context = context_for(st, j, where);
  t.snapshot = j;
  t.snapshot.task.clear();
  t.has_setup = j.run_setup;
  return t;
}

} // namespace sky::actors::cluster_detail
