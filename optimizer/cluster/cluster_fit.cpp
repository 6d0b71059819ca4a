#include "optimizer/cluster/cluster_fit.hpp"

#include "optimizer/placement/infra.hpp"
#include "optimizer/placement/resources.hpp"

namespace sky::optimizer {

namespace {

// What fits, or why not ("" = fits).
std::string misfit(const task::resources_spec& r, uint32_t nodes,
                   const placement_info& c) {
  if (nodes > c.num_nodes)
    return "task needs " + std::to_string(nodes) + " nodes";
  if (r.infra) {
    const auto& want = *r.infra;
    if (!want.provider.empty() && !iequals(want.provider, c.provider))
      return "task asks for infra " + want.provider;
    if (!want.region.empty() && !iequals(want.region, c.region))
      return "task asks for region " + want.region;
    if (!want.zone.empty() && !iequals(want.zone, c.zone))
      return "task asks for zone " + want.zone;
  }
  if (r.instance_type && !iequals(*r.instance_type, c.instance_type))
    return "task asks for instance type " + *r.instance_type;
  if (r.use_spot && *r.use_spot != c.use_spot)
    return *r.use_spot ? "task asks for spot" : "task asks for on-demand";
  // Per node: what the cluster's nodes offer. Fixed-capacity clusters that
  // reserved nothing offer whatever the host has, which only the provider
  // knows: then any size fits here and the job scheduler decides.
  double cpus = c.cpus > 0 ? c.cpus : c.reserved_cpus;
  double mem = c.memory_gib > 0 ? c.memory_gib : c.reserved_memory_gib;
  if (r.cpus && cpus > 0 && r.cpus->value > cpus + 1e-9)
    return "task needs " + format_number(r.cpus->value) + " vCPUs per node";
  if (r.memory && mem > 0) {
    double need = r.memory->value;
    if (r.memory->mode == task::memory_spec::kind::per_cpu)
      need *= r.cpus ? r.cpus->value : cpus;
    if (need > mem + 1e-9)
      return "task needs " + format_number(need) + " GiB of memory per node";
  }
  if (!r.accelerators.empty()) {
    const auto& acc = r.accelerators.front();
    double have = 0;
    if (!c.accelerator.empty()
        && (acc.name.empty() || iequals(acc.name, c.accelerator)))
      have = c.accelerator_count;
    for (const auto& [name, count] : c.reserved_gpus)
      if (acc.name.empty() || iequals(acc.name, name))
        have = std::max(have, count);
    bool fixed_unreserved = c.accelerator.empty() && c.reserved_gpus.empty()
                            && c.instance_type.empty();
    if (!fixed_unreserved && acc.count > have + 1e-9)
      return "task needs " + to_string(acc) + " per node";
  }
  return {};
}

} // namespace

result<void> fits_cluster(const task::task_spec& task,
                          const std::string& cluster_name,
                          const placement_info& cluster) {
  auto expanded = expand_resources(task.resources);
  if (!expanded)
    return expanded.error();
  uint32_t nodes = static_cast<uint32_t>(task.num_nodes.value_or(1));
  std::string first_reason;
  for (const auto& alt : expanded->alternatives) {
    auto why = misfit(alt, nodes, cluster);
    if (why.empty())
      return {};
    if (first_reason.empty())
      first_reason = why;
  }
  return make_error(errc::conflict,
                    first_reason + "; cluster '" + cluster_name + "' has "
                      + cluster.resources_text() + " on " + cluster.infra(),
                    "launch it on a new cluster (-c OTHER), or tear this one "
                    "down first (skyctl down "
                      + cluster_name + ")");
}

} // namespace sky::optimizer
