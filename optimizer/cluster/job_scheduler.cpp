// The job scheduler of a cluster: first in, first out, with conservative
// backfill that needs no runtime estimates. See job_scheduler.hpp for the
// rules and docs/JOBS.md for what users read.

#include "optimizer/cluster/job_scheduler.hpp"

#include <algorithm>
#include <cctype>
#include <cmath>
#include <cstdio>
#include <numeric>
#include <optional>

namespace sky::optimizer {

namespace {

// Demands are sums of user-written decimals (0.1 + 0.2 ...): compare with a
// tolerance far below any share a user writes, far above rounding noise.
constexpr double eps = 1e-9;

bool iequals(std::string_view a, std::string_view b) {
  return a.size() == b.size()
         && std::equal(a.begin(), a.end(), b.begin(), [](char x, char y) {
              return std::tolower(static_cast<unsigned char>(x))
                     == std::tolower(static_cast<unsigned char>(y));
            });
}

// "8", "0.5", "0.333333": as short as the value allows, for messages.
std::string number_text(double v) {
  char buf[32];
  std::snprintf(buf, sizeof(buf), "%.6g", v);
  return buf;
}

std::string plural(double v, std::string_view one, std::string_view many) {
  return number_text(v) + " " + std::string(std::abs(v - 1) < eps ? one : many);
}

bool whole_number(double v) {
  return std::abs(v - std::round(v)) <= eps;
}

bool tracks_memory(const node_shape& node) {
  return node.memory_gib > 0;
}

// What one job takes on each of its nodes, with the shape's rules applied
// (untracked memory dropped, GPUs split into whole devices or one share).
struct demand {
  uint32_t nodes = 1;
  double cpus = 0;
  double memory_gib = 0;
  uint32_t whole_devices = 0;
  double device_share = 0; // > 0 only for a fractional GPU (< 1)

  friend bool operator==(const demand&, const demand&) = default;
};

demand demand_of(const node_shape& node, const job_request& job) {
  demand d;
  d.nodes = job.nodes;
  d.cpus = job.cpus;
  d.memory_gib = tracks_memory(node) ? job.memory_gib : 0;
  if (job.gpus >= 1)
    d.whole_devices = static_cast<uint32_t>(std::llround(job.gpus));
  else if (job.gpus > 0)
    d.device_share = job.gpus;
  return d;
}

struct node_load {
  double cpus = 0;
  double memory_gib = 0;
  std::vector<double> device_used; // share held, 0..1 per device
};

// Load of every node of a cluster. Placement decisions are made against it;
// the backfill check keeps one per waiting job, holding only the jobs
// submitted after that job.
class cluster_load {
public:
  cluster_load(const node_shape& shape, uint32_t nodes)
    : shape_(&shape),
      nodes_(nodes, node_load{0, 0, std::vector<double>(shape.gpu_devices)}) {}

  // Out-of-range ranks or devices cannot hold load on this cluster; they
  // are skipped rather than trusted.
  void add(const job_request& job, const job_placement& where) {
    for (size_t i = 0; i < where.ranks.size(); ++i) {
      if (where.ranks[i] >= nodes_.size())
        continue;
      auto& n = nodes_[where.ranks[i]];
      n.cpus += job.cpus;
      n.memory_gib += job.memory_gib;
      if (i >= where.devices.size())
        continue;
      for (auto dev : where.devices[i])
        if (dev < n.device_used.size())
          n.device_used[dev] += where.device_share;
    }
  }

  bool node_fits(const node_load& n, const demand& d) const {
    if (n.cpus + d.cpus > shape_->cpus + eps)
      return false;
    if (tracks_memory(*shape_)
        && n.memory_gib + d.memory_gib > shape_->memory_gib + eps)
      return false;
    if (d.whole_devices > 0) {
      auto free = std::count_if(n.device_used.begin(), n.device_used.end(),
                                [](double u) { return u <= eps; });
      return static_cast<uint32_t>(free) >= d.whole_devices;
    }
    if (d.device_share > 0)
      return std::any_of(
        n.device_used.begin(), n.device_used.end(),
        [&](double u) { return u + d.device_share <= 1 + eps; });
    return true;
  }

  // The job's placement on this load: lowest ranks first, whole devices
  // lowest first, a share packed onto the fullest device that still has
  // room (so shares do not fragment free devices), else the lowest free.
  std::optional<job_placement> place(uint64_t id, const demand& d) const {
    job_placement p;
    p.id = id;
    p.device_share = d.whole_devices > 0 ? 1.0 : d.device_share;
    for (uint32_t r = 0; r < nodes_.size() && p.ranks.size() < d.nodes; ++r) {
      const auto& n = nodes_[r];
      if (!node_fits(n, d))
        continue;
      p.ranks.push_back(r);
      p.devices.push_back(pick_devices(n, d));
    }
    if (p.ranks.size() < d.nodes)
      return std::nullopt;
    return p;
  }

  // Would `d` fit if `job` were also placed at `where`? Only the nodes of
  // `where` change, so the rest are tested as they are.
  bool fits_with(const demand& d, const job_request& job,
                 const job_placement& where) const {
    uint32_t fitting = 0;
    for (uint32_t r = 0; r < nodes_.size() && fitting < d.nodes; ++r) {
      auto it = std::find(where.ranks.begin(), where.ranks.end(), r);
      if (it == where.ranks.end()) {
        fitting += node_fits(nodes_[r], d) ? 1 : 0;
        continue;
      }
      node_load n = nodes_[r];
      n.cpus += job.cpus;
      n.memory_gib += job.memory_gib;
      auto i = static_cast<size_t>(it - where.ranks.begin());
      if (i < where.devices.size())
        for (auto dev : where.devices[i])
          if (dev < n.device_used.size())
            n.device_used[dev] += where.device_share;
      fitting += node_fits(n, d) ? 1 : 0;
    }
    return fitting >= d.nodes;
  }

  const std::vector<node_load>& nodes() const { return nodes_; }

private:
  static std::vector<uint32_t> pick_devices(const node_load& n,
                                            const demand& d) {
    std::vector<uint32_t> out;
    const auto count = static_cast<uint32_t>(n.device_used.size());
    if (d.whole_devices > 0) {
      for (uint32_t i = 0; i < count && out.size() < d.whole_devices; ++i)
        if (n.device_used[i] <= eps)
          out.push_back(i);
      return out;
    }
    if (d.device_share <= 0)
      return out;
    std::optional<uint32_t> shared;
    std::optional<uint32_t> free;
    for (uint32_t i = 0; i < count; ++i) {
      const double u = n.device_used[i];
      if (u + d.device_share > 1 + eps)
        continue;
      if (u <= eps) {
        if (!free)
          free = i;
      } else if (!shared || u > n.device_used[*shared] + eps) {
        // Strictly fuller beyond the tolerance: equal loads keep the lowest
        // index, whatever order the shares were summed in.
        shared = i;
      }
    }
    if (shared)
      out.push_back(*shared);
    else if (free)
      out.push_back(*free);
    return out;
  }

  const node_shape* shape_;
  std::vector<node_load> nodes_;
};

// Running jobs by id, so that loads are summed in one order whatever order
// the caller keeps them in.
std::vector<const running_job*> by_id(const std::vector<running_job>& jobs) {
  std::vector<const running_job*> out;
  out.reserve(jobs.size());
  for (const auto& j : jobs)
    out.push_back(&j);
  std::stable_sort(out.begin(), out.end(), [](const auto* a, const auto* b) {
    return a->request.id < b->request.id;
  });
  return out;
}

caf::error invalid(std::string message, std::string hint = {}) {
  return sky::make_error(errc::invalid_argument, std::move(message),
                         std::move(hint));
}

caf::error too_big(std::string message, std::string hint) {
  return sky::make_error(errc::conflict, std::move(message), std::move(hint));
}

bool valid_amount(double v) {
  return std::isfinite(v) && v >= 0;
}

} // namespace

result<void> check_job_fits(const node_shape& node, uint32_t cluster_nodes,
                            const job_request& job) {
  // The cluster's shape first: a bad shape is the caller's bug, and no
  // message about the job would make sense against it.
  if (!std::isfinite(node.cpus) || node.cpus <= 0)
    return invalid("the cluster's nodes have no known vCPU count ("
                     + number_text(node.cpus) + ")",
                   "skyd must know the node shape to schedule jobs");
  if (!valid_amount(node.memory_gib))
    return invalid("the cluster's node memory is not a size: "
                   + number_text(node.memory_gib));
  if (cluster_nodes == 0)
    return invalid("the cluster has no nodes");
  if (job.nodes == 0)
    return invalid("job needs at least 1 node");
  if (!valid_amount(job.cpus))
    return invalid("job's vCPUs must be a number >= 0: "
                   + number_text(job.cpus));
  if (!valid_amount(job.memory_gib))
    return invalid("job's memory must be a number >= 0: "
                   + number_text(job.memory_gib));
  if (!valid_amount(job.gpus))
    return invalid("job's GPU count must be a number >= 0: "
                   + number_text(job.gpus));
  if (job.gpus > 0 && job.gpu.empty())
    return invalid("job asks for " + plural(job.gpus, "GPU", "GPUs")
                   + " without naming the accelerator");
  if (job.gpus == 0 && !job.gpu.empty())
    return invalid(
      "job names accelerator " + job.gpu + " but asks for 0 of them",
      "write " + job.gpu + ":1, or a share like " + job.gpu + ":0.5");
  if (job.gpus >= 1 && !whole_number(job.gpus))
    return invalid("fractional GPUs must be < 1 or whole: "
                     + number_text(job.gpus),
                   "ask for a share of one device (" + job.gpu
                     + ":0.5) or whole devices (" + job.gpu + ":2)");

  if (job.nodes > cluster_nodes)
    return too_big("job needs " + plural(job.nodes, "node", "nodes")
                     + ", the cluster has " + number_text(cluster_nodes),
                   "run it on a cluster launched with num_nodes: "
                     + number_text(job.nodes) + " or more");
  const std::string bigger = "run it on a cluster with larger nodes, or ask "
                             "for less";
  if (job.cpus > node.cpus + eps)
    return too_big("job needs " + plural(job.cpus, "vCPU", "vCPUs")
                     + " per node, the cluster's nodes have "
                     + number_text(node.cpus),
                   bigger);
  if (tracks_memory(node) && job.memory_gib > node.memory_gib + eps)
    return too_big("job needs " + number_text(job.memory_gib)
                     + " GiB of memory per node, the cluster's nodes have "
                     + number_text(node.memory_gib) + " GiB",
                   bigger);
  if (job.gpus > 0) {
    const std::string wanted
      = "job needs " + job.gpu + ":" + number_text(job.gpus) + " per node";
    if (node.gpu.empty() || node.gpu_devices == 0)
      return too_big(wanted + ", the cluster's nodes have no accelerators",
                     "run it on a cluster launched with accelerators: "
                       + job.gpu);
    if (!iequals(node.gpu, job.gpu))
      return too_big(wanted + ", the cluster's nodes have "
                       + number_text(node.gpu_devices) + " " + node.gpu,
                     "ask for " + node.gpu + ", or run it on a cluster with "
                       + job.gpu);
    if (job.gpus > node.gpu_devices + eps)
      return too_big(wanted + ", the cluster's nodes have "
                       + number_text(node.gpu_devices) + " " + node.gpu,
                     bigger);
  }
  return {};
}

schedule_decision schedule_jobs(const node_shape& node, uint32_t cluster_nodes,
                                const std::vector<running_job>& running,
                                const std::vector<job_request>& pending) {
  schedule_decision out;
  const auto running_sorted = by_id(running);
  cluster_load now(node, cluster_nodes);
  for (const auto* r : running_sorted)
    now.add(r->request, r->placement);

  std::vector<size_t> order(pending.size());
  std::iota(order.begin(), order.end(), size_t{0});
  std::stable_sort(order.begin(), order.end(), [&](size_t a, size_t b) {
    return pending[a].id < pending[b].id;
  });

  // One guard per waiting job: the cluster as it would be with only the jobs
  // submitted after it, running now or started in this decision. A later job
  // starts only if every guarded job still fits next to it there. Waiting
  // jobs with equal demands share the guard of the earliest: its load holds
  // every job a later twin's would, so if the earliest fits, the twin does.
  struct guard {
    demand wants;
    cluster_load load;
  };
  std::vector<guard> guards;

  for (size_t idx : order) {
    const auto& job = pending[idx];
    if (!check_job_fits(node, cluster_nodes, job)) {
      out.never_fit.push_back(job.id);
      continue;
    }
    const auto wants = demand_of(node, job);
    auto where = now.place(job.id, wants);
    const bool allowed
      = where && std::all_of(guards.begin(), guards.end(), [&](const guard& g) {
          return g.load.fits_with(g.wants, job, *where);
        });
    if (allowed) {
      now.add(job, *where);
      for (auto& g : guards)
        g.load.add(job, *where);
      out.start.push_back(std::move(*where));
      continue;
    }
    if (std::any_of(guards.begin(), guards.end(),
                    [&](const guard& g) { return g.wants == wants; }))
      continue;
    // Jobs started so far in this decision were all submitted before this
    // one, so only running jobs can be later than it.
    cluster_load later(node, cluster_nodes);
    for (const auto* r : running_sorted)
      if (r->request.id > job.id)
        later.add(r->request, r->placement);
    guards.push_back({wants, std::move(later)});
  }
  return out;
}

std::string cuda_visible_devices(const job_placement& placement,
                                 size_t rank_index) {
  std::string out;
  if (rank_index >= placement.devices.size())
    return out;
  for (auto dev : placement.devices[rank_index]) {
    if (!out.empty())
      out += ',';
    out += std::to_string(dev);
  }
  return out;
}

std::vector<node_usage> usage(const node_shape& node, uint32_t cluster_nodes,
                              const std::vector<running_job>& running) {
  const auto sorted = by_id(running);
  cluster_load load(node, cluster_nodes);
  for (const auto* r : sorted)
    load.add(r->request, r->placement);

  std::vector<node_usage> out(cluster_nodes);
  for (uint32_t r = 0; r < cluster_nodes; ++r) {
    const auto& n = load.nodes()[r];
    auto& u = out[r];
    u.rank = r;
    u.cpus_free = node.cpus - n.cpus;
    u.memory_gib_free
      = tracks_memory(node) ? node.memory_gib - n.memory_gib : 0;
    u.device_free.reserve(n.device_used.size());
    for (double used : n.device_used)
      u.device_free.push_back(1 - used);
  }
  for (const auto* r : sorted)
    for (auto rank : r->placement.ranks)
      if (rank < cluster_nodes
          && (out[rank].jobs.empty() || out[rank].jobs.back() != r->request.id))
        out[rank].jobs.push_back(r->request.id);
  return out;
}

} // namespace sky::optimizer
