#include "actors/managed_job/managed_jobs.hpp"

#include <optional>
#include <string_view>

#include <caf/exit_reason.hpp>

#include "actors/core/fan_in.hpp"
#include "actors/core/logging.hpp"
#include "actors/core/timeouts.hpp"
#include "messages/msgpack_util.hpp"
#include "messages/task/overrides.hpp"
#include "optimizer/managed_job/managed_job_admission.hpp"

namespace sky::actors {

namespace {

using self_ptr = caf::stateful_actor<managed_jobs_state>*;
using mj_state = optimizer::managed_job_state;

mj_state state_of(const protocol::managed_job_row& r) {
  return optimizer::parse_managed_job_state(r.status).value_or(
    mj_state::failed_controller);
}

// What a job counts as for admission.
enum class slot { none, pending, launching };

slot slot_of(const managed_jobs_state& st, uint64_t id) {
  if (st.admitting.count(id) > 0)
    return slot::launching;
  auto it = st.rows.find(id);
  if (it == st.rows.end())
    return slot::none;
  auto s = state_of(it->second);
  if (s == mj_state::pending)
    return slot::pending;
  if (s == mj_state::starting || s == mj_state::recovering)
    return slot::launching;
  return slot::none;
}

// Runs `change` (to job `id`'s row or admission), then moves the job
// between the PENDING set and the launching count.
template <class F>
void reclassify(self_ptr self, uint64_t id, F change) {
  auto& st = self->state;
  auto before = slot_of(st, id);
  change();
  auto after = slot_of(st, id);
  if (before == after)
    return;
  if (before == slot::pending)
    st.pending.erase(id);
  else if (before == slot::launching)
    --st.launching;
  if (after == slot::pending)
    st.pending.insert(id);
  else if (after == slot::launching)
    ++st.launching;
}

void set_row(self_ptr self, protocol::managed_job_row row) {
  auto& st = self->state;
  auto id = row.job_id;
  reclassify(self, id, [&] {
    auto& cur = st.rows[id];
    if (cur.cluster != row.cluster) {
      auto old = st.by_cluster.find(cur.cluster);
      if (old != st.by_cluster.end() && old->second == id)
        st.by_cluster.erase(old);
      if (!row.cluster.empty())
        st.by_cluster[row.cluster] = id;
    }
    cur = std::move(row);
  });
}

// Spawns the job's supervisor; it resumes what the snapshot was doing, or,
// with `give_up`, ends the job FAILED_CONTROLLER for that reason.
void spawn_supervisor(self_ptr self, optimizer::managed_job_snapshot snap,
                      std::optional<std::string> give_up = std::nullopt) {
  auto& st = self->state;
  auto id = snap.job.id;
  set_row(self, row_of(snap));
  auto sup = self->spawn<caf::monitored>(managed_job_actor, st.deps,
                                         caf::actor{self}, std::move(snap));
  st.supervisors[id] = sup;
  if (give_up)
    self->send(sup, controller_failed_atom_v, std::move(*give_up));
  else
    self->send(sup, start_atom_v);
}

// "managed_job.<id>" -> id.
std::optional<uint64_t> id_of_key(std::string_view key) {
  constexpr std::string_view prefix = "managed_job.";
  if (key.substr(0, prefix.size()) != prefix || key.size() == prefix.size())
    return std::nullopt;
  uint64_t id = 0;
  for (char c : key.substr(prefix.size())) {
    if (c < '0' || c > '9')
      return std::nullopt;
    id = id * 10 + static_cast<uint64_t>(c - '0');
  }
  return id;
}

// A job whose snapshot cannot be read: shown FAILED_CONTROLLER, and the
// snapshot is left as it is (a newer skyd may have written it; rewriting it
// would lose the job for good). Its id is never given to a new job.
void show_unreadable(self_ptr self, uint64_t id, const std::string& why) {
  auto& st = self->state;
  st.next_id = std::max(st.next_id, id + 1);
  protocol::managed_job_row row;
  row.job_id = id;
  row.status = std::string{optimizer::to_string(mj_state::failed_controller)};
  row.reason = "its record cannot be read (" + why
               + "); it is kept unchanged for a skyd that can read it";
  set_row(self, std::move(row));
}

// Starts PENDING jobs while launch slots are free (docs/MANAGED_JOBS.md
// "Admission"): STARTING and RECOVERING jobs hold a slot, and so does a job
// admitted whose new state has not come back yet.
void admit(self_ptr self) {
  auto& st = self->state;
  // No more than the slots can be admitted: the first that many PENDING
  // ids are all admission needs to see.
  std::vector<uint64_t> pending;
  auto slots = std::max<uint32_t>(st.deps.max_concurrent_launches, 1);
  for (auto it = st.pending.begin();
       it != st.pending.end() && pending.size() < slots; ++it)
    pending.push_back(*it);
  for (auto id : optimizer::admit_pending_jobs(pending, st.launching, slots)) {
    auto it = st.supervisors.find(id);
    if (it == st.supervisors.end())
      continue;
    reclassify(self, id, [&] { st.admitting.insert(id); });
    self->send(it->second, launch_atom_v);
  }
}

// Records that job `id`'s supervisor is restarted, then restarts it.
void restart_supervisor(self_ptr self, optimizer::managed_job_snapshot snap,
                        const std::string& why, size_t restarts) {
  event_draft d;
  d.entity = optimizer::managed_job_entity(snap.job.id);
  d.kind = "managed_job.supervisor_restarted";
  d.fields = map_writer{4}
               .add("name", snap.job.name)
               .add("state", std::string{optimizer::to_string(snap.job.state)})
               .add("reason", why)
               .add("restarts", restarts)
               .bytes();
  std::vector<event_draft> drafts{std::move(d)};
  auto s = std::make_shared<optimizer::managed_job_snapshot>(std::move(snap));
  auto go = [=] {
    spawn_supervisor(self, std::move(*s));
    admit(self);
  };
  self
    ->request(self->state.deps.log, timeouts::log_append, append_atom_v,
              std::move(drafts))
    .then([=](uint64_t) { go(); },
          [=](caf::error& err) {
            // The snapshot is unchanged: the job can go on unrecorded.
            logger("managed_jobs")
              ->warn("managed job {}: recording the supervisor restart "
                     "failed ({})",
                     s->job.id, describe(err).message);
            go();
          });
}

// "unhandled_exception" rather than "exit_reason(unhandled_exception)".
std::string exit_text(const caf::error& reason) {
  if (reason.category() == caf::make_error(caf::exit_reason::kill).category())
    return caf::to_string(static_cast<caf::exit_reason>(reason.code()));
  return caf::to_string(reason);
}

// Job `id`'s supervisor died abnormally (`reason`) while the job is live: a
// new one resumes from the last snapshot, or, past the restart budget,
// ends the job FAILED_CONTROLLER and tears its cluster down.
void revive(self_ptr self, uint64_t id, const caf::error& reason) {
  auto& st = self->state;
  auto why = "its supervisor failed (" + exit_text(reason) + ")";
  logger("managed_jobs")->error("managed job {}: {}", id, why);
  st.reviving.insert(id);
  // This job's snapshot only: a prefix read of "managed_job.1" would copy
  // every job whose id starts with 1.
  self
    ->request(st.deps.log, timeouts::log_restore, snapshots_atom_v,
              optimizer::managed_job_entity(id), caf::get_atom_v)
    .then(
      [=](snapshot_list& list) {
        auto& st = self->state;
        st.reviving.erase(id);
        std::optional<result<optimizer::managed_job_snapshot>> snap;
        if (!list.empty())
          snap = optimizer::decode_managed_job_snapshot(list.front().second);
        if (!snap || !*snap) {
          show_unreadable(self, id,
                          snap ? describe(snap->error()).message
                               : std::string{"it is missing"});
          return;
        }
        auto& history = st.supervisor_restarts[id];
        auto now = st.deps.now_ms();
        if (optimizer::after_supervisor_died(history, now, st.deps.supervision)
            == optimizer::supervisor_verdict::restart) {
          history.push_back(now);
          restart_supervisor(self, std::move(**snap), why, history.size());
          return;
        }
        auto restarts = history.size();
        st.supervisor_restarts.erase(id);
        spawn_supervisor(self, std::move(**snap),
                         why + " (restarted " + std::to_string(restarts)
                           + " times before)");
      },
      [=](caf::error& err) {
        // The job stays as recorded; the next start of skyd resumes it.
        self->state.reviving.erase(id);
        logger("managed_jobs")
          ->error("managed job {}: cannot read its snapshot back ({}); it "
                  "is resumed at the next start of skyd",
                  id, describe(err).message);
      });
}

// "job.<cluster>.<id>" -> the managed job whose cluster it is, if any.
std::optional<uint64_t> job_of_entity(const managed_jobs_state& st,
                                      const std::string& entity) {
  constexpr std::string_view prefix = "job.";
  auto dot = entity.rfind('.');
  if (entity.rfind(prefix, 0) != 0 || dot == std::string::npos
      || dot <= prefix.size())
    return std::nullopt;
  auto it
    = st.by_cluster.find(entity.substr(prefix.size(), dot - prefix.size()));
  if (it == st.by_cluster.end())
    return std::nullopt;
  return it->second;
}

// A job on a managed job's cluster ended: its supervisor's archiver reads
// now, so the job's end is seen at once rather than at the next slow poll.
void on_committed(self_ptr self, const event_batch& batch) {
  auto& st = self->state;
  for (const auto& e : *batch) {
    if (e.kind != "job.finished")
      continue;
    auto id = job_of_entity(st, e.entity);
    if (!id)
      continue;
    auto sup = st.supervisors.find(*id);
    if (sup != st.supervisors.end())
      self->send(sup->second, poll_atom_v);
  }
}

void load(self_ptr self, caf::response_promise promise) {
  self
    ->request(self->state.deps.log, timeouts::log_restore, snapshots_atom_v,
              std::string{"managed_job."})
    .then(
      [=](snapshot_list& list) mutable {
        auto& st = self->state;
        size_t live = 0;
        for (const auto& [key, value] : list) {
          auto snap = optimizer::decode_managed_job_snapshot(value);
          if (!snap) {
            auto why = describe(snap.error()).message;
            logger("managed_jobs")->error("{}: {}", key, why);
            if (auto id = id_of_key(key))
              show_unreadable(self, *id, why);
            continue;
          }
          st.next_id = std::max(st.next_id, snap->job.id + 1);
          if (optimizer::is_terminal(snap->job.state) && !snap->cluster_left) {
            set_row(self, row_of(*snap));
            continue;
          }
          ++live;
          spawn_supervisor(self, std::move(*snap));
        }
        st.loaded = true;
        logger("managed_jobs")
          ->info("restored {} managed jobs ({} live)", st.rows.size(), live);
        admit(self);
        promise.deliver(true);
      },
      [=](caf::error& err) mutable { promise.deliver(err); });
}

result<optimizer::managed_job_snapshot>
new_job(self_ptr self, protocol::jobs_launch_request& req) {
  auto& st = self->state;
  if (req.pipeline.tasks.empty())
    return make_error(errc::invalid_argument, "the task file has no task",
                      "give a task YAML with at least a `run` command");
  for (const auto& t : req.pipeline.tasks)
    if (auto ok = task::check_required_variables(t); !ok)
      return ok.error();
  std::optional<optimizer::recovery_strategy> strategy;
  if (!req.job_recovery.empty()) {
    auto s = optimizer::parse_recovery_strategy(req.job_recovery);
    if (!s)
      return make_error(errc::invalid_argument,
                        "--job-recovery: unknown strategy '" + req.job_recovery
                          + "'",
                        "use EAGER_NEXT_REGION or FAILOVER");
    strategy = *s;
  }
  auto id = st.next_id;
  auto job = optimizer::new_managed_job(id, req.name, req.pipeline,
                                        st.deps.now_ms(), strategy);
  if (!job)
    return job.error();
  ++st.next_id;
  optimizer::managed_job_snapshot snap;
  snap.job = std::move(*job);
  snap.job.state_since_ms = snap.job.submitted_at_ms;
  snap.tasks = std::move(req.pipeline.tasks);
  return snap;
}

void submit(self_ptr self, protocol::jobs_launch_request& req,
            caf::response_promise promise) {
  auto snap = new_job(self, req);
  if (!snap) {
    promise.deliver(snap.error());
    return;
  }
  event_draft d;
  d.entity = optimizer::managed_job_entity(snap->job.id);
  d.kind = "managed_job.submitted";
  d.fields = map_writer{3}
               .add("name", snap->job.name)
               .add("state", std::string{"PENDING"})
               .add("tasks", snap->job.tasks.size())
               .bytes();
  d.snapshot = snapshot_op::put;
  d.snapshot_value = encode(*snap);
  std::vector<event_draft> drafts{std::move(d)};
  auto s = std::make_shared<optimizer::managed_job_snapshot>(std::move(*snap));
  self
    ->request(self->state.deps.log, timeouts::log_append, append_atom_v,
              std::move(drafts))
    .then(
      [=](uint64_t) mutable {
        // Durable: the job exists from now on, whatever happens to skyd.
        auto row = row_of(*s);
        logger("managed_jobs")
          ->info("managed job {} ({}) submitted, {} task(s)", s->job.id,
                 s->job.name, s->job.tasks.size());
        spawn_supervisor(self, std::move(*s));
        promise.deliver(row);
        admit(self);
      },
      [=](caf::error& err) mutable { promise.deliver(err); });
}

std::vector<uint64_t> cancel_targets(self_ptr self,
                                     const protocol::jobs_cancel_request& req) {
  auto& st = self->state;
  std::vector<uint64_t> ids = req.job_ids;
  if (!req.name.empty() || req.all)
    for (const auto& [id, row] : st.rows)
      if ((req.all || row.name == req.name)
          && !optimizer::is_terminal(state_of(row)))
        ids.push_back(id);
  return ids;
}

void cancel(self_ptr self, const protocol::jobs_cancel_request& req,
            caf::response_promise promise) {
  auto& st = self->state;
  auto ids = cancel_targets(self, req);
  if (ids.empty() && !req.name.empty()) {
    promise.deliver(make_error(
      errc::not_found, "no live managed job is named '" + req.name + "'",
      "see skyctl jobs queue"));
    return;
  }
  auto g = fan_in<protocol::jobs_cancel_reply>::make(promise, ids.size());
  g->reply().results.resize(ids.size());
  if (g->deliver_if_empty())
    return;
  auto done = [g] { g->arrived(); };
  for (size_t i = 0; i < ids.size(); ++i) {
    auto& out = g->reply().results[i];
    out.job_id = ids[i];
    auto row = st.rows.find(ids[i]);
    auto sup = st.supervisors.find(ids[i]);
    if (row == st.rows.end()) {
      out.message = "managed job " + std::to_string(ids[i])
                    + " does not exist (see skyctl jobs queue)";
      done();
      continue;
    }
    if (st.reviving.count(ids[i]) > 0) {
      out.status = row->second.status;
      out.message = "its supervisor is being restarted; try again in a moment";
      done();
      continue;
    }
    if (sup == st.supervisors.end()
        || optimizer::is_terminal(state_of(row->second))) {
      out.status = row->second.status;
      out.message = "already " + row->second.status;
      done();
      continue;
    }
    self->request(sup->second, timeouts::job_cancel, cancel_atom_v)
      .then(
        [=](std::string& status) {
          auto& o = g->reply().results[i];
          o.ok = true;
          o.status = status;
          done();
        },
        [=](caf::error& err) {
          g->reply().results[i].message = describe(err).message;
          done();
        });
  }
}

} // namespace

caf::behavior managed_jobs(self_ptr self, managed_job_deps deps) {
  self->state.deps = std::move(deps);
  // Live events only: job.finished of the jobs' clusters (on_committed).
  self
    ->request(self->state.deps.log, caf::infinite, subscribe_atom_v,
              caf::actor{self}, uint64_t{0}, uint32_t{0})
    .then([](event_page&) {},
          [](caf::error& err) {
            logger("managed_jobs")
              ->warn("cannot follow the event log ({}); job ends are seen "
                     "by polling only",
                     describe(err).message);
          });
  self->set_exit_handler([=](caf::exit_msg& em) {
    for (auto& [id, sup] : self->state.supervisors)
      self->send_exit(sup, em.reason);
    self->quit(em.reason);
  });
  self->set_down_handler([=](caf::down_msg& dm) {
    auto& st = self->state;
    for (auto it = st.supervisors.begin(); it != st.supervisors.end(); ++it)
      if (it->second.address() == dm.source) {
        auto id = it->first;
        st.supervisors.erase(it);
        reclassify(self, id, [&] { st.admitting.erase(id); });
        auto row = st.rows.find(id);
        if (dm.reason && row != st.rows.end()
            && !optimizer::is_terminal(state_of(row->second)))
          revive(self, id, dm.reason);
        admit(self);
        break;
      }
  });
  return {
    [=](load_atom) {
      auto promise = self->make_response_promise();
      load(self, promise);
      return promise;
    },
    [=](launch_atom, protocol::jobs_launch_request& req) {
      auto promise = self->make_response_promise();
      submit(self, req, promise);
      return promise;
    },
    [=](queue_atom, protocol::jobs_queue_request& req) {
      protocol::jobs_queue_reply reply;
      auto& rows = self->state.rows;
      // Newest first, as `sky jobs queue`.
      for (auto it = rows.rbegin(); it != rows.rend(); ++it)
        if (req.all || !optimizer::is_terminal(state_of(it->second)))
          reply.jobs.push_back(it->second);
      return reply;
    },
    [=](cancel_atom, protocol::jobs_cancel_request& req) {
      auto promise = self->make_response_promise();
      cancel(self, req, promise);
      return promise;
    },
    [=](logs_atom, uint64_t id) -> caf::result<protocol::managed_job_row> {
      auto& rows = self->state.rows;
      if (rows.empty())
        return make_error(errc::not_found, "there is no managed job yet",
                          "submit one with skyctl jobs launch task.yaml");
      auto it = id == 0 ? std::prev(rows.end()) : rows.find(id);
      if (it == rows.end())
        return make_error(errc::not_found,
                          "managed job " + std::to_string(id)
                            + " does not exist",
                          "see skyctl jobs queue");
      // A reader of its logs (managed_log_stream asks here on each read):
      // the supervisor copies the output at once.
      if (!optimizer::is_terminal(state_of(it->second)))
        if (auto sup = self->state.supervisors.find(it->first);
            sup != self->state.supervisors.end())
          self->send(sup->second, logs_atom_v);
      return it->second;
    },
    [=](job_update_atom, protocol::managed_job_row& row) {
      auto& st = self->state;
      auto id = row.job_id;
      reclassify(self, id, [&] {
        if (state_of(row) != mj_state::pending)
          st.admitting.erase(id);
      });
      set_row(self, std::move(row));
      admit(self);
    },
    [=](caf::get_atom, uint64_t id) -> caf::result<caf::actor> {
      auto it = self->state.supervisors.find(id);
      if (it == self->state.supervisors.end())
        return make_error(errc::not_found, "managed job " + std::to_string(id)
                                             + " has no supervisor");
      return it->second;
    },
    [=](node_event_atom, providers::provider_event& ev) {
      // Only the job whose cluster it is cares.
      auto& st = self->state;
      auto job = st.by_cluster.find(ev.cluster);
      if (job == st.by_cluster.end())
        return;
      auto it = st.supervisors.find(job->second);
      if (it != st.supervisors.end())
        self->send(it->second, node_event_atom_v, ev);
    },
    [=](committed_atom, const event_batch& batch) {
      on_committed(self, batch);
    },
  };
}

} // namespace sky::actors
