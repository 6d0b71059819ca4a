// Placement on fixed-capacity infra (this host now; SSH pools and Slurm
// clusters later): free, but only when the task's nodes fit in the free
// capacity the caller passes in.

#include <algorithm>
#include <cmath>
#include <limits>

#include "optimizer/placement/placement_internal.hpp"

namespace sky::optimizer::detail {

namespace {

/// What one task node takes from a machine.
struct node_need {
  double vcpus = 0;
  double memory_gib = 0;
  const task::accelerator_spec* acc = nullptr;
};

/// The GPU model on `node` that serves `acc` with the most free devices;
/// nullptr when none does.
const gpu_capacity* pick_gpu(const catalog& cat, const node_capacity& node,
                             const task::accelerator_spec& acc) {
  const gpu_capacity* best = nullptr;
  for (const auto& g : node.gpus) {
    bool ok = true;
    if (!acc.name.empty()) {
      ok = iequals(g.name, acc.name);
      if (!ok) {
        // Compare canonical names when the catalog knows both spellings.
        auto a = cat.canonical_accelerator(g.name);
        auto b = cat.canonical_accelerator(acc.name);
        ok = a && b && *a == *b;
      }
    }
    if (ok && acc.min_memory_gib) {
      auto id = cat.canonical_accelerator(g.name);
      std::optional<double> mem = g.memory_gib;
      if (!mem && id)
        mem = cat.device_memory_gib(*id);
      ok
        = mem
          && device_memory_matches(*mem, *acc.min_memory_gib, acc.memory_exact);
      if (ok && !acc.manufacturer.empty())
        ok = id && iequals(cat.manufacturer(*id), acc.manufacturer);
    }
    if (ok && (best == nullptr || g.count > best->count))
      best = &g;
  }
  return best;
}

/// How many task nodes fit on one machine: the tightest dimension.
size_t nodes_fitting(const catalog& cat, const node_capacity& node,
                     const node_need& need) {
  constexpr double slack = 1e-9;
  double fit = std::numeric_limits<double>::infinity();
  if (need.vcpus > 0)
    fit = std::floor(node.vcpus / need.vcpus + slack);
  if (need.memory_gib > 0)
    fit = std::min(fit, std::floor(node.memory_gib / need.memory_gib + slack));
  if (need.acc != nullptr) {
    const auto* g = pick_gpu(cat, node, *need.acc);
    fit = g == nullptr
            ? 0
            : std::min(fit, std::floor(g->count / need.acc->count + slack));
  }
  if (std::isinf(fit))
    return std::numeric_limits<size_t>::max() / 2;
  return fit <= 0 ? 0 : static_cast<size_t>(fit);
}

std::string amount(double v) {
  return v == 0 ? "none" : format_number(v);
}

/// How many of `n` task nodes fit on `nodes` (stops counting at n).
size_t nodes_fitting(const catalog& cat,
                     const std::vector<node_capacity>& nodes,
                     bool whole_machines, const node_need& need, size_t n) {
  size_t fits = 0;
  for (const auto& node : nodes) {
    auto k = nodes_fitting(cat, node, need);
    fits += whole_machines ? std::min<size_t>(k, 1) : k;
    if (fits >= n)
      break; // also keeps "unbounded" machines from overflowing the sum
  }
  return fits;
}

/// Why `n` whole machines of `nodes` (and `unavailable` ones) cannot be
/// had: machine by machine.
std::string whole_machines_refusal(const catalog& cat,
                                   const std::vector<node_capacity>& nodes,
                                   const std::vector<std::string>& unavailable,
                                   const node_need& need, size_t n,
                                   const std::string& fitting) {
  std::string asked;
  auto add = [](std::string& list, const std::string& item) {
    list += (list.empty() ? "" : ", ") + item;
  };
  if (need.vcpus > 0)
    add(asked, format_number(need.vcpus) + " vCPUs");
  if (need.memory_gib > 0)
    add(asked, format_number(need.memory_gib) + " GiB memory");
  if (need.acc != nullptr)
    add(asked, to_string(*need.acc));
  std::string why;
  size_t fit = 0;
  for (size_t i = 0; i < nodes.size(); ++i) {
    const auto& node = nodes[i];
    auto name
      = node.name.empty() ? "machine " + std::to_string(i + 1) : node.name;
    std::string short_of;
    if (need.vcpus > 0 && node.vcpus + 1e-9 < need.vcpus)
      add(short_of, "has " + amount(node.vcpus) + " vCPUs");
    if (need.memory_gib > 0 && node.memory_gib + 1e-9 < need.memory_gib)
      add(short_of, "has " + amount(node.memory_gib) + " GiB memory");
    if (need.acc != nullptr) {
      const auto* g = pick_gpu(cat, node, *need.acc);
      if (g == nullptr)
        add(short_of,
            "has no "
              + (need.acc->name.empty() ? "matching GPU" : need.acc->name));
      else if (g->count + 1e-9 < need.acc->count)
        add(short_of, "has " + format_number(g->count) + " " + g->name);
    }
    if (short_of.empty())
      ++fit;
    else
      add(why, name + " (" + short_of + ")");
  }
  for (const auto& u : unavailable)
    add(why, u);
  const auto total = nodes.size() + unavailable.size();
  return "needs " + std::to_string(n) + " whole host" + (n == 1 ? "" : "s")
         + (asked.empty() ? std::string{} : " with " + asked + " each") + ", "
         + std::to_string(fit) + " of " + std::to_string(total) + " " + fitting
         + (why.empty() ? std::string{} : ": " + why);
}

/// Which capacity a refusal speaks of: what is free now, or the machines'
/// whole capacity (the task can never fit).
enum class capacity_view { free, whole };

/// Why `n` task nodes do not fit on `nodes`.
std::string refusal(const catalog& cat, const std::vector<node_capacity>& nodes,
                    const std::vector<std::string>& unavailable,
                    bool whole_machines, const node_need& need, size_t n,
                    capacity_view view) {
  const std::string what = view == capacity_view::free ? "free" : "in all";
  if (whole_machines)
    return whole_machines_refusal(cat, nodes, unavailable, need, n,
                                  view == capacity_view::free ? "available"
                                                              : "suitable");
  // Name the dimension that does not fit, in totals over all machines.
  const double count = static_cast<double>(n);
  double vcpus = 0, memory = 0, gpus = 0;
  for (const auto& node : nodes) {
    vcpus += node.vcpus;
    memory += node.memory_gib;
    if (need.acc != nullptr)
      if (const auto* g = pick_gpu(cat, node, *need.acc))
        gpus += g->count;
  }
  if (need.vcpus * count > vcpus + 1e-9)
    return "needs " + format_number(need.vcpus * count) + " vCPUs, "
           + amount(vcpus) + " " + what;
  if (need.memory_gib * count > memory + 1e-9)
    return "needs " + format_number(need.memory_gib * count) + " GiB memory, "
           + amount(memory) + " " + what;
  if (need.acc != nullptr && need.acc->count * count > gpus + 1e-9) {
    task::accelerator_spec total = *need.acc;
    total.count = need.acc->count * count;
    return "needs " + to_string(total) + ", " + amount(gpus) + " " + what;
  }
  // The totals suffice but no machine has room for a whole node.
  return "room for " + std::to_string(nodes_fitting(cat, nodes, false, need, n))
         + " of " + std::to_string(n) + " nodes of " + format_number(need.vcpus)
         + " vCPUs, " + format_number(need.memory_gib) + " GiB memory"
         + (need.acc ? ", " + to_string(*need.acc) : std::string{}) + " ("
         + what + " capacity is split across machines)";
}
} // namespace

void place_on_fixed(const catalog& cat, const fixed_capacity_infra& infra,
                    const placement_request& req, const blocklist& blocked,
                    placement_output& out) {
  const auto& spec = *req.spec;
  const std::string label
    = infra.provider + (infra.name.empty() ? "" : "/" + infra.name);
  auto exclude = [&](exclusion_kind kind, std::string reason) {
    out.exclude(label, kind, label + ": " + reason, req.alternative);
  };
  if (spec.instance_type)
    return exclude(exclusion_kind::unsupported,
                   "has no instance types (asked for '" + *spec.instance_type
                     + "')");
  if (req.spot)
    return exclude(exclusion_kind::unsupported, "offers no spot capacity");
  if (auto k = blocked.find(infra.provider, infra.name, "", "")) {
    const auto& e = blocked.entries[*k];
    return out.exclude(label, exclusion_kind::blocked, block_reason(e),
                       req.alternative);
  }

  // A node takes what the task states and nothing else: a task without
  // resources reserves nothing on fixed-capacity infra (many small
  // clusters share a laptop), unlike on clouds, where a default shape is
  // chosen.
  node_need need;
  need.acc = req.accelerator();
  need.vcpus = spec.cpus ? spec.cpus->value : 0;
  if (spec.memory && spec.memory->mode == task::memory_spec::kind::per_cpu)
    need.memory_gib = spec.memory->value * need.vcpus;
  else if (spec.memory)
    need.memory_gib = spec.memory->value;

  const auto n = static_cast<size_t>(req.num_nodes);
  if (nodes_fitting(cat, infra.nodes, infra.whole_machines, need, n) >= n) {
    candidate c;
    c.cloud = infra.provider;
    c.region = infra.name;
    if (need.acc != nullptr) {
      // Name the model that serves the request (matters for `80GB+`).
      const gpu_capacity* g = nullptr;
      for (const auto& node : infra.nodes)
        if (nodes_fitting(cat, node, need) > 0)
          if ((g = pick_gpu(cat, node, *need.acc)) != nullptr)
            break;
      c.accelerator = g != nullptr ? g->name : need.acc->name;
      c.accelerator_count = need.acc->count;
    }
    // Unstated: nothing reserved, shown as unknown (NaN) rather than 0.
    c.vcpus = need.vcpus > 0 ? need.vcpus : std::nan("");
    c.memory_gib = need.memory_gib > 0 ? need.memory_gib : std::nan("");
    c.num_nodes = req.num_nodes;
    c.alternative = req.alternative;
    c.tier = req.tier;
    c.fixed_capacity = true;
    out.candidates.push_back(std::move(c));
    return;
  }

  // Would it fit if every machine were idle? If not, it never will.
  if (infra.whole
      && nodes_fitting(cat, *infra.whole, infra.whole_machines, need, n) < n)
    return exclude(exclusion_kind::no_match,
                   "can never run here: "
                     + refusal(cat, *infra.whole, {}, infra.whole_machines,
                               need, n, capacity_view::whole));
  exclude(exclusion_kind::no_free_capacity,
          refusal(cat, infra.nodes, infra.unavailable, infra.whole_machines,
                  need, n, capacity_view::free));
}

} // namespace sky::optimizer::detail
