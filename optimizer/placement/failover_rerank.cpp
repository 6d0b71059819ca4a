#include "optimizer/placement/failover_rerank.hpp"

#include <algorithm>

namespace sky::optimizer {

namespace {

enum class effect { keep, remove, needs_optimizer };

effect effect_on(const candidate& c, const block_entry& b) {
  if (!iequals(c.cloud, b.cloud))
    return effect::keep;
  if (c.fixed_capacity)
    return effect::needs_optimizer;
  switch (b.scope) {
    case block_scope::cloud:
      return effect::remove;
    case block_scope::region:
      return iequals(c.region, b.region) ? effect::remove : effect::keep;
    case block_scope::zone:
      if (!iequals(c.region, b.region))
        return effect::keep;
      if (!c.zone.empty()) // spot: priced per zone, one candidate per zone
        return iequals(c.zone, b.zone) ? effect::remove : effect::keep;
      // On demand: the region stays unless every zone is blocked, and
      // its best offer may change: the optimizer decides.
      for (const auto& z : c.zones)
        if (iequals(z, b.zone))
          return effect::needs_optimizer;
      return effect::keep;
  }
  return effect::needs_optimizer;
}

} // namespace

std::optional<ranking> without_blocked(const ranking& held,
                                       const block_entry& block) {
  if (block.instance_type)
    return std::nullopt; // other types of the place stay: re-rank
  if (block.scope == block_scope::zone && block.zone.empty())
    return std::nullopt; // region-level cloud: the optimizer's rule
  ranking out;
  out.expanded = held.expanded;
  out.num_nodes = held.num_nodes;
  out.exclusions = held.exclusions;
  out.candidates.reserve(held.candidates.size());
  bool removed = false;
  for (const auto& c : held.candidates) {
    switch (effect_on(c, block)) {
      case effect::keep:
        out.candidates.push_back(c);
        break;
      case effect::remove:
        removed = true;
        break;
      case effect::needs_optimizer:
        return std::nullopt;
    }
  }
  if (out.candidates.empty())
    return std::nullopt;
  if (removed) {
    auto reason = block_reason(block);
    auto infra = scope_text(block);
    bool said = std::any_of(out.exclusions.begin(), out.exclusions.end(),
                            [&](const exclusion& e) {
                              return e.infra == infra && e.reason == reason;
                            });
    if (!said)
      out.exclusions.push_back({infra, exclusion_kind::blocked, reason, 0});
  }
  return out;
}

} // namespace sky::optimizer
