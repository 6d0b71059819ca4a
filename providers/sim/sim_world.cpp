// The sim world: opening and loading, the clock and what it makes happen
// (readiness, preemptions), records, event sinks and the admin verbs.
// Provisioning lives in world_provision.cpp, virtual processes in
// world_processes.cpp.

#include "providers/sim/sim_world.hpp"

#include <algorithm>
#include <chrono>
#include <limits>

#include "messages/suggest.hpp"
#include "providers/common/fs_util.hpp"
#include "providers/common/node_killer.hpp"
#include "providers/sim/admission.hpp"
#include "providers/sim/sim_duration.hpp"

namespace sky::providers {

namespace {

namespace fs = std::filesystem;

} // namespace

std::string_view to_string(sim_node_mode m) noexcept {
  return m == sim_node_mode::real ? "real" : "virtual";
}

result<sim_node_mode> parse_sim_node_mode(std::string_view text) {
  if (text == "real")
    return sim_node_mode::real;
  if (text == "virtual")
    return sim_node_mode::virtual_nodes;
  return make_error(errc::invalid_argument,
                    "sim.mode '" + std::string{text} + "' is not a mode"
                      + did_you_mean(text, {"real", "virtual"}),
                    "use real (jobs run in sandboxes on this host) or "
                    "virtual (no processes; scripted durations)");
}

int64_t sim_wall_clock_ms() {
  return std::chrono::duration_cast<std::chrono::milliseconds>(
           std::chrono::system_clock::now().time_since_epoch())
    .count();
}

sim_world::effects::~effects() {
  for (auto& [sink, event] : calls) {
    try {
      sink(event);
    } catch (...) {
      // A sink is an optimisation of detection latency (skyd also polls):
      // its failure must not break the provider call that noticed.
    }
  }
  for (auto& notify : notices) {
    try {
      notify();
    } catch (...) {
      // The same: the watcher also polls.
    }
  }
}

sim_world::sim_world(sim_settings settings)
  : settings_(std::move(settings)), index_(*settings_.catalog),
    store_(settings_.root, settings_.sync_writes) {}

sim_world::~sim_world() = default;

result<std::shared_ptr<sim_world>> sim_world::open(sim_settings settings) {
  return open(std::move(settings), std::nullopt);
}

result<std::shared_ptr<sim_world>> sim_world::open(sim_settings settings,
                                                   sim::scenario scenario) {
  return open(std::move(settings), std::optional{std::move(scenario)});
}

result<std::shared_ptr<sim_world>>
sim_world::open(sim_settings settings, std::optional<sim::scenario> scenario) {
  if (!settings.catalog)
    return make_error(errc::invalid_argument, "sim: no price catalog was given",
                      "load one with optimizer::load_catalogs (catalogs.dir)");
  if (settings.root.empty())
    return make_error(errc::invalid_argument, "sim: the sim root is not set",
                      "set it to $SKYD_HOME/sim");
  if (!settings.now_ms)
    settings.now_ms = sim_wall_clock_ms;
  std::error_code ec;
  fs::create_directories(settings.root, ec);
  if (ec)
    return make_error(errc::fatal,
                      "sim: cannot create " + settings.root.string() + ": "
                        + ec.message(),
                      "check permissions of SKYD_HOME");
  // One spelling of the root: node homes are compared as text (the node
  // marker in the processes' environment).
  auto canonical = fs::weakly_canonical(fs::absolute(settings.root, ec), ec);
  if (!ec)
    settings.root = canonical;
  std::shared_ptr<sim_world> w{new sim_world(std::move(settings))};
  if (scenario) {
    w->scenario_ = std::move(*scenario);
  } else if (!w->settings_.scenario_file.empty()) {
    // Checked against the same index the world uses.
    auto loaded = sim::load_scenario(w->settings_.scenario_file, w->index_);
    if (!loaded)
      return loaded.error();
    w->scenario_ = std::move(*loaded);
  }
  if (auto ok = w->load(); !ok)
    return ok.error();
  return w;
}

result<void> sim_world::load() {
  if (settings_.clouds.empty()) {
    clouds_ = index_.cloud_names();
  } else {
    for (const auto& c : settings_.clouds) {
      auto found = index_.find_cloud(c);
      if (!found) {
        auto info = describe(found.error());
        return make_error(errc::invalid_argument, "sim.clouds: " + info.message,
                          info.hint);
      }
      if (std::find(clouds_.begin(), clouds_.end(), c) == clouds_.end())
        clouds_.push_back(c);
    }
  }
  if (auto ok = store_.open(); !ok)
    return ok.error();
  store_.empty_trash();
  auto stored = store_.load_clusters();
  if (!stored)
    return stored.error();
  for (auto& c : *stored) {
    cluster_key key{c.cloud, c.cluster};
    auto [it, fresh] = clusters_.emplace(key, std::move(c));
    for (const auto& inst : it->second.instances)
      schedule(it->second, inst);
  }
  auto w = store_.load_world();
  if (!w)
    return w.error();
  // Counters and capacity changes belong to the scenario they were made
  // under: an edited scenario starts from its own numbers.
  if (*w && (*w)->fingerprint == scenario_.fingerprint)
    world_ = std::move(**w);
  world_.fingerprint = scenario_.fingerprint;
  return persist_world();
}

int64_t sim_world::now() {
  auto raw = settings_.now_ms();
  effects fx;
  std::lock_guard guard{mu_};
  return advance(raw, fx);
}

int64_t sim_world::advance(int64_t raw_now, effects& fx) {
  if (!clock_started_ || raw_now > clock_ms_) {
    clock_ms_ = raw_now;
    clock_started_ = true;
  }
  const int64_t now = clock_ms_;
  while (!timeline_.empty() && std::get<0>(*timeline_.begin()) <= now) {
    auto [at, cloud, cluster, rank] = *timeline_.begin();
    timeline_.erase(timeline_.begin());
    auto* c = find(cloud, cluster);
    if (c == nullptr || rank >= c->instances.size())
      continue;
    auto& inst = c->instances[rank];
    if (inst.state != sim::phase::active || inst.preempt_at_ms != at)
      continue;
    std::string why
      = std::string{c->spot ? "spot" : "on-demand"} + " instance preempted "
        + sim::format_duration_ms(at - inst.ready_at_ms.value_or(at))
        + " after it started (sim scenario)";
    preempt_instance(*c, inst, at, why, fx);
  }
  while (!watched_ends_.empty() && std::get<0>(*watched_ends_.begin()) <= now) {
    auto [at, cloud, cluster] = *watched_ends_.begin();
    watched_ends_.erase(watched_ends_.begin());
    settle_watches(cloud, cluster, fx);
  }
  return now;
}

void sim_world::schedule(const sim::sim_cluster& c,
                         const sim::sim_instance& inst) {
  if (inst.state == sim::phase::active && inst.preempt_at_ms)
    timeline_.emplace(*inst.preempt_at_ms, c.cloud, c.cluster, inst.rank);
}

provider_event sim_world::preempt_instance(sim::sim_cluster& c,
                                           sim::sim_instance& inst, int64_t at,
                                           const std::string& reason,
                                           effects& fx) {
  inst.state = sim::phase::terminated;
  inst.preempted = true;
  ++preemptions_;
  inst.ended_at_ms = at;
  inst.preempt_at_ms.reset();
  inst.end_reason = reason;
  inst.reported = true;
  // The in-memory state is what counts from now on; a write that fails
  // is repeated by the next change of this cluster.
  (void) persist(c);
  if (settings_.mode == sim_node_mode::real)
    end_real_node(c, inst);
  provider_event e;
  e.what = provider_event::kind::preempted;
  e.provider = c.cloud;
  e.cluster = c.cluster;
  e.rank = inst.rank;
  e.reason = c.cloud + " (simulated): " + reason;
  e.at_ms = at;
  if (auto it = sinks_.find(c.cloud); it != sinks_.end() && it->second)
    fx.calls.emplace_back(it->second, e);
  settle_watches(c.cloud, c.cluster, fx);
  return e;
}

void sim_world::end_real_node(const sim::sim_cluster& c,
                              const sim::sim_instance& inst) {
  auto home = store_.node_home(c.cloud, c.cluster, inst.rank);
  std::error_code ec;
  if (!fs::exists(home, ec))
    return;
  // Before the kill: a process that ends from it reports lost, as on a
  // machine that vanished (real_channel.cpp reads this file).
  (void) local_detail::write_file_atomic(
    home / ".sky" / "sim-ended", std::to_string(local_detail::now_unix_ms()));
  // No grace: the machine is gone, its processes do not get to clean up.
  local_detail::kill_node_processes({home}, std::chrono::milliseconds(0));
}

sim::sim_cluster* sim_world::find(const std::string& cloud,
                                  const std::string& cluster) {
  auto it = clusters_.find({cloud, cluster});
  return it == clusters_.end() ? nullptr : &it->second;
}

cluster_record sim_world::record_of(const sim::sim_cluster& c,
                                    int64_t now) const {
  cluster_record r;
  r.provider = c.cloud;
  r.cluster = c.cluster;
  r.region = c.region;
  r.zone = c.zone;
  r.instance_type = c.what.instance_type;
  r.use_spot = c.spot;
  r.per_node = c.per_node;
  for (const auto& inst : c.instances) {
    instance_info i;
    i.id = inst.id;
    i.rank = inst.rank;
    switch (inst.state) {
      case sim::phase::active:
        i.state = c.busy > 0             ? instance_state::stopping
                  : inst.running_at(now) ? instance_state::running
                                         : instance_state::pending;
        break;
      case sim::phase::stopped:
        i.state = instance_state::stopped;
        break;
      case sim::phase::terminated:
        i.state = instance_state::terminated;
        break;
    }
    // Real-mode nodes are sandboxes on this host; virtual nodes are
    // reached by nothing, so they share the same harmless address.
    i.internal_ip = "127.0.0.1";
    i.zone = c.zone;
    i.idempotency_key = inst.idempotency_key;
    r.instances.push_back(std::move(i));
  }
  return r;
}

std::vector<sim::held_instance>
sim_world::held(const std::string& cloud) const {
  std::vector<sim::held_instance> out;
  for (const auto& [key, c] : clusters_) {
    if (key.first != cloud)
      continue;
    for (const auto& inst : c.instances)
      if (inst.holds_capacity())
        out.push_back(c.held());
  }
  return out;
}

result<void> sim_world::persist(const sim::sim_cluster& c) {
  return store_.save(c);
}

result<void> sim_world::persist_world() {
  return store_.save_world(world_);
}

result<void> sim_world::check_cloud(const std::string& cloud) const {
  if (std::find(clouds_.begin(), clouds_.end(), cloud) != clouds_.end())
    return {};
  std::string known;
  for (const auto& c : clouds_)
    known += (known.empty() ? "" : ", ") + c;
  return make_error(errc::invalid_argument,
                    "'" + cloud + "' is not a simulated cloud"
                      + did_you_mean(cloud, clouds_),
                    "simulated clouds (sim.clouds): " + known);
}

result<cluster_record> sim_world::query(const std::string& cloud,
                                        const std::string& cluster) {
  auto raw = settings_.now_ms();
  effects fx;
  std::lock_guard guard{mu_};
  auto now = advance(raw, fx);
  const auto* c = find(cloud, cluster);
  if (c == nullptr)
    return make_error(errc::not_found,
                      cloud + " (simulated): no cluster '" + cluster + "'",
                      "see the clusters with skyctl status");
  return record_of(*c, now);
}

std::vector<cluster_record> sim_world::list(const std::string& cloud) {
  auto raw = settings_.now_ms();
  effects fx;
  std::lock_guard guard{mu_};
  auto now = advance(raw, fx);
  std::vector<cluster_record> out;
  for (const auto& [key, c] : clusters_)
    if (key.first == cloud)
      out.push_back(record_of(c, now));
  return out;
}

result<sim_wait_view> sim_world::wait_view(const std::string& cloud,
                                           const std::string& cluster) {
  auto raw = settings_.now_ms();
  effects fx;
  std::lock_guard guard{mu_};
  auto now = advance(raw, fx);
  const auto* c = find(cloud, cluster);
  if (c == nullptr)
    return make_error(errc::not_found,
                      cloud + " (simulated): no cluster '" + cluster + "'",
                      "see the clusters with skyctl status");
  sim_wait_view v;
  v.record = record_of(*c, now);
  v.now_ms = now;
  v.busy = c->busy > 0;
  std::optional<int64_t> ready;
  for (const auto& inst : c->instances) {
    if (inst.state != sim::phase::active || inst.running_at(now))
      continue;
    v.launched_at_ms = std::max(v.launched_at_ms, inst.launched_at_ms);
    if (!inst.ready_at_ms)
      v.never_ready = true;
    else
      ready = std::max(ready.value_or(*inst.ready_at_ms), *inst.ready_at_ms);
  }
  if (!v.never_ready)
    v.ready_at_ms = ready;
  return v;
}

void sim_world::set_event_sink(const std::string& cloud,
                               std::function<void(provider_event)> sink) {
  std::lock_guard guard{mu_};
  if (sink)
    sinks_[cloud] = std::move(sink);
  else
    sinks_.erase(cloud);
}

std::optional<int64_t>
sim_world::next_preemption_at(const std::optional<std::string>& cloud) {
  auto raw = settings_.now_ms();
  effects fx;
  std::lock_guard guard{mu_};
  advance(raw, fx);
  for (auto it = timeline_.begin(); it != timeline_.end();) {
    const auto& [at, cl, cluster, rank] = *it;
    const auto* c = find(cl, cluster);
    bool live = c != nullptr && rank < c->instances.size()
                && c->instances[rank].state == sim::phase::active
                && c->instances[rank].preempt_at_ms == at;
    if (!live) {
      it = timeline_.erase(it);
      continue;
    }
    if (!cloud || *cloud == cl)
      return at;
    ++it;
  }
  return std::nullopt;
}

std::optional<int64_t> sim_world::next_due_at() {
  auto next = next_preemption_at();
  std::lock_guard guard{mu_};
  // Stale entries (their processes ended otherwise, or nobody watches
  // them any more) are dropped here, as next_preemption_at does.
  while (!watched_ends_.empty()) {
    const auto& [at, cloud, cluster] = *watched_ends_.begin();
    if (watches_.count({cloud, cluster}) == 0) {
      watched_ends_.erase(watched_ends_.begin());
      continue;
    }
    return next ? std::min(*next, at) : at;
  }
  return next;
}

size_t sim_world::check_preemptions() {
  auto raw = settings_.now_ms();
  effects fx;
  std::lock_guard guard{mu_};
  // Counted, not found by a scan: sim_watch asks every second, and a scan
  // of 10,000 clusters each time was most of its cost.
  auto before = preemptions_;
  advance(raw, fx);
  return preemptions_ - before;
}

result<std::vector<provider_event>>
sim_world::preempt(const std::string& cluster, std::optional<uint32_t> rank) {
  auto raw = settings_.now_ms();
  effects fx;
  std::lock_guard guard{mu_};
  auto now = advance(raw, fx);
  std::vector<provider_event> out;
  bool known = false;
  for (auto& [key, c] : clusters_) {
    if (key.second != cluster)
      continue;
    known = true;
    if (rank && *rank >= c.instances.size())
      return make_error(errc::not_found,
                        "sim: cluster '" + cluster + "' has "
                          + std::to_string(c.instances.size())
                          + " node(s); there is no node "
                          + std::to_string(*rank),
                        "nodes are numbered from 0 (the head)");
    for (auto& inst : c.instances) {
      if ((rank && inst.rank != *rank) || inst.state != sim::phase::active)
        continue;
      out.push_back(
        preempt_instance(c, inst, now, "preempted by skyctl sim preempt", fx));
    }
  }
  if (!known)
    return make_error(errc::not_found,
                      "sim: no simulated cluster '" + cluster + "'",
                      "see the clusters with skyctl status");
  if (out.empty())
    return make_error(errc::conflict,
                      "sim: cluster '" + cluster + "' has no live instance"
                        + (rank ? " at node " + std::to_string(*rank) : "")
                        + " to preempt",
                      "it is stopped, or already preempted");
  return out;
}

result<void> sim_world::set_capacity(const std::string& cloud,
                                     const std::string& region,
                                     const std::string& zone,
                                     const std::string& name, bool spot,
                                     std::optional<int64_t> n) {
  auto c = index_.find_cloud(cloud);
  if (!c)
    return c.error();
  if (zone.size() > 0 && region.empty())
    return make_error(errc::invalid_argument,
                      "sim: zone '" + zone + "' given without its region",
                      "write CLOUD/REGION/ZONE");
  if (!region.empty())
    if (auto ok = index_.check_region(**c, region); !ok)
      return ok.error();
  if (!zone.empty())
    if (auto ok = index_.check_zone(**c, region, zone); !ok)
      return ok.error();
  auto resolved = index_.resolve_name(**c, name);
  if (!resolved)
    return resolved.error();
  auto place = sim::place_text(cloud, region, zone);
  if (!index_.offered(**c, region, zone, resolved->name))
    return make_error(errc::invalid_argument,
                      "sim: " + resolved->name + " is not offered in " + place,
                      index_.where_offered(**c, resolved->name));
  if (n && *n < 0)
    return make_error(errc::invalid_argument,
                      "sim: capacity " + std::to_string(*n) + " is negative",
                      "give 0 or more, or unlimited");
  std::lock_guard guard{mu_};
  world_.overrides[place][sim::capacity_key{spot, resolved->name}] = n;
  return persist_world();
}

result<sim_node_ref> sim_world::node(const std::string& cloud,
                                     const std::string& cluster,
                                     uint32_t rank) {
  auto raw = settings_.now_ms();
  effects fx;
  std::lock_guard guard{mu_};
  auto now = advance(raw, fx);
  const auto* c = find(cloud, cluster);
  if (c == nullptr)
    return make_error(errc::not_found,
                      cloud + " (simulated): no cluster '" + cluster + "'",
                      "see the clusters with skyctl status");
  if (rank >= c->instances.size())
    return make_error(errc::not_found,
                      cloud + " (simulated): cluster '" + cluster + "' has "
                        + std::to_string(c->instances.size())
                        + " node(s); there is no rank " + std::to_string(rank),
                      "ranks go from 0 to "
                        + std::to_string(c->instances.size() - 1));
  const auto& inst = c->instances[rank];
  if (!inst.running_at(now) || c->busy > 0)
    return make_error(
      errc::conflict,
      cloud + " (simulated): node " + std::to_string(rank) + " of cluster '"
        + cluster + "' is not running ("
        + std::string{to_string(record_of(*c, now).instances[rank].state)}
        + (inst.end_reason.empty() ? "" : ": " + inst.end_reason) + ")",
      "start the cluster first (skyctl start " + cluster + ")");
  sim_node_ref ref;
  ref.cloud = cloud;
  ref.cluster = cluster;
  ref.rank = rank;
  ref.instance_id = inst.id;
  ref.home = store_.node_home(cloud, cluster, rank);
  ref.ip = "127.0.0.1";
  return ref;
}

instance_state sim_world::node_state(const sim_node_ref& ref) {
  auto raw = settings_.now_ms();
  effects fx;
  std::lock_guard guard{mu_};
  auto now = advance(raw, fx);
  const auto* c = find(ref.cloud, ref.cluster);
  if (c == nullptr || ref.rank >= c->instances.size()
      || c->instances[ref.rank].id != ref.instance_id)
    return instance_state::terminated;
  return record_of(*c, now).instances[ref.rank].state;
}

sim::sim_instance* sim_world::instance_of(const sim_node_ref& ref) {
  auto* c = find(ref.cloud, ref.cluster);
  if (c == nullptr || ref.rank >= c->instances.size()
      || c->instances[ref.rank].id != ref.instance_id)
    return nullptr;
  return &c->instances[ref.rank];
}

} // namespace sky::providers
