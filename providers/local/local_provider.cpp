#include "providers/local/local_provider.hpp"

#include <thread>

#include "providers/common/capacity.hpp"
#include "providers/common/fs_util.hpp"
#include "providers/local/local_channel.hpp"
#include "providers/common/node_killer.hpp"

namespace sky::providers {

namespace {

namespace fs = std::filesystem;
using namespace local_detail;

caf::error local_error(errc code, std::string message, std::string hint) {
  // Local is one place: every failure blocks it as a whole for failover.
  return provider_error(code, failure_scope::cloud, std::move(message),
                        std::move(hint));
}

result<void> validate_cluster_name(const std::string& cluster) {
  return check_cluster_dir_name("local", cluster, failure_scope::cloud);
}

caf::error no_cluster(const std::string& cluster) {
  return make_error(errc::not_found,
                    "local: no cluster '" + cluster + "' on this host",
                    "see the clusters with skyctl status");
}

bool all_in(const cluster_record& r, instance_state target) {
  for (const auto& i : r.instances)
    if (i.state != target)
      return false;
  return true;
}

} // namespace

result<host_resources> detect_host_resources(const local_settings& settings) {
  host_resources host;
  host.cpus = settings.cpus.value_or(host_cpu_count());
  host.memory_gib = settings.memory_gib.value_or(host_memory_gib());
  if (settings.gpus) {
    for (const auto& [name, count] : *settings.gpus)
      if (count > 0)
        host.gpus[name] = count;
  } else {
    auto devices = detect_nvidia_gpus(settings.nvidia_smi);
    if (devices) {
      host.gpu_devices = *devices;
      for (const auto& d : host.gpu_devices)
        host.gpus[d.name] += 1;
    } else {
      auto info = describe(devices.error());
      host.gpu_detection_problem = "local: GPU detection failed, counting no "
                                   "GPUs: "
                                   + info.message
                                   + " (fix the driver, or set the local "
                                     "GPUs in the configuration)";
    }
  }
  node_resources total{host.cpus, host.memory_gib, host.gpus};
  if (auto ok = validate_resources(total); !ok)
    return make_error(errc::invalid_argument,
                      "local: the host's capacity settings must be "
                      "non-negative numbers",
                      "fix the local cpus, memory or GPUs in the "
                      "configuration");
  return host;
}

local_provider::local_provider(local_settings settings, host_resources host)
  : settings_(std::move(settings)), host_(std::move(host)),
    store_(settings_.root) {}

const std::string& local_provider::name() const {
  return name_;
}

feature_set local_provider::features() const {
  feature_set f;
  f.stop = true;
  f.spot = false;
  f.multi_node = true;
  f.open_ports = true; // the host's ports: nothing to open
  f.gpus = true;
  return f;
}

node_resources local_provider::host_total() const {
  return node_resources{host_.cpus, host_.memory_gib, host_.gpus};
}

bool local_provider::busy(const std::string& cluster) const {
  return busy_.count(cluster) > 0;
}

void local_provider::release_busy(const std::string& cluster) {
  if (--busy_[cluster] <= 0)
    busy_.erase(cluster);
}

result<std::vector<reservation>>
local_provider::reservations_except(const std::string& except) const {
  auto all = store_.load_all();
  if (!all)
    return all.error();
  std::vector<reservation> held;
  for (const auto& c : *all)
    if (c.cluster != except && c.reserves())
      held.push_back({c.cluster, c.num_nodes, c.per_node});
  return held;
}

result<void> local_provider::create_sandboxes(const stored_cluster& c) const {
  for (uint32_t rank = 0; rank < c.num_nodes; ++rank) {
    std::error_code ec;
    auto home = store_.node_home(c.cluster, rank);
    fs::create_directories(home, ec);
    if (ec)
      return local_error(errc::fatal,
                         "local: cannot create the sandbox " + home.string()
                           + ": " + ec.message(),
                         "check permissions and free space on this host");
  }
  return {};
}

result<cluster_record>
local_provider::run_instances(const provision_request& req) {
  if (auto ok = validate_cluster_name(req.cluster); !ok)
    return ok.error();
  if (req.num_nodes == 0)
    return local_error(errc::invalid_argument,
                       "local: cluster '" + req.cluster + "' asks for 0 nodes",
                       "ask for at least one node");
  if (req.use_spot)
    return local_error(errc::unsupported,
                       "local: spot instances are not supported on this host",
                       "drop use_spot, or run the task on a cloud");
  if (auto ok = validate_resources(req.per_node); !ok)
    return ok.error();
  std::lock_guard guard{mu_};
  if (busy(req.cluster))
    return local_error(errc::transient,
                       "local: cluster '" + req.cluster
                         + "' is being stopped or torn down",
                       "retry when that has finished");
  auto flock = store_.lock();
  if (!flock)
    return flock.error();
  auto loaded = store_.load(req.cluster);
  if (!loaded)
    return loaded.error();
  auto key = req.idempotency_key();
  stored_cluster c;
  if (*loaded) {
    c = std::move(**loaded);
    if (c.reserves() && c.idempotency_key == key) {
      // A repeated call for the same attempt: the same cluster, finished
      // if a crash interrupted it.
      if (c.state == instance_state::pending) {
        if (auto ok = create_sandboxes(c); !ok)
          return ok.error();
        c.state = instance_state::running;
        c.updated_at_ms = now_unix_ms();
        if (auto ok = store_.save(c); !ok)
          return ok.error();
      }
      return to_record(c);
    }
    if (c.state == instance_state::running)
      return local_error(errc::already_exists,
                         "local: cluster '" + req.cluster
                           + "' is already running (provisioned by attempt '"
                           + c.idempotency_key + "', this is '" + key + "')",
                         "use it (skyctl exec " + req.cluster
                           + "), or tear it down first (skyctl down "
                           + req.cluster + ")");
    // Stopped, or pending from an attempt that crashed half-way (local
    // instances are only directories, so taking it over is safe).
    if (c.num_nodes != req.num_nodes)
      return local_error(
        errc::invalid_argument,
        "local: cluster '" + req.cluster + "' has "
          + std::to_string(c.num_nodes) + " nodes; the request asks for "
          + std::to_string(req.num_nodes),
        "launch with --num-nodes " + std::to_string(c.num_nodes)
          + ", or tear the cluster down first");
  } else {
    c.cluster = req.cluster;
    c.num_nodes = req.num_nodes;
    c.created_at_ms = now_unix_ms();
  }
  auto held = reservations_except(req.cluster);
  if (!held)
    return held.error();
  if (auto ok = check_fits(host_total(), *held, req.per_node, req.num_nodes);
      !ok)
    return ok.error();
  c.idempotency_key = key;
  c.per_node = req.per_node;
  c.region = req.region;
  c.zone = req.zone;
  c.instance_type = req.instance_type;
  c.ports = req.ports;
  c.labels = req.labels;
  c.updated_at_ms = now_unix_ms();
  // Reserve first (pending), then create the sandboxes: a crash in between
  // leaves a record that a retry finishes or terminate removes, never
  // sandboxes that nothing accounts for.
  if (c.state != instance_state::stopped) {
    c.state = instance_state::pending;
    if (auto ok = store_.save(c); !ok)
      return ok.error();
  }
  if (auto ok = create_sandboxes(c); !ok)
    return ok.error();
  c.state = instance_state::running;
  if (auto ok = store_.save(c); !ok)
    return ok.error();
  return to_record(c);
}

result<cluster_record>
local_provider::wait_instances(const std::string& cluster,
                               instance_state target,
                               std::chrono::milliseconds timeout) {
  auto deadline = std::chrono::steady_clock::now() + timeout;
  while (true) {
    auto rec = query_instances(cluster);
    if (!rec) {
      if (target == instance_state::terminated
          && describe(rec.error()).code == errc::not_found) {
        cluster_record gone;
        gone.provider = "local";
        gone.cluster = cluster;
        return gone;
      }
      return rec.error();
    }
    if (all_in(*rec, target))
      return rec;
    // Local state changes at once; only a stop or teardown in progress on
    // another thread (reported as stopping) is worth waiting for.
    bool in_flux = !rec->instances.empty()
                   && rec->instances[0].state == instance_state::stopping;
    if (!in_flux)
      return make_error(errc::conflict,
                        "local: cluster '" + cluster + "' is "
                          + std::string{to_string(rec->instances.empty()
                                                    ? instance_state::pending
                                                    : rec->instances[0].state)}
                          + ", not " + std::string{to_string(target)},
                        "local instances change state at once: start, stop "
                        "or tear the cluster down instead of waiting");
    if (std::chrono::steady_clock::now() >= deadline)
      return make_error(errc::timeout,
                        "local: cluster '" + cluster + "' did not become "
                          + std::string{to_string(target)} + " within "
                          + std::to_string(timeout.count()) + " ms",
                        "a stop or teardown is still killing its processes");
    std::this_thread::sleep_for(std::chrono::milliseconds(20));
  }
}

result<cluster_record>
local_provider::query_instances(const std::string& cluster) {
  if (auto ok = validate_cluster_name(cluster); !ok)
    return ok.error();
  // Record and busy flag read under one lock: stop changes both in one
  // critical section, so the answer is never half before, half after.
  std::lock_guard guard{mu_};
  auto loaded = store_.load(cluster);
  if (!loaded)
    return loaded.error();
  if (!*loaded)
    return no_cluster(cluster);
  auto rec = to_record(**loaded);
  if (busy(cluster))
    for (auto& i : rec.instances)
      i.state = instance_state::stopping;
  return rec;
}

result<std::vector<cluster_record>> local_provider::list_clusters() {
  std::lock_guard guard{mu_};
  auto all = store_.load_all();
  if (!all)
    return all.error();
  std::vector<cluster_record> out;
  for (const auto& c : *all) {
    auto rec = to_record(c);
    if (busy(c.cluster))
      for (auto& i : rec.instances)
        i.state = instance_state::stopping;
    out.push_back(std::move(rec));
  }
  return out;
}

void local_provider::kill_cluster_processes(const std::string& cluster) const {
  kill_node_processes(store_.existing_node_homes(cluster),
                      settings_.kill_grace);
}

result<void> local_provider::stop_instances(const std::string& cluster) {
  if (auto ok = validate_cluster_name(cluster); !ok)
    return ok.error();
  {
    std::lock_guard guard{mu_};
    auto flock = store_.lock();
    if (!flock)
      return flock.error();
    auto loaded = store_.load(cluster);
    if (!loaded)
      return loaded.error();
    if (!*loaded)
      return no_cluster(cluster);
    if ((*loaded)->state == instance_state::stopped)
      return {};
    ++busy_[cluster];
  }
  // Without the lock: this waits up to the grace period, and other
  // clusters must not wait for it.
  kill_cluster_processes(cluster);
  std::lock_guard guard{mu_};
  release_busy(cluster);
  auto flock = store_.lock();
  if (!flock)
    return flock.error();
  auto loaded = store_.load(cluster);
  if (!loaded)
    return loaded.error();
  if (!*loaded)
    return {}; // torn down meanwhile: nothing left to stop
  auto c = std::move(**loaded);
  c.state = instance_state::stopped;
  c.updated_at_ms = now_unix_ms();
  return store_.save(c);
}

result<void> local_provider::terminate_instances(const std::string& cluster) {
  if (auto ok = validate_cluster_name(cluster); !ok)
    return ok.error();
  {
    std::lock_guard guard{mu_};
    ++busy_[cluster];
  }
  // Also when there is no record: a crash between creating the directory
  // and writing the record must not leave processes or sandboxes behind.
  kill_cluster_processes(cluster);
  result<std::optional<fs::path>> trashed{std::optional<fs::path>{}};
  {
    std::lock_guard guard{mu_};
    release_busy(cluster);
    auto flock = store_.lock();
    if (!flock)
      return flock.error();
    trashed = store_.move_to_trash(cluster);
  }
  if (!trashed)
    return trashed.error();
  // Deleting a big sandbox takes time: done after the rename, unlocked.
  if (*trashed) {
    std::error_code ec;
    fs::remove_all(**trashed, ec);
  }
  return {};
}

result<std::unique_ptr<node_channel>>
local_provider::open_channel(const cluster_record& cluster, uint32_t rank) {
  if (auto ok = validate_cluster_name(cluster.cluster); !ok)
    return ok.error();
  auto loaded = store_.load(cluster.cluster);
  if (!loaded)
    return loaded.error();
  if (!*loaded)
    return no_cluster(cluster.cluster);
  const auto& c = **loaded;
  {
    std::lock_guard guard{mu_};
    if (c.state != instance_state::running || busy(c.cluster))
      return make_error(errc::conflict,
                        "local: cluster '" + c.cluster + "' is not running ("
                          + std::string{to_string(c.state)} + ")",
                        "start it first (skyctl start " + c.cluster + ")");
  }
  if (rank >= c.num_nodes)
    return make_error(errc::not_found,
                      "local: cluster '" + c.cluster + "' has "
                        + std::to_string(c.num_nodes) + " node(s); there is "
                        + "no rank " + std::to_string(rank),
                      "ranks go from 0 to " + std::to_string(c.num_nodes - 1));
  return std::unique_ptr<node_channel>{
    std::make_unique<local_channel>(store_.node_home(c.cluster, rank))};
}

std::optional<std::vector<machine_capacity>> local_provider::capacity() {
  machine_capacity m;
  m.name = "localhost";
  m.total = host_total();
  auto held = reservations_except("");
  // Unreadable records: report nothing free rather than too much;
  // run_instances reports the error itself.
  m.free = held ? free_capacity(m.total, *held) : node_resources{};
  return std::vector<machine_capacity>{m};
}

result<std::unique_ptr<local_provider>>
make_local_provider(local_settings settings) {
  if (settings.root.empty())
    return make_error(errc::invalid_argument,
                      "local: the nodes directory is not set",
                      "set it to $SKYD_HOME/nodes (home_layout::nodes_dir())");
  std::error_code ec;
  fs::create_directories(settings.root, ec);
  if (ec)
    return make_error(errc::fatal,
                      "local: cannot create " + settings.root.string() + ": "
                        + ec.message(),
                      "check permissions of SKYD_HOME");
  // One spelling of the root: node homes are compared as text (the node
  // marker in the processes' environment).
  auto canonical = fs::weakly_canonical(fs::absolute(settings.root, ec), ec);
  if (!ec)
    settings.root = canonical;
  auto host = detect_host_resources(settings);
  if (!host)
    return host.error();
  auto p
    = std::make_unique<local_provider>(std::move(settings), std::move(*host));
  local_detail::cluster_store{p->root()}.empty_trash();
  return p;
}

} // namespace sky::providers
