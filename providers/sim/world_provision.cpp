// The sim world's provisioning verbs: run_instances (injected failures,
// quotas, capacity, idempotency, rollback of partial multi-node requests),
// stop and terminate.

#include <algorithm>

#include "providers/common/fs_util.hpp"
#include "providers/common/node_killer.hpp"
#include "providers/sim/admission.hpp"
#include "providers/sim/preemption.hpp"
#include "providers/sim/sim_world.hpp"

namespace sky::providers {

namespace {

namespace fs = std::filesystem;

/// Most nodes one request may ask for (a typo guard, not a cloud limit).
constexpr uint32_t max_nodes = 4096;

caf::error refused_error(const sim::refusal& r) {
  return provider_error(r.code, r.scope, r.message, r.hint);
}

caf::error sim_error(errc code, std::string message, std::string hint = {}) {
  return provider_error(code, failure_scope::zone, std::move(message),
                        std::move(hint));
}

/// The request's own words for where and what, in messages.
std::string wanted(const std::string& cloud, const provision_request& req) {
  return sim::place_text(cloud, req.region, req.zone) + " " + req.instance_type
         + (req.use_spot ? " (spot)" : " (on-demand)");
}

/// Numeric subdirectories of a cluster directory: node sandboxes, with or
/// without a record (a crash may leave one behind).
std::vector<fs::path> node_homes_in(const fs::path& dir) {
  std::vector<fs::path> out;
  std::error_code ec;
  for (const auto& e : fs::directory_iterator(dir, ec)) {
    auto name = e.path().filename().string();
    if (!name.empty() && e.is_directory(ec)
        && name.find_first_not_of("0123456789") == std::string::npos)
      out.push_back(e.path());
  }
  return out;
}

bool any_live(const sim::sim_cluster& c) {
  return std::any_of(c.instances.begin(), c.instances.end(),
                     [](const sim::sim_instance& i) {
                       return i.state != sim::phase::terminated;
                     });
}

} // namespace

result<cluster_record> sim_world::run_instances(const std::string& cloud,
                                                const provision_request& req) {
  if (auto ok = check_cloud(cloud); !ok)
    return ok.error();
  const auto& places = *index_.cloud(cloud);
  if (auto ok = local_detail::check_cluster_dir_name(
        cloud + " (simulated)", req.cluster, failure_scope::zone);
      !ok)
    return ok.error();
  if (req.num_nodes == 0 || req.num_nodes > max_nodes)
    return sim_error(errc::invalid_argument,
                     cloud + " (simulated): cluster '" + req.cluster
                       + "' asks for " + std::to_string(req.num_nodes)
                       + " nodes",
                     "ask for 1 to " + std::to_string(max_nodes) + " nodes");
  if (auto ok = index_.check_region(places, req.region); !ok) {
    auto info = describe(ok.error());
    return sim_error(errc::invalid_argument,
                     cloud + " (simulated): " + info.message, info.hint);
  }
  std::vector<std::string> zones;
  if (!places.has_zones) {
    if (!req.zone.empty())
      return sim_error(errc::invalid_argument,
                       cloud + " (simulated): " + cloud
                         + " has no zones; the request names zone '" + req.zone
                         + "'",
                       "leave the zone empty for " + cloud);
    zones.push_back("");
  } else if (!req.zone.empty()) {
    if (auto ok = index_.check_zone(places, req.region, req.zone); !ok) {
      auto info = describe(ok.error());
      return sim_error(errc::invalid_argument,
                       cloud + " (simulated): " + info.message, info.hint);
    }
    zones.push_back(req.zone);
  } else {
    // No zone asked: like a cloud placing a regional request, try the
    // region's zones that offer the type, in catalog order.
    for (const auto& z : places.zones.at(req.region))
      if (index_.offered(places, req.region, z, req.instance_type))
        zones.push_back(z);
    if (zones.empty())
      return sim_error(errc::invalid_argument,
                       cloud + " (simulated): instance type '"
                         + req.instance_type + "' is not offered in "
                         + sim::place_text(cloud, req.region),
                       index_.where_offered(places, req.instance_type));
  }

  auto raw = settings_.now_ms();
  effects fx;
  std::lock_guard guard{mu_};
  auto now = advance(raw, fx);
  const auto key = req.idempotency_key();
  if (auto* c = find(cloud, req.cluster)) {
    if (c->busy > 0)
      return sim_error(errc::transient,
                       cloud + " (simulated): cluster '" + req.cluster
                         + "' is being stopped or torn down",
                       "retry when that has finished");
    if (any_live(*c)) {
      bool same_place = c->region == req.region
                        && (req.zone.empty() || c->zone == req.zone)
                        && c->what.instance_type == req.instance_type
                        && c->spot == req.use_spot;
      bool stopped = std::all_of(c->instances.begin(), c->instances.end(),
                                 [](const sim::sim_instance& i) {
                                   return i.state != sim::phase::active;
                                 });
      std::string where = sim::place_text(cloud, c->region, c->zone) + " "
                          + c->what.instance_type
                          + (c->spot ? " (spot)" : " (on-demand)");
      if (!same_place)
        return sim_error(stopped ? errc::conflict : errc::already_exists,
                         cloud + " (simulated): cluster '" + req.cluster
                           + "' already has instances in " + where
                           + "; this request is for " + wanted(cloud, req),
                         stopped ? "a stopped cluster restarts only where "
                                   "its disks are; or tear it down first "
                                   "(skyctl down "
                                     + req.cluster + ")"
                                 : "use it, or tear it down first (skyctl "
                                   "down "
                                     + req.cluster + ")");
      if (c->num_nodes != req.num_nodes)
        return sim_error(errc::invalid_argument,
                         cloud + " (simulated): cluster '" + req.cluster
                           + "' has " + std::to_string(c->num_nodes)
                           + " nodes; the request asks for "
                           + std::to_string(req.num_nodes),
                         "launch with " + std::to_string(c->num_nodes)
                           + " nodes, or tear the cluster down first");
      bool all_active = std::all_of(c->instances.begin(), c->instances.end(),
                                    [](const sim::sim_instance& i) {
                                      return i.state == sim::phase::active;
                                    });
      if (all_active) {
        // The same attempt again (a retry after a crash), or a new
        // attempt on a cluster that is already up: its instances, never
        // a second copy.
        bool changed = false;
        for (auto& inst : c->instances)
          if (inst.idempotency_key != key) {
            inst.idempotency_key = key;
            changed = true;
          }
        if (changed)
          if (auto ok = persist(*c); !ok)
            return ok.error();
        return record_of(*c, now);
      }
      // Restart the stopped nodes and replace the preempted ones where the
      // cluster is.
      zones = {c->zone};
    }
  }

  std::vector<std::pair<std::string, sim::refusal>> refusals;
  for (const auto& zone : zones) {
    std::optional<sim::refusal> refused;
    auto r = provision_in(cloud, req, zone, now, refused);
    if (r)
      settle_watches(cloud, req.cluster, fx); // replaced nodes' processes
    if (r || !refused)
      return r;
    refusals.emplace_back(zone, std::move(*refused));
  }
  if (refusals.size() == 1)
    return refused_error(refusals.front().second);
  // Every zone of the region refused: the region is out (or more).
  sim::refusal all = refusals.front().second;
  all.scope = failure_scope::region;
  all.message = sim::place_text(cloud, req.region)
                + " (simulated): no zone could take " + req.instance_type + ":";
  for (const auto& [zone, r] : refusals) {
    if (r.scope == failure_scope::cloud)
      all.scope = failure_scope::cloud;
    all.message += " " + zone + ": " + std::string{to_string(r.code)} + ";";
  }
  all.message.pop_back();
  all.hint = refusals.front().second.message;
  return refused_error(all);
}

result<cluster_record>
sim_world::provision_in(const std::string& cloud, const provision_request& req,
                        const std::string& zone, int64_t now,
                        std::optional<sim::refusal>& refused) {
  const auto& places = *index_.cloud(cloud);
  auto what = index_.shape_for(places, req.region, zone, req.instance_type,
                               req.per_node.gpus);
  if (!what) {
    auto info = describe(what.error());
    return sim_error(errc::invalid_argument,
                     cloud + " (simulated): " + info.message, info.hint);
  }
  sim::admission want{cloud, req.region, zone, *what, req.use_spot};
  if (req.use_spot ? !what->spot : !what->on_demand) {
    sim::refusal r;
    r.code = errc::unsupported;
    r.scope = failure_scope::zone;
    r.message = want.place() + " (simulated): " + req.instance_type
                + " is not offered " + (req.use_spot ? "as spot" : "on demand")
                + " there (the catalog has no such price)";
    r.hint = req.use_spot ? "launch it on demand, or elsewhere"
                          : "launch it as spot, or elsewhere";
    refused = r;
    return refused_error(r);
  }

  bool never_ready = false;
  if (const auto* fault = sim::matching_fault(scenario_, want, world_.fired)) {
    ++world_.fired[fault->id];
    // A counter that is not persisted fires again after a restart: the
    // attempt still fails as the scenario says, so go on.
    (void) persist_world();
    if (fault->kind == sim::fault_kind::never_ready) {
      never_ready = true;
    } else {
      refused = sim::fault_refusal(*fault, want);
      return refused_error(*refused);
    }
  }

  const auto key = req.idempotency_key();
  const auto* existing = find(cloud, req.cluster);
  const bool keep_existing = existing != nullptr && any_live(*existing);
  sim::sim_cluster target;
  if (keep_existing) {
    target = *existing;
  } else {
    target.cloud = cloud;
    target.cluster = req.cluster;
    target.region = req.region;
    target.zone = zone;
    target.what = *what;
    target.spot = req.use_spot;
    target.num_nodes = req.num_nodes;
    target.per_node = req.per_node;
    target.labels = req.labels;
    target.created_at_ms = now;
    target.instances.resize(req.num_nodes);
    for (uint32_t rank = 0; rank < req.num_nodes; ++rank) {
      target.instances[rank].rank = rank;
      target.instances[rank].state = sim::phase::terminated;
    }
  }

  // Nodes are created one after the other, as a cloud API does; a node
  // that does not fit undoes the ones created before it, so a partial
  // multi-node cluster never survives its attempt.
  const int64_t delay = sim::provisioning_delay_ms(scenario_, want);
  const auto* rule = sim::preemption_for(scenario_, want);
  auto in_use = held(cloud);
  uint32_t needed = 0;
  for (const auto& inst : target.instances)
    needed += inst.state == sim::phase::active ? 0 : 1;
  uint32_t created = 0;
  std::vector<uint32_t> fresh_ranks;
  for (auto& inst : target.instances) {
    if (inst.state == sim::phase::active) {
      inst.idempotency_key = key;
      continue;
    }
    if (auto r = sim::check_limits(scenario_, world_.overrides, want, in_use)) {
      if (created > 0)
        r->message += " (partial provisioning: " + std::to_string(created)
                      + " of " + std::to_string(needed)
                      + " nodes were created, then terminated again; no "
                        "instance is left)";
      refused = std::move(*r);
      return refused_error(*refused);
    }
    in_use.push_back(target.held());
    ++created;
    if (inst.state == sim::phase::terminated) {
      // A new machine (first launch, or replacing a preempted node): a
      // new id and, in real mode, a fresh disk.
      inst = sim::sim_instance{};
      inst.rank = static_cast<uint32_t>(&inst - target.instances.data());
      inst.id = "sim:" + cloud + ":" + key + ":" + std::to_string(inst.rank);
      fresh_ranks.push_back(inst.rank);
    }
    inst.idempotency_key = key;
    inst.state = sim::phase::active;
    inst.launched_at_ms = now;
    inst.ended_at_ms.reset();
    inst.end_reason.clear();
    inst.preempted = false;
    inst.reported = false;
    inst.ready_at_ms
      = never_ready ? std::nullopt : std::optional<int64_t>{now + delay};
    inst.preempt_at_ms.reset();
    if (inst.ready_at_ms && rule != nullptr)
      inst.preempt_at_ms = sim::preemption_time(
        *rule, scenario_.seed,
        cloud + "/" + key + "/" + std::to_string(inst.rank), *inst.ready_at_ms);
  }

  std::optional<sim::sim_cluster> before;
  if (existing != nullptr)
    before = *existing;
  auto& stored = clusters_[{cloud, req.cluster}];
  stored = std::move(target);
  if (auto ok = persist(stored); !ok) {
    if (before)
      stored = std::move(*before);
    else
      clusters_.erase({cloud, req.cluster});
    return ok.error();
  }
  for (const auto& inst : stored.instances)
    schedule(stored, inst);
  if (settings_.mode == sim_node_mode::real) {
    for (auto rank : fresh_ranks) {
      auto home = store_.node_home(cloud, req.cluster, rank);
      std::error_code ec;
      // Whatever a previous machine of this rank left is not on the new
      // one's disk.
      fs::remove_all(home, ec);
      fs::create_directories(home, ec);
      if (ec)
        return sim_error(errc::fatal,
                         cloud + " (simulated): cannot create the sandbox "
                           + home.string() + ": " + ec.message(),
                         "check permissions and free space on this host");
    }
  }
  return record_of(stored, now);
}

result<void> sim_world::stop(const std::string& cloud,
                             const std::string& cluster) {
  if (auto ok = check_cloud(cloud); !ok)
    return ok.error();
  std::vector<fs::path> homes;
  {
    auto raw = settings_.now_ms();
    effects fx;
    std::lock_guard guard{mu_};
    advance(raw, fx);
    auto* c = find(cloud, cluster);
    if (c == nullptr)
      return make_error(errc::not_found,
                        cloud + " (simulated): no cluster '" + cluster + "'",
                        "see the clusters with skyctl status");
    if (c->busy > 0)
      return sim_error(errc::transient,
                       cloud + " (simulated): cluster '" + cluster
                         + "' is being stopped or torn down",
                       "retry when that has finished");
    if (c->spot)
      return sim_error(errc::unsupported,
                       cloud + " (simulated): cluster '" + cluster
                         + "' runs on spot instances, which cannot be "
                           "stopped (as on real clouds)",
                       "tear it down (skyctl down " + cluster
                         + "), or use on-demand instances to stop and start");
    bool active = false;
    for (const auto& inst : c->instances)
      if (inst.state == sim::phase::active) {
        active = true;
        homes.push_back(store_.node_home(cloud, cluster, inst.rank));
      }
    if (!active)
      return {};
    ++c->busy;
  }
  // Without the lock: this waits up to the grace period, and other
  // clusters must not wait for it.
  if (settings_.mode == sim_node_mode::real)
    local_detail::kill_node_processes(homes, settings_.kill_grace);
  auto raw = settings_.now_ms();
  effects fx;
  std::lock_guard guard{mu_};
  auto now = advance(raw, fx);
  auto* c = find(cloud, cluster);
  if (c == nullptr)
    return {}; // torn down meanwhile: nothing left to stop
  --c->busy;
  for (auto& inst : c->instances) {
    if (inst.state != sim::phase::active)
      continue;
    inst.state = sim::phase::stopped;
    inst.ended_at_ms = now;
    inst.preempt_at_ms.reset();
    // A virtual process gets what a real one gets from a stop: SIGTERM.
    for (auto& p : inst.processes)
      if (!p.signalled_at_ms
          && (!p.duration_ms || p.started_at_ms + *p.duration_ms > now)) {
        p.signalled_at_ms = now;
        p.signal_exit_code = 128 + 15;
      }
  }
  auto saved = persist(*c);
  settle_watches(cloud, cluster, fx);
  return saved;
}

result<void> sim_world::terminate(const std::string& cloud,
                                  const std::string& cluster) {
  if (auto ok = check_cloud(cloud); !ok)
    return ok.error();
  if (!local_detail::is_safe_name(cluster))
    return sim_error(errc::invalid_argument,
                     cloud + " (simulated): cluster name '" + cluster
                       + "' cannot name a directory",
                     "use letters, digits, '-', '_' and '.'");
  {
    auto raw = settings_.now_ms();
    effects fx;
    std::lock_guard guard{mu_};
    advance(raw, fx);
    if (auto* c = find(cloud, cluster))
      ++c->busy;
  }
  const auto dir = store_.cluster_dir(cloud, cluster);
  // Also without a record: a crash between creating a sandbox and saving
  // the record must not leave processes behind.
  if (settings_.mode == sim_node_mode::real)
    local_detail::kill_node_processes(node_homes_in(dir), settings_.kill_grace);
  std::optional<fs::path> trashed;
  {
    auto raw = settings_.now_ms();
    effects fx;
    std::lock_guard guard{mu_};
    advance(raw, fx);
    if (find(cloud, cluster) != nullptr) {
      if (auto ok = store_.remove(cloud, cluster); !ok) {
        --find(cloud, cluster)->busy;
        return ok.error();
      }
      clusters_.erase({cloud, cluster});
    }
    settle_watches(cloud, cluster, fx); // every watched process is lost
    if (settings_.mode == sim_node_mode::real)
      trashed = store_.move_to_trash(dir);
  }
  // Deleting a big sandbox takes time: done after the rename, unlocked.
  if (trashed) {
    std::error_code ec;
    fs::remove_all(*trashed, ec);
  }
  return {};
}

} // namespace sky::providers
