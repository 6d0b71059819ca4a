#include "actors/stream/launch_session.hpp"

#include "actors/stream/log_stream.hpp"
#include "actors/core/timeouts.hpp"
#include "messages/msgpack_util.hpp"

namespace sky::actors {

namespace {

using self_ptr = caf::stateful_actor<launch_session_state>*;

void flush(self_ptr self) {
  auto& st = self->state;
  while (st.stream.credits > 0 && !st.held.empty()) {
    st.stream.send(self, std::move(st.held.front()));
    st.held.pop_front();
  }
}

void emit(self_ptr self, protocol::stream_item item) {
  self->state.held.push_back(encode(item));
  flush(self);
}

void end_with(self_ptr self, const caf::error& err) {
  auto& st = self->state;
  if (st.stream.done)
    return;
  // What was held back still goes first (it explains the failure).
  while (!st.held.empty()) {
    st.stream.send(self, std::move(st.held.front()));
    st.held.pop_front();
  }
  st.stream.fail(self, err);
}

void on_submitted(self_ptr self, uint64_t job_id) {
  auto& st = self->state;
  while (!st.held.empty()) {
    st.stream.send(self, std::move(st.held.front()));
    st.held.pop_front();
  }
  if (st.args.detach) {
    protocol::job_outcome out;
    out.cluster = st.args.cluster;
    out.job_id = job_id;
    out.status = std::string{to_string(job_status::pending)};
    st.stream.finish(self, encode(out));
    return;
  }
  // From here on the request is a log stream of the job.
  log_stream_options opts;
  opts.cluster = st.args.cluster;
  opts.job_id = job_id;
  opts.follow = true;
  opts.window = std::max<uint32_t>(st.stream.credits, 1);
  st.follower = self->spawn<caf::monitored + caf::linked>(
    log_stream, st.args.target, st.args.registry, st.args.pool, opts);
}

} // namespace

caf::behavior launch_session(self_ptr self, launch_session_args args) {
  auto& st = self->state;
  st.args = std::move(args);
  st.stream = credit_stream{st.args.target, st.args.window};
  st.args.order.watcher = caf::actor{self};
  auto on_reply = [=](uint64_t job_id) { on_submitted(self, job_id); };
  auto on_error = [=](caf::error& err) { end_with(self, err); };
  auto submit = [=] {
    auto& s = self->state;
    if (s.args.is_exec)
      self
        ->request(s.args.registry, caf::infinite, exec_atom_v, s.args.cluster,
                  s.args.order.task)
        .then(on_reply, on_error);
    else
      self
        ->request(s.args.registry, caf::infinite, launch_atom_v, s.args.cluster,
                  s.args.order)
        .then(on_reply, on_error);
  };
  if (st.args.cluster.empty() && !st.args.is_exec) {
    // SkyPilot names unnamed clusters; the client learns the name from the
    // first progress line.
    self->request(st.args.registry, timeouts::actor_query, new_name_atom_v)
      .then(
        [=](std::string& name) {
          self->state.args.cluster = name;
          protocol::stream_item item;
          item.type = "progress";
          item.stage = "naming";
          item.message = "Cluster name: " + name;
          emit(self, std::move(item));
          submit();
        },
        on_error);
  } else {
    submit();
  }
  self->set_down_handler([=](caf::down_msg& dm) {
    if (dm.source == self->state.follower.address())
      self->quit();
  });
  // Provisioning may take minutes (a cloud's, or a scenario's, delay)
  // without a progress line: heartbeats tell the client skyd is alive.
  heartbeat_after(self, timeouts::heartbeat);
  return {
    [=](heartbeat_atom) {
      auto& s = self->state;
      if (s.follower || s.stream.done)
        return; // the log stream sends its own
      s.stream.heartbeat(self);
      heartbeat_after(self, timeouts::heartbeat);
    },
    [=](plan_atom, protocol::plan_reply& plan) {
      protocol::stream_item item;
      item.type = "plan";
      item.plan = std::move(plan);
      emit(self, std::move(item));
    },
    [=](progress_atom, std::string& stage, std::string& message) {
      protocol::stream_item item;
      item.type = "progress";
      item.stage = std::move(stage);
      item.message = std::move(message);
      emit(self, std::move(item));
    },
    [=](credit_atom, uint32_t n) {
      auto& s = self->state;
      if (s.follower) {
        self->send(s.follower, credit_atom_v, n);
        return;
      }
      s.stream.grant(n);
      flush(self);
    },
    [=](cancel_atom) {
      auto& s = self->state;
      if (s.follower) {
        self->send(s.follower, cancel_atom_v);
        return;
      }
      // Detach: the launch goes on without us.
      protocol::job_outcome out;
      out.cluster = s.args.cluster;
      out.status = "LAUNCHING";
      s.stream.finish(self, encode(out));
    },
    [=](peer_gone_atom) {
      if (self->state.follower)
        self->send(self->state.follower, peer_gone_atom_v);
      self->quit();
    },
    [=](shutdown_atom) {
      auto& s = self->state;
      if (s.follower) {
        self->send(s.follower, shutdown_atom_v);
        return;
      }
      end_with(self, make_error(errc::unavailable,
                                "skyd is shutting down; the launch resumes "
                                "when it restarts",
                                "see skyctl status " + s.args.cluster));
    },
  };
}

} // namespace sky::actors
