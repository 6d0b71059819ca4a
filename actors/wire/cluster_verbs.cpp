// The cluster and job verbs of the control protocol: decoding, first
// checks, and routing to the cluster registry, the planner, or a stream
// actor (launch_session, log_stream).

#include "actors/cluster/cluster_registry.hpp"
#include "actors/wire/dispatcher.hpp"
#include "actors/stream/launch_session.hpp"
#include "actors/stream/log_stream.hpp"
#include "actors/core/planner.hpp"
#include "actors/core/timeouts.hpp"
#include "messages/msgpack_util.hpp"
#include "messages/task/overrides.hpp"

namespace sky::actors {

namespace {

// Requests a reply of type T from `dest` and answers the client with it.
template <class T, class Timeout, class... Ts>
void relay(dispatcher_ptr self, const caf::actor& dest,
           const reply_target& target, Timeout timeout, Ts&&... xs) {
  if (!dest) {
    target.fail(self, make_error(errc::unavailable,
                                 "this skyd does not serve that verb"));
    return;
  }
  self->request(dest, timeout, std::forward<Ts>(xs)...)
    .then([=](T& reply) { target.ok(self, encode(reply)); },
          [=](caf::error& err) { target.fail(self, err); });
}

autostop_info autostop_from(const protocol::launch_request& req) {
  // --down alone means: tear down as soon as the cluster is idle.
  return autostop_info{req.idle_minutes >= 0 ? req.idle_minutes : 0, req.down};
}

void launch(dispatcher_ptr self, const reply_target& target,
            const wire_request& req) {
  auto decoded = protocol::decode_launch_request(req.body);
  if (!decoded) {
    target.fail(self, decoded.error());
    return;
  }
  auto& lr = *decoded;
  if (lr.pipeline.tasks.size() != 1) {
    target.fail(self, make_error(errc::invalid_argument,
                                 "launch runs one task; this file has "
                                   + std::to_string(lr.pipeline.tasks.size())
                                   + " (a pipeline)",
                                 "run pipelines as managed jobs: skyctl jobs "
                                 "launch FILE"));
    return;
  }
  if (!lr.cluster.empty())
    if (auto ok = validate_cluster_name(lr.cluster); !ok) {
      target.fail(self, ok.error());
      return;
    }
  if (auto ok = task::check_required_variables(lr.pipeline.tasks.front());
      !ok) {
    target.fail(self, ok.error());
    return;
  }
  launch_session_args args;
  args.target = target;
  args.registry = self->state.deps.registry;
  args.pool = self->state.deps.pool;
  args.cluster = lr.cluster;
  args.order.task = std::move(lr.pipeline.tasks.front());
  args.order.run_setup = !lr.no_setup;
  if (lr.idle_minutes >= 0 || lr.down)
    args.order.autostop = autostop_from(lr);
  args.order.retry_until_up = lr.retry_until_up;
  args.detach = lr.detach;
  args.window = lr.window;
  add_stream(self, req, self->spawn<caf::linked>(launch_session, args));
}

void exec(dispatcher_ptr self, const reply_target& target,
          const wire_request& req) {
  auto decoded = protocol::decode_exec_request(req.body);
  if (!decoded) {
    target.fail(self, decoded.error());
    return;
  }
  if (auto ok = task::check_required_variables(decoded->task); !ok) {
    target.fail(self, ok.error());
    return;
  }
  launch_session_args args;
  args.target = target;
  args.registry = self->state.deps.registry;
  args.pool = self->state.deps.pool;
  args.cluster = decoded->cluster;
  args.is_exec = true;
  args.order.task = std::move(decoded->task);
  args.detach = decoded->detach;
  args.window = decoded->window;
  add_stream(self, req, self->spawn<caf::linked>(launch_session, args));
}

void logs(dispatcher_ptr self, const reply_target& target,
          const wire_request& req) {
  protocol::logs_request lr;
  if (!decode_body(self, target, req, lr))
    return;
  log_stream_options opts;
  opts.cluster = lr.cluster;
  opts.job_id = lr.job_id;
  opts.follow = lr.follow;
  opts.status_only = lr.status_only;
  opts.window = std::clamp<uint32_t>(lr.window, 1, 65536);
  add_stream(self, req,
             self->spawn<caf::linked>(log_stream, target,
                                      self->state.deps.registry,
                                      self->state.deps.pool, opts));
}

} // namespace

bool dispatch_cluster_verb(dispatcher_ptr self, const reply_target& target,
                           wire_request& req) {
  const auto& verb = req.verb;
  const auto& deps = self->state.deps;
  // Stop, start and down wait for the provider; they may take minutes.
  constexpr auto long_op = caf::infinite;
  constexpr caf::timespan quick = timeouts::quick_request;
  if (verb == "launch") {
    launch(self, target, req);
  } else if (verb == "exec") {
    exec(self, target, req);
  } else if (verb == "logs") {
    logs(self, target, req);
  } else if (verb == "status") {
    protocol::clusters_request r;
    if (decode_body(self, target, req, r))
      relay<protocol::status_reply>(self, deps.registry, target, quick,
                                    status_atom_v, std::move(r));
  } else if (verb == "stop" || verb == "start" || verb == "down") {
    protocol::clusters_request r;
    if (!decode_body(self, target, req, r))
      return true;
    if (r.clusters.empty() && !r.all) {
      target.fail(self,
                  make_error(errc::invalid_argument,
                             verb + " needs cluster names or --all",
                             "for example: skyctl " + verb + " mycluster"));
      return true;
    }
    if (verb == "stop")
      relay<protocol::outcomes_reply>(self, deps.registry, target, long_op,
                                      stop_atom_v, std::move(r));
    else if (verb == "start")
      relay<protocol::outcomes_reply>(self, deps.registry, target, long_op,
                                      start_atom_v, std::move(r));
    else
      relay<protocol::outcomes_reply>(self, deps.registry, target, long_op,
                                      down_atom_v, std::move(r));
  } else if (verb == "autostop") {
    protocol::autostop_request r;
    if (!decode_body(self, target, req, r))
      return true;
    if (!r.cancel && r.idle_minutes < 0) {
      target.fail(self, make_error(errc::invalid_argument,
                                   "autostop needs -i MINUTES (0 or more) or "
                                   "--cancel"));
      return true;
    }
    self->request(deps.registry, quick, autostop_atom_v, std::move(r))
      .then(
        [=](std::string& message) {
          target.ok(self, map_writer{1}.add("message", message).bytes());
        },
        [=](caf::error& err) { target.fail(self, err); });
  } else if (verb == "queue") {
    protocol::queue_request r;
    if (decode_body(self, target, req, r))
      relay<protocol::queue_reply>(self, deps.registry, target, quick,
                                   queue_atom_v, std::move(r));
  } else if (verb == "cancel") {
    protocol::cancel_request r;
    if (decode_body(self, target, req, r))
      relay<protocol::outcomes_reply>(self, deps.registry, target, quick,
                                      cancel_atom_v, std::move(r));
  } else if (verb == "optimize") {
    auto r = protocol::decode_optimize_request(req.body);
    if (!r)
      target.fail(self, r.error());
    else
      relay<protocol::plan_reply>(self, deps.planner, target, quick,
                                  std::move(*r));
  } else if (verb == "show_gpus") {
    protocol::show_gpus_request r;
    if (decode_body(self, target, req, r))
      relay<protocol::show_gpus_reply>(self, deps.planner, target, quick,
                                       std::move(r));
  } else {
    return false;
  }
  return true;
}

} // namespace sky::actors
