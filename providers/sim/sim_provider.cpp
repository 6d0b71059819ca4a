#include "providers/sim/sim_provider.hpp"

#include <algorithm>
#include <thread>

#include "providers/sim/sim_channels.hpp"
#include "providers/sim/sim_duration.hpp"

namespace sky::providers {

namespace {

bool all_in(const cluster_record& r, instance_state target) {
  return std::all_of(r.instances.begin(), r.instances.end(),
                     [&](const instance_info& i) { return i.state == target; });
}

const instance_info* first_in(const cluster_record& r, instance_state s) {
  for (const auto& i : r.instances)
    if (i.state == s)
      return &i;
  return nullptr;
}

std::string where(const cluster_record& r) {
  return sim::place_text(r.provider, r.region, r.zone) + " (simulated)";
}

caf::error not_ready(const cluster_record& r, std::string what,
                     std::string hint) {
  return provider_error(errc::transient, failure_scope::zone,
                        where(r) + ": cluster '" + r.cluster + "' "
                          + std::move(what),
                        std::move(hint));
}

/// Why waiting for `target` cannot succeed, or nullopt when it still can.
std::optional<caf::error> hopeless(const sim_wait_view& v,
                                   instance_state target) {
  const auto& r = v.record;
  if (target == instance_state::running && v.busy)
    return make_error(errc::conflict,
                      where(r) + ": cluster '" + r.cluster
                        + "' is being stopped or torn down, it will not "
                          "become running",
                      "start it again once it is stopped (skyctl start "
                        + r.cluster + ")");
  if (target == instance_state::running) {
    if (const auto* gone = first_in(r, instance_state::terminated))
      return provider_error(errc::no_capacity, failure_scope::zone,
                            where(r) + ": instance " + gone->id
                              + " of cluster '" + r.cluster
                              + "' was preempted before the cluster was up",
                            "failover tries elsewhere");
    if (first_in(r, instance_state::stopped) != nullptr)
      return make_error(errc::conflict,
                        where(r) + ": cluster '" + r.cluster
                          + "' is stopped, it will not become running",
                        "start it (skyctl start " + r.cluster + ")");
    return std::nullopt;
  }
  if (v.busy)
    return std::nullopt;
  const auto& state
    = r.instances.empty() ? instance_state::pending : r.instances.front().state;
  return make_error(errc::conflict,
                    where(r) + ": cluster '" + r.cluster + "' is "
                      + std::string{to_string(state)} + ", not "
                      + std::string{to_string(target)},
                    "simulated instances stop and terminate at once: stop or "
                    "tear the cluster down instead of waiting");
}

} // namespace

sim_provider::sim_provider(std::shared_ptr<sim_world> world, std::string cloud)
  : world_(std::move(world)), cloud_(std::move(cloud)) {}

sim_provider::~sim_provider() {
  world_->set_event_sink(cloud_, {});
}

void sim_provider::set_event_sink(std::function<void(provider_event)> sink) {
  world_->set_event_sink(cloud_, std::move(sink));
}

const std::string& sim_provider::name() const {
  return cloud_;
}

feature_set sim_provider::features() const {
  feature_set f;
  f.stop = true;
  f.spot = true;
  f.multi_node = true;
  f.open_ports = true;
  f.gpus = true;
  return f;
}

result<cluster_record>
sim_provider::run_instances(const provision_request& req) {
  return world_->run_instances(cloud_, req);
}

result<cluster_record>
sim_provider::wait_instances(const std::string& cluster, instance_state target,
                             std::chrono::milliseconds timeout) {
  const auto& settings = world_->settings();
  const auto deadline = std::chrono::steady_clock::now() + timeout;
  while (true) {
    auto v = world_->wait_view(cloud_, cluster);
    if (!v) {
      if (target == instance_state::terminated
          && describe(v.error()).code == errc::not_found) {
        cluster_record gone;
        gone.provider = cloud_;
        gone.cluster = cluster;
        return gone;
      }
      return v.error();
    }
    if (all_in(v->record, target))
      return v->record;
    if (auto err = hopeless(*v, target))
      return *err;
    const bool pending = target == instance_state::running;
    if (settings.virtual_time) {
      // Never sleep: say until when, and let the caller move its clock.
      if (!pending)
        return not_ready(v->record, "is being stopped or torn down",
                         "ask again when that has finished");
      if (v->never_ready) {
        auto gives_up = v->launched_at_ms + timeout.count();
        if (v->now_ms >= gives_up)
          return not_ready(v->record,
                           "did not become ready within "
                             + sim::format_duration_ms(timeout.count())
                             + " (the scenario makes it never ready)",
                           "failover tries elsewhere");
        return not_ready(v->record,
                         "is not ready (it never will be: the scenario "
                         "says so); the wait times out at "
                           + std::to_string(gives_up) + " (sim time)",
                         "advance the clock past the timeout, then wait "
                         "again");
      }
      auto until = v->ready_at_ms.value_or(v->now_ms);
      return not_ready(
        v->record,
        "is not ready until " + std::to_string(until) + " (sim time, "
          + sim::format_duration_ms(until - v->now_ms) + " from now)",
        "advance the clock to " + std::to_string(until)
          + " (sim_provider::ready_at) and wait again");
    }
    auto now = std::chrono::steady_clock::now();
    if (now >= deadline)
      return not_ready(
        v->record,
        "did not become " + std::string{pending ? "ready" : to_string(target)}
          + " within " + sim::format_duration_ms(timeout.count())
          + (v->never_ready ? " (the scenario makes it never ready)" : ""),
        "failover tries elsewhere");
    auto step = std::min<std::chrono::steady_clock::duration>(
      settings.wait_step, deadline - now);
    if (pending && v->ready_at_ms && *v->ready_at_ms > v->now_ms)
      step = std::min<std::chrono::steady_clock::duration>(
        step, std::chrono::milliseconds(*v->ready_at_ms - v->now_ms));
    std::this_thread::sleep_for(std::max<std::chrono::steady_clock::duration>(
      step, std::chrono::milliseconds(1)));
  }
}

result<cluster_record>
sim_provider::query_instances(const std::string& cluster) {
  return world_->query(cloud_, cluster);
}

result<std::vector<cluster_record>> sim_provider::list_clusters() {
  return world_->list(cloud_);
}

result<void> sim_provider::stop_instances(const std::string& cluster) {
  return world_->stop(cloud_, cluster);
}

result<void> sim_provider::terminate_instances(const std::string& cluster) {
  return world_->terminate(cloud_, cluster);
}

result<std::unique_ptr<node_channel>>
sim_provider::open_channel(const cluster_record& cluster, uint32_t rank) {
  auto node = world_->node(cloud_, cluster.cluster, rank);
  if (!node)
    return node.error();
  if (world_->settings().mode == sim_node_mode::real)
    return std::unique_ptr<node_channel>{
      std::make_unique<sim_real_channel>(world_, std::move(*node))};
  return std::unique_ptr<node_channel>{
    std::make_unique<sim_virtual_channel>(world_, std::move(*node))};
}

std::optional<std::vector<machine_capacity>> sim_provider::capacity() {
  return std::nullopt;
}

std::optional<int64_t> sim_provider::next_preemption_at() {
  return world_->next_preemption_at(cloud_);
}

std::optional<int64_t> sim_provider::ready_at(const std::string& cluster) {
  auto v = world_->wait_view(cloud_, cluster);
  if (!v)
    return std::nullopt;
  return v->ready_at_ms;
}

std::vector<std::shared_ptr<sim_provider>>
make_sim_providers(const std::shared_ptr<sim_world>& world) {
  std::vector<std::shared_ptr<sim_provider>> out;
  for (const auto& cloud : world->clouds())
    out.push_back(std::make_shared<sim_provider>(world, cloud));
  return out;
}

} // namespace sky::providers
