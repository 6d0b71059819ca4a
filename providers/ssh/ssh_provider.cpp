#include "providers/ssh/ssh_provider.hpp"

#include <future>
#include <sys/stat.h>

#include "providers/common/capacity.hpp"
#include "providers/common/fs_util.hpp"
#include "providers/ssh/host_select.hpp"
#include "providers/ssh/remote_scripts.hpp"
#include "providers/ssh/ssh_node_channel.hpp"

namespace sky::providers {

namespace {

namespace fs = std::filesystem;
using namespace ssh;

caf::error ssh_error(errc code, std::string message, std::string hint) {
  return provider_error(code, failure_scope::region, std::move(message),
                        std::move(hint));
}

result<void> validate_cluster_name(const std::string& cluster) {
  return local_detail::check_cluster_dir_name("ssh", cluster,
                                              failure_scope::region);
}

caf::error no_cluster(const std::string& cluster) {
  return make_error(errc::not_found,
                    "ssh: no cluster '" + cluster + "' on any SSH pool",
                    "see the clusters with skyctl status");
}

std::string session_key(const pool_host& h) {
  return h.user + "@" + h.key() + "|" + h.identity_file;
}

node_resources resources_of(const probe_result& p) {
  return node_resources{p.cpus, p.memory_gib, p.gpus};
}

} // namespace

/// Where lost nodes are announced: shared with channels (which may outlive
/// a provider call), deduplicated per node until the cluster is torn down.
struct ssh_provider::event_hub {
  std::mutex mu;
  std::function<void(provider_event)> sink;
  std::set<std::pair<std::string, uint32_t>> announced;

  void lost(const std::string& cluster, uint32_t rank,
            const std::string& reason) {
    std::function<void(provider_event)> s;
    {
      std::lock_guard guard{mu};
      if (!announced.insert({cluster, rank}).second)
        return;
      s = sink;
    }
    if (!s)
      return;
    provider_event ev;
    ev.what = provider_event::kind::lost;
    ev.provider = "ssh";
    ev.cluster = cluster;
    ev.rank = rank;
    ev.reason = reason;
    ev.at_ms = local_detail::now_unix_ms();
    s(std::move(ev));
  }

  void forget(const std::string& cluster) {
    std::lock_guard guard{mu};
    for (auto it = announced.begin(); it != announced.end();)
      it = it->first == cluster ? announced.erase(it) : std::next(it);
  }
};

ssh_provider::ssh_provider(ssh_settings settings)
  : settings_(std::move(settings)), store_(settings_.root),
    events_(std::make_shared<event_hub>()) {
  if (settings_.known_hosts.empty())
    settings_.known_hosts = settings_.root / "known_hosts";
}

void ssh_provider::set_event_sink(std::function<void(provider_event)> sink) {
  std::lock_guard guard{events_->mu};
  events_->sink = std::move(sink);
}

const std::string& ssh_provider::name() const {
  return name_;
}

feature_set ssh_provider::features() const {
  feature_set f;
  f.stop = false; // the hosts are not skyd's to power off
  f.spot = false;
  f.multi_node = true;
  f.open_ports = true; // the hosts' own ports: nothing to open
  f.gpus = true;
  return f;
}

std::shared_ptr<host_session> ssh_provider::session_for(const pool_host& h) {
  std::lock_guard guard{sessions_mu_};
  auto& s = sessions_[session_key(h)];
  if (!s) {
    session_settings ss;
    ss.host = h;
    ss.known_hosts = settings_.known_hosts;
    ss.policy = settings_.policy;
    ss.connect_timeout = settings_.connect_timeout;
    ss.backoff_initial = settings_.backoff_initial;
    ss.backoff_max = settings_.backoff_max;
    s = std::make_shared<host_session>(std::move(ss));
  }
  return s;
}

void ssh_provider::drop_sessions() {
  std::vector<std::shared_ptr<host_session>> all;
  {
    std::lock_guard guard{sessions_mu_};
    for (auto& [k, s] : sessions_)
      all.push_back(s);
  }
  for (auto& s : all)
    s->disconnect();
}

result<probe_result> ssh_provider::probe(const pool_host& h, bool fresh) {
  auto now = std::chrono::steady_clock::now();
  auto session = session_for(h);
  // A host that stopped answering since its probe is asked again (at once
  // refused while its session backs off): a dead host must not be offered
  // on the strength of an old probe.
  if (!fresh && !session->unreachable_for()) {
    std::lock_guard guard{probes_mu_};
    auto it = probes_.find(h.key());
    if (it != probes_.end() && now - it->second.at < settings_.probe_ttl)
      return it->second.probe;
  }
  auto r = session->exec(bash_command(probe_script(), {}));
  if (!r)
    return r.error();
  if (r->exit_status != 0)
    return make_error(errc::fatal,
                      "ssh: the probe failed on " + session->label() + " (exit "
                        + std::to_string(r->exit_status) + "): " + r->err,
                      "skyd's SSH pools need Linux hosts with bash");
  auto p = parse_probe_output(r->out);
  if (!p) {
    auto info = describe(p.error());
    return make_error(
      errc::fatal, "ssh: " + session->label() + ": " + info.message, info.hint);
  }
  std::lock_guard guard{probes_mu_};
  probes_[h.key()] = probe_entry{*p, now};
  return p;
}

std::vector<result<probe_result>>
ssh_provider::probe_all(const std::vector<pool_host>& hosts, bool fresh) {
  std::vector<std::future<result<probe_result>>> futures;
  futures.reserve(hosts.size());
  for (const auto& h : hosts)
    futures.push_back(std::async(std::launch::async,
                                 [this, h, fresh] { return probe(h, fresh); }));
  std::vector<result<probe_result>> out;
  for (auto& f : futures)
    out.push_back(f.get());
  return out;
}

result<const node_pool*>
ssh_provider::pool_for(const std::string& region) const {
  const auto& pools = settings_.pools.pools;
  if (region.empty()) {
    if (pools.size() == 1)
      return &pools.front();
    std::string names;
    for (const auto& p : pools)
      names += (names.empty() ? "" : ", ") + p.name;
    return ssh_error(errc::invalid_argument,
                     pools.empty() ? "ssh: no SSH node pools are configured"
                                   : "ssh: several pools exist (" + names
                                       + "); the request names none",
                     pools.empty() ? "list machines in "
                                     "$SKYD_HOME/ssh_node_pools.yaml"
                                   : "name one: infra: ssh/<pool>");
  }
  if (const auto* p = settings_.pools.find(region))
    return p;
  return ssh_error(errc::invalid_argument,
                   "ssh: no node pool named '" + region + "'",
                   "see the pools in $SKYD_HOME/ssh_node_pools.yaml");
}

result<std::map<std::string, std::string>>
ssh_provider::holders(const std::string& except) const {
  auto all = store_.load_all();
  if (!all)
    return all.error();
  std::map<std::string, std::string> out;
  for (const auto& c : *all)
    if (c.cluster != except)
      for (const auto& n : c.nodes)
        out[n.host.key()] = c.cluster;
  return out;
}

std::string ssh_provider::node_home(const std::string& remote_home,
                                    const std::string& cluster,
                                    uint32_t rank) const {
  auto root = settings_.remote_root;
  if (root == "~")
    root = remote_home;
  else if (root.rfind("~/", 0) == 0)
    root = remote_home + root.substr(1);
  while (root.size() > 1 && root.back() == '/')
    root.pop_back();
  return root + "/" + cluster + "/" + std::to_string(rank);
}

result<void> ssh_provider::cleanup_node(const pool_host& h,
                                        const std::string& home) {
  auto session = session_for(h);
  auto r = session->exec(
    bash_command(cleanup_node_script(),
                 {home, std::to_string(settings_.kill_grace.count())}),
    {}, true, settings_.kill_grace + std::chrono::seconds(60));
  if (!r)
    return r.error();
  if (r->exit_status != 0)
    return make_error(errc::fatal,
                      "ssh: cannot remove " + home + " on " + session->label()
                        + ": " + r->err,
                      "remove it by hand");
  return {};
}

std::map<std::string, std::string> ssh_provider::run_pending_cleanups() {
  std::map<std::string, std::string> problems;
  auto all = store_.load_cleanups();
  if (!all || all->empty())
    return problems;
  std::vector<pending_cleanup> left;
  for (const auto& c : *all) {
    if (problems.count(c.host.key())) {
      left.push_back(c);
      continue;
    }
    if (auto ok = cleanup_node(c.host, c.home); !ok) {
      problems[c.host.key()] = "has a leftover node directory " + c.home
                               + " that could not be removed yet ("
                               + describe(ok.error()).message + ")";
      left.push_back(c);
    }
  }
  if (left.size() != all->size())
    store_.save_cleanups(left);
  return problems;
}

void ssh_provider::forget_probe(const pool_host& h) {
  std::lock_guard guard{probes_mu_};
  probes_.erase(h.key());
}

result<stored_cluster>
ssh_provider::choose_hosts(const provision_request& req, const node_pool& pool,
                           const std::vector<result<probe_result>>& probes,
                           const std::map<std::string, std::string>& held,
                           const std::map<std::string, std::string>& problems) {
  std::vector<host_view> views;
  for (size_t i = 0; i < pool.hosts.size(); ++i) {
    const auto& h = pool.hosts[i];
    host_view v;
    v.key = h.key();
    if (auto it = held.find(v.key); it != held.end())
      v.taken_by = it->second;
    if (probes[i])
      v.resources = resources_of(*probes[i]);
    else
      v.problem = describe(probes[i].error()).message;
    if (auto it = problems.find(v.key); it != problems.end())
      v.problem = it->second;
    views.push_back(std::move(v));
  }
  auto chosen = select_hosts(pool.name, views, req.per_node, req.num_nodes);
  if (!chosen)
    return chosen.error();
  stored_cluster c;
  c.cluster = req.cluster;
  c.pool = pool.name;
  c.created_at_ms = local_detail::now_unix_ms();
  for (uint32_t rank = 0; rank < chosen->size(); ++rank) {
    auto i = (*chosen)[rank];
    c.nodes.push_back(stored_node{rank, pool.hosts[i],
                                  node_home(probes[i]->home, c.cluster, rank)});
  }
  return c;
}

std::optional<std::pair<pool_host, caf::error>>
ssh_provider::prepare_nodes(const stored_cluster& c) {
  for (const auto& n : c.nodes) {
    auto session = session_for(n.host);
    auto r = session->exec(bash_command(prepare_node_script(), {n.home}));
    if (!r)
      return std::make_pair(n.host, r.error());
    if (r->exit_status != 0)
      return std::make_pair(
        n.host, make_error(errc::fatal,
                           "ssh: cannot create " + n.home + " on "
                             + session->label() + ": " + r->err,
                           "check permissions and free space on the host"));
  }
  return std::nullopt;
}

result<cluster_record>
ssh_provider::run_instances(const provision_request& req) {
  if (auto ok = validate_cluster_name(req.cluster); !ok)
    return ok.error();
  if (req.num_nodes == 0)
    return ssh_error(errc::invalid_argument,
                     "ssh: cluster '" + req.cluster + "' asks for 0 nodes",
                     "ask for at least one node");
  if (req.use_spot)
    return ssh_error(errc::unsupported,
                     "ssh: spot instances do not exist on SSH pools",
                     "drop use_spot, or run the task on a cloud");
  if (auto ok = local_detail::validate_resources(req.per_node); !ok)
    return ok.error();
  auto pool = pool_for(req.region);
  if (!pool)
    return pool.error();
  // Probes are network calls: made before taking the locks (cached).
  auto probes = probe_all((*pool)->hosts, false);

  std::lock_guard guard{mu_};
  auto flock = store_.lock();
  if (!flock)
    return flock.error();
  auto loaded = store_.load(req.cluster);
  if (!loaded)
    return loaded.error();
  auto key = req.idempotency_key();
  // Who holds what and which hosts still await a cleanup: once, so that
  // a second selection below differs from the first only by the hosts
  // found gone.
  std::map<std::string, std::string> held, problems;
  if (!*loaded) {
    auto h = holders(req.cluster);
    if (!h)
      return h.error();
    held = std::move(*h);
    problems = run_pending_cleanups();
  }
  // Hosts that stopped answering while this call prepared them: probes are
  // cached, so a host that died since its probe is chosen once; it is then
  // passed over (the hosts before it keep their ranks: selection is in pool
  // order) instead of failing the whole pool.
  while (true) {
    stored_cluster c;
    const bool retaken = static_cast<bool>(*loaded);
    if (retaken) {
      c = **loaded;
      if (c.idempotency_key != key && c.state == instance_state::running)
        return ssh_error(errc::already_exists,
                         "ssh: cluster '" + req.cluster
                           + "' is already running (provisioned by attempt '"
                           + c.idempotency_key + "', this is '" + key + "')",
                         "use it (skyctl exec " + req.cluster
                           + "), or tear it down first (skyctl down "
                           + req.cluster + ")");
      if (c.nodes.size() != req.num_nodes || c.pool != (*pool)->name)
        return ssh_error(
          errc::invalid_argument,
          "ssh: cluster '" + req.cluster + "' holds "
            + std::to_string(c.nodes.size()) + " host(s) of pool '" + c.pool
            + "'; the request asks for " + std::to_string(req.num_nodes)
            + " of '" + (*pool)->name + "'",
          "tear the cluster down first (skyctl down " + req.cluster + ")");
      // Same attempt repeated, or a crashed attempt taken over: the same
      // hosts, directories made again (idempotent).
    } else {
      auto chosen = choose_hosts(req, **pool, probes, held, problems);
      if (!chosen)
        return chosen.error();
      c = std::move(*chosen);
    }
    c.idempotency_key = key;
    c.per_node = req.per_node;
    c.instance_type = req.instance_type;
    c.labels = req.labels;
    c.updated_at_ms = local_detail::now_unix_ms();
    // Reserve first (pending), then make the directories: a crash in
    // between leaves a record that a retry finishes or terminate removes,
    // never directories on hosts that nothing accounts for.
    if (c.state != instance_state::running) {
      c.state = instance_state::pending;
      if (auto ok = store_.save(c); !ok)
        return ok.error();
    }
    auto failed = prepare_nodes(c);
    if (!failed) {
      c.state = instance_state::running;
      if (auto ok = store_.save(c); !ok)
        return ok.error();
      events_->forget(c.cluster);
      return to_record(c);
    }
    auto info = describe(failed->second);
    if (retaken || info.code != errc::transient)
      return ssh_error(info.code == errc::auth ? errc::auth : errc::transient,
                       info.message, info.hint);
    problems[failed->first.key()]
      = "not answering over SSH (" + info.message + ")";
    forget_probe(failed->first);
  }
}

result<cluster_record> ssh_provider::wait_instances(const std::string& cluster,
                                                    instance_state target,
                                                    std::chrono::milliseconds) {
  auto rec = query_instances(cluster);
  if (!rec) {
    if (target == instance_state::terminated
        && describe(rec.error()).code == errc::not_found) {
      cluster_record gone;
      gone.provider = "ssh";
      gone.cluster = cluster;
      return gone;
    }
    return rec.error();
  }
  // Hosts exist already: run_instances returns with the cluster running,
  // so there is nothing to wait for.
  for (const auto& i : rec->instances)
    if (i.state != target)
      return make_error(errc::conflict,
                        "ssh: cluster '" + cluster + "' is "
                          + std::string{to_string(i.state)} + ", not "
                          + std::string{to_string(target)},
                        "SSH nodes change state at once: launch or tear the "
                        "cluster down instead of waiting");
  return rec;
}

result<cluster_record>
ssh_provider::query_instances(const std::string& cluster) {
  if (auto ok = validate_cluster_name(cluster); !ok)
    return ok.error();
  auto loaded = store_.load(cluster);
  if (!loaded)
    return loaded.error();
  if (!*loaded)
    return no_cluster(cluster);
  return to_record(**loaded);
}

result<std::vector<cluster_record>> ssh_provider::list_clusters() {
  auto all = store_.load_all();
  if (!all)
    return all.error();
  std::vector<cluster_record> out;
  for (const auto& c : *all)
    out.push_back(to_record(c));
  return out;
}

result<void> ssh_provider::stop_instances(const std::string& cluster) {
  return ssh_error(errc::unsupported,
                   "ssh: cluster '" + cluster
                     + "' cannot be stopped: SSH pool hosts are machines "
                       "skyd does not own, so there is nothing to power off",
                   "tear it down to release the hosts (skyctl down " + cluster
                     + ")");
}

result<void> ssh_provider::terminate_instances(const std::string& cluster) {
  if (auto ok = validate_cluster_name(cluster); !ok)
    return ok.error();
  std::optional<stored_cluster> c;
  {
    std::lock_guard guard{mu_};
    auto loaded = store_.load(cluster);
    if (!loaded)
      return loaded.error();
    if (!*loaded)
      return {}; // idempotent
    c = std::move(**loaded);
  }
  // Hosts in parallel, without the locks: each waits up to the grace
  // period, and other clusters must not wait for it.
  std::vector<std::future<result<void>>> futures;
  for (const auto& n : c->nodes)
    futures.push_back(std::async(
      std::launch::async, [this, n] { return cleanup_node(n.host, n.home); }));
  std::vector<pending_cleanup> failed;
  for (size_t i = 0; i < futures.size(); ++i)
    if (!futures[i].get())
      failed.push_back({c->nodes[i].host, c->nodes[i].home});
  std::lock_guard guard{mu_};
  auto flock = store_.lock();
  if (!flock)
    return flock.error();
  if (!failed.empty()) {
    // A host that is down keeps the directory until it answers again; it
    // is cleaned before it is given to another cluster.
    auto pending = store_.load_cleanups();
    if (!pending)
      return pending.error();
    pending->insert(pending->end(), failed.begin(), failed.end());
    if (auto ok = store_.save_cleanups(*pending); !ok)
      return ok.error();
  }
  if (auto ok = store_.remove(cluster); !ok)
    return ok.error();
  events_->forget(cluster);
  return {};
}

result<std::unique_ptr<node_channel>>
ssh_provider::open_channel(const cluster_record& cluster, uint32_t rank) {
  if (auto ok = validate_cluster_name(cluster.cluster); !ok)
    return ok.error();
  auto loaded = store_.load(cluster.cluster);
  if (!loaded)
    return loaded.error();
  if (!*loaded)
    return no_cluster(cluster.cluster);
  const auto& c = **loaded;
  if (c.state != instance_state::running)
    return make_error(errc::conflict,
                      "ssh: cluster '" + c.cluster + "' is not running ("
                        + std::string{to_string(c.state)} + ")",
                      "launch it again to finish provisioning");
  if (rank >= c.nodes.size())
    return make_error(
      errc::not_found,
      "ssh: cluster '" + c.cluster + "' has " + std::to_string(c.nodes.size())
        + " node(s); there is no rank " + std::to_string(rank),
      "ranks go from 0 to " + std::to_string(c.nodes.size() - 1));
  const auto& node = c.nodes[rank];
  channel_settings cs;
  cs.home = node.home;
  cs.ip = node.host.ip;
  cs.loss_after = settings_.loss_after;
  auto hub = events_;
  cs.on_lost = [hub, name = c.cluster, rank](const std::string& reason) {
    hub->lost(name, rank, reason);
  };
  return std::unique_ptr<node_channel>{
    std::make_unique<ssh_node_channel>(session_for(node.host), std::move(cs))};
}

std::optional<std::vector<machine_capacity>> ssh_provider::capacity() {
  std::vector<machine_capacity> out;
  auto held = holders("");
  for (const auto& pool : settings_.pools.pools) {
    auto probes = probe_all(pool.hosts, false);
    for (size_t i = 0; i < pool.hosts.size(); ++i) {
      if (!probes[i])
        continue; // unreachable hosts offer nothing
      machine_capacity m;
      m.name = pool.name + "/" + pool.hosts[i].key();
      m.total = resources_of(*probes[i]);
      // Unreadable records: report nothing free rather than too much.
      bool free = held && !held->count(pool.hosts[i].key());
      m.free = free ? m.total : node_resources{};
      out.push_back(std::move(m));
    }
  }
  return out;
}

std::vector<machine_capacity>
ssh_provider::capacity_of(const std::string& pool) {
  std::vector<machine_capacity> out;
  auto prefix = pool + "/";
  for (auto& m : *capacity())
    if (m.name.rfind(prefix, 0) == 0)
      out.push_back(std::move(m));
  return out;
}

std::vector<ssh_host_report>
ssh_provider::check_hosts(const std::string& pool) {
  std::vector<ssh_host_report> out;
  std::vector<pool_host> hosts;
  for (const auto& p : settings_.pools.pools) {
    if (!pool.empty() && p.name != pool)
      continue;
    for (const auto& h : p.hosts) {
      ssh_host_report r;
      r.pool = p.name;
      r.host = h;
      out.push_back(std::move(r));
      hosts.push_back(h);
    }
  }
  auto probes = probe_all(hosts, true);
  auto held = holders("");
  for (size_t i = 0; i < out.size(); ++i) {
    if (probes[i]) {
      out[i].ok = true;
      out[i].probe = *probes[i];
      out[i].problem = probes[i]->gpu_problem;
    } else {
      out[i].problem = describe(probes[i].error()).message;
    }
    if (held)
      if (auto it = held->find(out[i].host.key()); it != held->end())
        out[i].held_by = it->second;
  }
  return out;
}

std::vector<machine_pool> ssh_provider::pools() const {
  std::vector<machine_pool> out;
  for (const auto& p : settings_.pools.pools) {
    machine_pool pool;
    pool.name = p.name;
    for (const auto& h : p.hosts)
      pool.machines.push_back(h.key());
    out.push_back(std::move(pool));
  }
  return out;
}

std::vector<machine_report> ssh_provider::check_pools() {
  std::vector<machine_report> out;
  for (auto& h : check_hosts()) {
    machine_report r;
    r.pool = std::move(h.pool);
    r.machine = h.host.key();
    r.ok = h.ok;
    r.problem = std::move(h.problem);
    r.resources = resources_of(h.probe);
    r.held_by = std::move(h.held_by);
    out.push_back(std::move(r));
  }
  return out;
}

result<std::vector<uint32_t>>
ssh_provider::check_nodes(const std::string& cluster) {
  auto loaded = store_.load(cluster);
  if (!loaded)
    return loaded.error();
  if (!*loaded)
    return no_cluster(cluster);
  std::vector<uint32_t> lost;
  for (const auto& n : (*loaded)->nodes) {
    auto session = session_for(n.host);
    auto r = session->exec("true");
    if (r)
      continue;
    auto down = session->unreachable_for();
    if (down && *down >= settings_.loss_after) {
      lost.push_back(n.rank);
      events_->lost(cluster, n.rank,
                    "host " + session->label() + " has not answered for "
                      + std::to_string(down->count() / 1000)
                      + " s: " + describe(r.error()).message);
    }
  }
  return lost;
}

result<std::unique_ptr<ssh_provider>> make_ssh_provider(ssh_settings settings) {
  if (settings.root.empty())
    return make_error(errc::invalid_argument,
                      "ssh: the state directory is not set",
                      "set it to $SKYD_HOME/ssh");
  const auto& rr = settings.remote_root;
  if (rr.empty() || (rr.front() != '/' && rr != "~" && rr.rfind("~/", 0) != 0))
    return make_error(errc::invalid_argument,
                      "ssh: the remote node directory '" + rr
                        + "' must be absolute or start with ~/",
                      "e.g. ~/.skyd-nodes");
  std::error_code ec;
  fs::create_directories(settings.root, ec);
  if (ec)
    return make_error(errc::fatal,
                      "ssh: cannot create " + settings.root.string() + ": "
                        + ec.message(),
                      "check permissions of SKYD_HOME");
  ::chmod(settings.root.c_str(), 0700);
  return std::make_unique<ssh_provider>(std::move(settings));
}

} // namespace sky::providers
