#include "actors/core/planner.hpp"

#include <algorithm>
#include <cmath>

#include "actors/core/logging.hpp"
#include "optimizer/placement/show_gpus.hpp"

namespace sky::actors {

namespace {

using self_ptr = caf::stateful_actor<planner_state>*;

optimizer::node_capacity node_of(const std::string& name,
                                 const providers::node_resources& r) {
  optimizer::node_capacity node;
  node.name = name;
  node.vcpus = r.cpus;
  node.memory_gib = r.memory_gib;
  for (const auto& [gpu, count] : r.gpus)
    node.gpus.push_back({gpu, count, std::nullopt});
  return node;
}

// One fixed-capacity infra per pool (`ssh/<pool>`): a node is a whole
// machine. Held machines and machines that do not answer take no node;
// refusals name them. Probing is cached by the provider (this actor runs
// detached).
void add_pools(providers::provider& p, optimizer::enabled_infra& infra) {
  auto pools = p.pools();
  if (pools.empty())
    return;
  auto machines
    = p.capacity().value_or(std::vector<providers::machine_capacity>{});
  for (const auto& pool : pools) {
    optimizer::fixed_capacity_infra fixed;
    fixed.provider = p.name();
    fixed.name = pool.name;
    fixed.whole_machines = true;
    // A machine that does not answer may have what the task needs: the
    // whole-pool check is only made when every machine's shape is known.
    fixed.whole.emplace();
    for (const auto& host : pool.machines) {
      auto full = pool.name + "/" + host;
      auto m = std::find_if(machines.begin(), machines.end(),
                            [&](const auto& c) { return c.name == full; });
      if (m == machines.end()) {
        fixed.unavailable.push_back(host + " (not answering over SSH)");
        fixed.whole.reset();
        continue;
      }
      if (fixed.whole)
        fixed.whole->push_back(node_of(host, m->total));
      if (m->free.cpus <= 0 && m->total.cpus > 0)
        fixed.unavailable.push_back(host + " (held by a cluster)");
      else
        fixed.nodes.push_back(node_of(host, m->free));
    }
    infra.fixed.push_back(std::move(fixed));
  }
}

// The enabled infra right now: configured clouds, and the free capacity of
// each fixed-capacity provider.
optimizer::enabled_infra current_infra(const planner_settings& s) {
  optimizer::enabled_infra infra;
  infra.clouds = s.clouds;
  for (const auto& p : s.fixed) {
    auto machines = p->capacity();
    if (!machines)
      continue;
    optimizer::fixed_capacity_infra fixed;
    fixed.provider = p->name();
    fixed.whole.emplace();
    for (const auto& m : *machines) {
      // Unnamed: refusals of `local` speak of this host, not a machine.
      fixed.nodes.push_back(node_of({}, m.free));
      fixed.whole->push_back(node_of({}, m.total));
    }
    infra.fixed.push_back(std::move(fixed));
  }
  for (const auto& p : s.pooled)
    add_pools(*p, infra);
  return infra;
}

protocol::candidate_row to_row(const optimizer::candidate& c, bool chosen) {
  protocol::candidate_row row;
  row.cloud = c.cloud;
  row.region = c.region;
  row.zone = c.zone;
  row.instance_type = c.instance_type;
  if (!c.accelerator.empty())
    row.accelerators
      = c.accelerator + ":" + optimizer::format_number(c.accelerator_count);
  row.cpus = c.vcpus;
  row.memory_gib = c.memory_gib;
  row.use_spot = c.use_spot;
  row.num_nodes = static_cast<uint32_t>(c.num_nodes);
  row.hourly_price = c.hourly_price;
  row.chosen = chosen;
  return row;
}

protocol::show_gpus_reply list_gpus(const planner_settings& s,
                                    const protocol::show_gpus_request& req,
                                    caf::error& err) {
  protocol::show_gpus_reply reply;
  optimizer::gpu_filter filter;
  if (!req.filter.empty()) {
    auto parsed = optimizer::parse_gpu_filter(req.filter);
    if (!parsed) {
      err = parsed.error();
      return reply;
    }
    filter = *parsed;
  }
  if (!req.infra.empty()) {
    auto slash = req.infra.find('/');
    filter.infra = req.infra.substr(0, slash);
    if (slash != std::string::npos)
      filter.region = req.infra.substr(slash + 1);
  }
  for (auto& listing :
       optimizer::show_gpus(*s.catalog, current_infra(s), filter)) {
    protocol::gpu_row row;
    row.name = listing.name;
    row.counts = listing.counts;
    row.device_memory_gib = listing.device_memory_gib;
    for (auto& o : listing.offers)
      row.offers.push_back({o.cloud, o.region, o.count, o.instance_type,
                            o.vcpus, o.memory_gib, o.price, o.spot_price,
                            o.spot_instance_type});
    reply.accelerators.push_back(std::move(row));
  }
  return reply;
}

} // namespace

protocol::task_plan to_task_plan(const optimizer::ranking& ranking,
                                 const std::string& task_name,
                                 std::optional<size_t> chosen) {
  protocol::task_plan plan;
  plan.name = task_name;
  plan.num_nodes = static_cast<uint32_t>(ranking.num_nodes);
  for (size_t i = 0; i < ranking.candidates.size(); ++i)
    plan.candidates.push_back(to_row(ranking.candidates[i], chosen == i));
  for (const auto& e : ranking.exclusions)
    plan.excluded.push_back({e.infra, e.reason});
  return plan;
}

caf::behavior planner(self_ptr self, planner_settings settings) {
  self->state.settings = std::move(settings);
  return {
    [=](rank_request& req) -> caf::result<ranking_ptr> {
      const auto& s = self->state.settings;
      auto ranking = optimizer::optimize(req.task, *s.catalog, current_infra(s),
                                         req.blocked);
      if (!ranking)
        return ranking.error();
      return std::make_shared<const optimizer::ranking>(std::move(*ranking));
    },
    [=](protocol::optimize_request& req) -> caf::result<protocol::plan_reply> {
      const auto& s = self->state.settings;
      auto infra = current_infra(s);
      protocol::plan_reply reply;
      auto chain = optimizer::optimize_chain(req.pipeline, *s.catalog, infra);
      if (chain) {
        for (size_t i = 0; i < chain->rankings.size(); ++i)
          reply.tasks.push_back(to_task_plan(
            chain->rankings[i], req.pipeline.tasks[i].name.value_or(""),
            chain->chosen[i]));
        reply.total_hourly_price = chain->total_hourly_price;
        return reply;
      }
      if (describe(chain.error()).code != errc::no_capacity)
        return chain.error();
      // Something fits nowhere: show every task's table, with reasons.
      for (const auto& t : req.pipeline.tasks) {
        auto ranking = optimizer::optimize(t, *s.catalog, infra);
        if (!ranking)
          return ranking.error();
        std::optional<size_t> chosen;
        if (ranking->feasible())
          chosen = 0;
        reply.tasks.push_back(
          to_task_plan(*ranking, t.name.value_or(""), chosen));
      }
      return reply;
    },
    [=](protocol::show_gpus_request& req)
      -> caf::result<protocol::show_gpus_reply> {
      caf::error err;
      auto reply = list_gpus(self->state.settings, req, err);
      if (err)
        return err;
      return reply;
    },
  };
}

} // namespace sky::actors
