#include "optimizer/placement/optimizer.hpp"

#include <algorithm>
#include <set>
#include <tuple>

#include "optimizer/placement/placement_internal.hpp"

namespace sky::optimizer {

namespace {

std::string lower(std::string_view s) {
  std::string out{s};
  for (auto& c : out)
    if (c >= 'A' && c <= 'Z')
      c = static_cast<char>(c - 'A' + 'a');
  return out;
}

std::string wildcard_free(const std::string& s) {
  return s == "*" ? std::string{} : s;
}

auto rank_key(const candidate& c) {
  return std::tie(c.tier, c.hourly_price, c.cloud, c.region, c.zone,
                  c.instance_type, c.accelerator, c.accelerator_count,
                  c.use_spot);
}

auto identity(const candidate& c) {
  return std::tie(c.cloud, c.region, c.zone, c.instance_type, c.accelerator,
                  c.accelerator_count, c.use_spot);
}

/// Places one concrete alternative on every enabled infra it may use.
void place(const detail::placement_request& req, const catalog& cat,
           const enabled_infra& infra, const blocklist& blocked,
           detail::placement_output& out) {
  const auto& spec = *req.spec;
  std::string provider, pool;
  if (spec.infra) {
    provider = lower(wildcard_free(spec.infra->provider));
    pool = wildcard_free(spec.infra->region);
  }
  bool provider_found = provider.empty();
  std::set<std::string> seen;
  for (const auto& name : infra.clouds) {
    const auto cloud = lower(name);
    if (!seen.insert(cloud).second)
      continue;
    if (!provider.empty() && provider != cloud)
      continue;
    provider_found = true;
    const cloud_entry* entry = cat.cloud(cloud);
    if (entry == nullptr) {
      out.exclude(cloud, exclusion_kind::not_enabled,
                  cloud + ": enabled but no price catalog is loaded for it",
                  req.alternative);
      continue;
    }
    detail::place_on_cloud(cat, *entry, req, blocked, out);
  }
  bool pool_found = false;
  for (const auto& f : infra.fixed) {
    if (!provider.empty() && !iequals(provider, f.provider))
      continue;
    provider_found = true;
    if (!provider.empty() && !pool.empty() && !iequals(pool, f.name))
      continue;
    pool_found = true;
    detail::place_on_fixed(cat, f, req, blocked, out);
  }
  if (!provider_found) {
    out.exclude(
      provider, exclusion_kind::not_enabled,
      provider + ": not enabled (enabled: " +
        [&] {
          std::string list;
          for (const auto& c : infra.clouds)
            list += (list.empty() ? "" : ", ") + c;
          for (const auto& f : infra.fixed)
            list += (list.empty() ? "" : ", ") + f.provider;
          return list.empty() ? std::string{"none"} : list;
        }()
        + ")",
      req.alternative);
  } else if (!provider.empty() && !pool.empty() && !pool_found
             && seen.count(provider) == 0) {
    out.exclude(provider + "/" + pool, exclusion_kind::unknown_location,
                provider + ": no pool or cluster named '" + pool + "'",
                req.alternative);
  }
}

} // namespace

result<ranking> optimize_resources(const task::resources_spec& resources,
                                   int num_nodes, const catalog& cat,
                                   const enabled_infra& infra,
                                   const blocklist& blocked) {
  if (num_nodes < 1)
    return sky::make_error(errc::invalid_argument,
                           "num_nodes must be at least 1, got "
                             + std::to_string(num_nodes));
  auto expanded = expand_resources(resources);
  if (!expanded)
    return expanded.error();
  ranking r;
  r.num_nodes = num_nodes;
  r.expanded = std::move(*expanded);
  // Accelerator names are matched case-insensitively; from here on they
  // carry the catalogs' spelling (`a100` -> `A100`), in candidates and
  // messages alike.
  for (auto& alt : r.expanded.alternatives)
    for (auto& acc : alt.accelerators)
      if (!acc.name.empty())
        if (auto id = cat.canonical_accelerator(acc.name))
          acc.name = std::string{cat.name(*id)};
  detail::placement_output out{r.candidates, r.exclusions};
  if (infra.clouds.empty() && infra.fixed.empty())
    out.exclude("", exclusion_kind::not_enabled,
                "no infra is enabled (enable clouds in sim.clouds, or local)",
                0);
  for (size_t i = 0; i < r.expanded.alternatives.size(); ++i) {
    detail::placement_request req;
    req.spec = &r.expanded.alternatives[i];
    req.alternative = i;
    req.tier = r.expanded.tiers[i];
    req.num_nodes = num_nodes;
    req.spot = req.spec->use_spot.value_or(false);
    place(req, cat, infra, blocked, out);
  }
  std::stable_sort(r.candidates.begin(), r.candidates.end(),
                   [](const candidate& a, const candidate& b) {
                     return rank_key(a) < rank_key(b);
                   });
  // The same place reached by two alternatives (e.g. any_of [cpus: 4+,
  // cpus: 8+]) is listed once, at its best rank.
  std::vector<candidate> unique;
  unique.reserve(r.candidates.size());
  std::set<std::tuple<std::string, std::string, std::string, std::string,
                      std::string, double, bool>>
    listed;
  for (auto& c : r.candidates)
    if (listed.insert(identity(c)).second)
      unique.push_back(std::move(c));
  r.candidates = std::move(unique);
  std::vector<exclusion> reasons;
  std::set<std::pair<std::string, std::string>> said;
  for (auto& e : r.exclusions)
    if (said.emplace(e.infra, e.reason).second)
      reasons.push_back(std::move(e));
  r.exclusions = std::move(reasons);
  return r;
}

result<ranking> optimize(const task::task_spec& task, const catalog& cat,
                         const enabled_infra& infra, const blocklist& blocked) {
  return optimize_resources(task.resources, task.num_nodes.value_or(1), cat,
                            infra, blocked);
}

result<candidate> best_candidate(const ranking& r) {
  if (r.feasible())
    return r.candidates.front();
  std::string message = "no enabled infra can host the task";
  if (!r.exclusions.empty())
    message += ":\n" + describe_exclusions(r);
  return sky::make_error(errc::no_capacity, std::move(message),
                         "relax the resources (accelerators, cpus, memory, "
                         "max_hourly_cost), allow other infra, or enable "
                         "more clouds");
}

std::string describe_exclusions(const ranking& r) {
  std::string out;
  for (const auto& e : r.exclusions) {
    if (!out.empty())
      out += "\n";
    out += "  - " + e.reason;
  }
  return out;
}

} // namespace sky::optimizer
