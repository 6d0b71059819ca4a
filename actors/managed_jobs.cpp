#include "actors/managed_jobs.hpp"

#include <caf/exit_reason.hpp>

#include "actors/logging.hpp"
#include "messages/msgpack_util.hpp"
#include "messages/task/overrides.hpp"
#include "optimizer/managed_job_admission.hpp"

namespace sky::actors {

namespace {

using self_ptr = caf::stateful_actor<managed_jobs_state>*;
using mj_state = optimizer::managed_job_state;

mj_state state_of(const protocol::managed_job_row& r) {
  return optimizer::parse_managed_job_state(r.status).value_or(
    mj_state::failed_controller);
}

void spawn_supervisor(self_ptr self, managed_job_snapshot snap) {
  auto& st = self->state;
  auto id = snap.job.id;
  st.rows[id] = row_of(snap);
  auto sup = self->spawn<caf::monitored>(managed_job_actor, st.svc,
                                         caf::actor{self}, std::move(snap));
  st.supervisors[id] = sup;
  self->send(sup, start_atom_v);
}

// Starts PENDING jobs while launch slots are free (docs/MANAGED_JOBS.md
// "Admission"): STARTING and RECOVERING jobs hold a slot, and so does a job
// admitted whose new state has not come back yet.
void admit(self_ptr self) {
  auto& st = self->state;
  std::vector<uint64_t> pending;
  uint32_t launching = 0;
  for (const auto& [id, row] : st.rows) {
    auto s = state_of(row);
    if (st.admitting.count(id) > 0)
      ++launching;
    else if (s == mj_state::pending)
      pending.push_back(id);
    else if (s == mj_state::starting || s == mj_state::recovering)
      ++launching;
  }
  for (auto id : optimizer::admit_pending_jobs(
         pending, launching, st.svc.max_concurrent_launches)) {
    auto it = st.supervisors.find(id);
    if (it == st.supervisors.end())
      continue;
    st.admitting.insert(id);
    self->send(it->second, launch_atom_v);
  }
}

void load(self_ptr self, caf::response_promise promise) {
  self
    ->request(self->state.svc.log, std::chrono::seconds(60), snapshots_atom_v,
              std::string{"managed_job."})
    .then(
      [=](snapshot_list& list) mutable {
        auto& st = self->state;
        size_t live = 0;
        for (const auto& [key, value] : list) {
          auto snap = decode_managed_job_snapshot(value);
          if (!snap) {
            logger("managed_jobs")
              ->error("{}: {}", key, describe(snap.error()).message);
            continue;
          }
          st.next_id = std::max(st.next_id, snap->job.id + 1);
          if (optimizer::is_terminal(snap->job.state) && !snap->cluster_left) {
            st.rows[snap->job.id] = row_of(*snap);
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

result<managed_job_snapshot> new_job(self_ptr self,
                                     protocol::jobs_launch_request& req) {
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
                                        st.svc.now_ms(), strategy);
  if (!job)
    return job.error();
  ++st.next_id;
  managed_job_snapshot snap;
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
  d.entity = managed_job_entity(snap->job.id);
  d.kind = "managed_job.submitted";
  d.fields = map_writer{3}
               .add("name", snap->job.name)
               .add("state", std::string{"PENDING"})
               .add("tasks", snap->job.tasks.size())
               .bytes();
  d.snapshot = snapshot_op::put;
  d.snapshot_value = encode(*snap);
  std::vector<event_draft> drafts{std::move(d)};
  auto s = std::make_shared<managed_job_snapshot>(std::move(*snap));
  self
    ->request(self->state.svc.log, std::chrono::seconds(30), append_atom_v,
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
  struct gather {
    protocol::jobs_cancel_reply reply;
    size_t left = 0;
  };
  auto g = std::make_shared<gather>();
  g->reply.results.resize(ids.size());
  g->left = ids.size();
  if (ids.empty()) {
    if (!req.name.empty())
      promise.deliver(make_error(
        errc::not_found, "no live managed job is named '" + req.name + "'",
        "see skyctl jobs queue"));
    else
      promise.deliver(g->reply);
    return;
  }
  auto done = [g, promise]() mutable {
    if (--g->left == 0)
      promise.deliver(g->reply);
  };
  for (size_t i = 0; i < ids.size(); ++i) {
    auto& out = g->reply.results[i];
    out.job_id = ids[i];
    auto row = st.rows.find(ids[i]);
    auto sup = st.supervisors.find(ids[i]);
    if (row == st.rows.end()) {
      out.message = "managed job " + std::to_string(ids[i])
                    + " does not exist (see skyctl jobs queue)";
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
    self->request(sup->second, std::chrono::seconds(60), cancel_atom_v)
      .then(
        [=](std::string& status) mutable {
          auto& o = g->reply.results[i];
          o.ok = true;
          o.status = status;
          done();
        },
        [=](caf::error& err) mutable {
          g->reply.results[i].message = describe(err).message;
          done();
        });
  }
}

} // namespace

caf::behavior managed_jobs(self_ptr self, managed_job_services svc) {
  self->state.svc = std::move(svc);
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
        st.admitting.erase(id);
        auto row = st.rows.find(id);
        if (row != st.rows.end()
            && !optimizer::is_terminal(state_of(row->second))) {
          // A bug: the job's record stays as it was and is resumed by the
          // next start of skyd.
          logger("managed_jobs")
            ->error("the supervisor of managed job {} stopped ({}) in {}", id,
                    caf::to_string(dm.reason), row->second.status);
        }
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
      return it->second;
    },
    [=](job_update_atom, protocol::managed_job_row& row) {
      auto& st = self->state;
      if (state_of(row) != mj_state::pending)
        st.admitting.erase(row.job_id);
      st.rows[row.job_id] = std::move(row);
      admit(self);
    },
    [=](node_event_atom, providers::provider_event& ev) {
      // Only the job whose cluster it is cares; a linear scan is fine for
      // events this rare.
      for (const auto& [id, row] : self->state.rows)
        if (row.cluster == ev.cluster) {
          auto it = self->state.supervisors.find(id);
          if (it != self->state.supervisors.end())
            self->send(it->second, node_event_atom_v, ev);
        }
    },
  };
}

} // namespace sky::actors
