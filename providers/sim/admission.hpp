#pragma once

// Pure decisions of the simulated clouds for one node of a request: does
// an injected failure fire, does it fit the quotas, is there capacity, and
// what error (code, scope, message) a real cloud would answer. No clock, no
// lock, no I/O: the world feeds in what it holds.

#include <cstdint>
#include <map>
#include <optional>
#include <string>
#include <vector>

#include "messages/errc.hpp"
#include "providers/provider.hpp"
#include "providers/sim/scenario.hpp"

namespace sky::providers::sim {

/// An instance that holds capacity (pending, running or stopping) in the
/// cloud being asked.
struct held_instance {
  std::string region;
  /// Empty for clouds without zones.
  std::string zone;
  std::string instance_type;
  std::string accelerator;
  double accelerator_count = 0;
  double vcpus = 0;
  bool spot = false;
};

/// Capacity limits set by the admin verb on top of the scenario: place
/// text -> key -> limit (nullopt = unlimited).
using capacity_overrides
  = std::map<std::string, std::map<capacity_key, std::optional<int64_t>>>;

/// One node wanted in a place.
struct admission {
  std::string cloud;
  std::string region;
  std::string zone;
  shape what;
  bool spot = false;

  std::string place() const { return place_text(cloud, region, zone); }
};

/// What the simulated cloud answers instead of an instance.
struct refusal {
  errc code = errc::no_capacity;
  failure_scope scope = failure_scope::zone;
  std::string message;
  std::string hint;
};

/// Quotas first (a real cloud refuses over-quota requests before looking
/// for capacity), then capacity per instance type and per accelerator, on
/// top of `held` (what the cloud's live instances use, including nodes of
/// this request created so far).
std::optional<refusal> check_limits(const scenario& sc,
                                    const capacity_overrides& overrides,
                                    const admission& want,
                                    const std::vector<held_instance>& held);

/// The injected failure that fires for a request, if any: rules stated on
/// the cloud first, then the region, then the zone; a rule limited to N
/// times is skipped once `fired` (rule id -> times fired) reaches N.
const fault_rule* matching_fault(const scenario& sc, const admission& want,
                                 const std::map<std::string, int64_t>& fired);

/// The error a fired rule answers (never_ready rules do not refuse).
refusal fault_refusal(const fault_rule& rule, const admission& want);

/// The provisioning delay of the place: the zone's, else the region's,
/// else the cloud's, else the scenario's default, else 0.
int64_t provisioning_delay_ms(const scenario& sc, const admission& want);

/// The preemption rule of the place (most specific first) that applies to
/// `want`'s shape and pool; nullptr when none.
const preemption_rule* preemption_for(const scenario& sc,
                                      const admission& want);

/// Whether a rule's type filter matches a shape.
bool matches(const std::optional<resolved_name>& only, const shape& s);

/// "12", "0.5": numbers in messages.
std::string number_text(double v);

} // namespace sky::providers::sim
