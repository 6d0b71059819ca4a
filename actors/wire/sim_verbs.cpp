// `check` (what infra this skyd can use) and the simulator's admin verbs
// `sim.preempt` and `sim.capacity`. Every call that touches the sim world
// runs on the worker pool: a preemption kills real processes and the world
// writes its state files.

#include "actors/wire/dispatcher.hpp"
#include "actors/core/worker_pool.hpp"
#include "messages/cluster_protocol.hpp"
#include "messages/msgpack_util.hpp"
#include "messages/sim_protocol.hpp"

namespace sky::actors {

namespace {

caf::error no_sim() {
  return make_error(errc::unsupported,
                    "no simulated cloud is configured in this skyd",
                    "set `sim.clouds: [gcp, aws]` in $SKYD_HOME/config.yaml "
                    "and restart skyd (docs/SIM.md); skyctl check lists "
                    "the infra");
}

void check(dispatcher_ptr self, const reply_target& target) {
  auto infra = self->state.deps.infra;
  if (!infra) {
    target.fail(
      self, make_error(errc::unavailable, "this skyd does not serve check"));
    return;
  }
  run_blocking<protocol::check_reply>(
    self, self->state.deps.pool,
    [infra]() -> result<protocol::check_reply> {
      return describe_infra(*infra, gather_infra(*infra));
    },
    [=](result<protocol::check_reply> r) {
      if (r)
        target.ok(self, encode(*r));
      else
        target.fail(self, r.error());
    });
}

void preempt(dispatcher_ptr self, const reply_target& target,
             const wire_request& req) {
  protocol::sim_preempt_request r;
  if (!decode_body(self, target, req, r))
    return;
  auto world = self->state.deps.sim;
  if (!world) {
    target.fail(self, no_sim());
    return;
  }
  if (auto ok = validate_cluster_name(r.cluster); !ok) {
    target.fail(self, ok.error());
    return;
  }
  run_blocking<protocol::sim_preempt_reply>(
    self, self->state.deps.pool,
    [world, r]() -> result<protocol::sim_preempt_reply> {
      // The events also go to the providers' sinks, hence to the cluster.
      auto events = world->preempt(r.cluster, r.node);
      if (!events) {
        // not_found is also a node the cluster does not have: the cluster
        // is unknown only when no simulated cloud holds it.
        auto on_no_cloud = [&] {
          for (const auto& cloud : world->clouds())
            if (auto held = world->query(cloud, r.cluster);
                held || describe(held.error()).code != errc::not_found)
              return false;
          return true;
        };
        if (describe(events.error()).code == errc::not_found && on_no_cloud())
          return make_error(errc::not_found,
                            "cluster '" + r.cluster
                              + "' is not on a simulated cloud (or does not "
                                "exist)",
                            "sim preempt acts on clusters of the clouds in "
                            "sim.clouds; see skyctl status");
        return events.error();
      }
      protocol::sim_preempt_reply out;
      out.cluster = r.cluster;
      for (const auto& ev : *events)
        out.nodes.push_back({ev.provider, ev.rank, ev.reason});
      return out;
    },
    [=](result<protocol::sim_preempt_reply> out) {
      if (out)
        target.ok(self, encode(*out));
      else
        target.fail(self, out.error());
    });
}

void capacity(dispatcher_ptr self, const reply_target& target,
              const wire_request& req) {
  protocol::sim_capacity_request r;
  if (!decode_body(self, target, req, r))
    return;
  auto world = self->state.deps.sim;
  if (!world) {
    target.fail(self, no_sim());
    return;
  }
  std::vector<std::string> parts;
  for (size_t start = 0;;) {
    auto slash = r.place.find('/', start);
    parts.push_back(r.place.substr(start, slash - start));
    if (slash == std::string::npos)
      break;
    start = slash + 1;
  }
  if (parts.size() > 3
      || std::any_of(parts.begin(), parts.end(),
                     [](const std::string& p) { return p.empty(); })) {
    target.fail(self, make_error(errc::invalid_argument,
                                 "sim capacity: '" + r.place
                                   + "' is not CLOUD[/REGION[/ZONE]]",
                                 "e.g. gcp/us-central1/us-central1-a"));
    return;
  }
  if (r.pool != "both" && r.pool != "spot" && r.pool != "on_demand") {
    target.fail(self, make_error(errc::invalid_argument,
                                 "sim capacity: pool '" + r.pool
                                   + "' is not both, spot or on_demand"));
    return;
  }
  if (r.n && *r.n < 0) {
    target.fail(self, make_error(errc::invalid_argument,
                                 "sim capacity: N must be 0 or more, or "
                                 "unlimited"));
    return;
  }
  parts.resize(3);
  run_blocking<bool>(
    self, self->state.deps.pool,
    [world, r, parts]() -> result<bool> {
      for (bool spot : {false, true}) {
        if ((spot && r.pool == "on_demand") || (!spot && r.pool == "spot"))
          continue;
        if (auto ok = world->set_capacity(parts[0], parts[1], parts[2], r.type,
                                          spot, r.n);
            !ok)
          return ok.error();
      }
      return true;
    },
    [=](result<bool> ok) {
      if (!ok) {
        target.fail(self, ok.error());
        return;
      }
      auto text
        = "Capacity of " + r.type + " in " + r.place + " ("
          + (r.pool == "both" ? std::string{"spot and on-demand"} : r.pool)
          + ", simulated) set to "
          + (r.n ? std::to_string(*r.n) : std::string{"unlimited"}) + ".";
      target.ok(self, map_writer{1}.add("message", text).bytes());
    });
}

} // namespace

bool dispatch_sim_verb(dispatcher_ptr self, const reply_target& target,
                       wire_request& req) {
  if (req.verb == "check")
    check(self, target);
  else if (req.verb == "sim.preempt")
    preempt(self, target, req);
  else if (req.verb == "sim.capacity")
    capacity(self, target, req);
  else
    return false;
  return true;
}

} // namespace sky::actors
