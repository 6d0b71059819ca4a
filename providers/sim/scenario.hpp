#pragma once

// A sim scenario: what the simulated clouds have and how they misbehave,
// per cloud, region and zone (docs/SIM.md, "Scenario files"). Parsed from
// YAML and checked against the price catalog, so that every name in it
// exists; an empty scenario means plenty of capacity everywhere, no
// failures and no preemptions.

#include <cstdint>
#include <filesystem>
#include <map>
#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "messages/result.hpp"
#include "providers/provider.hpp"
#include "providers/sim/sim_catalog.hpp"

namespace sky::providers::sim {

/// The level of a place: a zone, a region or a whole cloud.
using level = failure_scope;

/// A capacity limit's key: the pool (spot or on-demand) and an instance
/// type or a canonical accelerator name.
struct capacity_key {
  bool spot = false;
  std::string name;

  friend auto operator<=>(const capacity_key&, const capacity_key&) = default;
};

/// Quotas of a region or a cloud, counting on-demand and spot instances
/// together. Unset = unlimited.
struct quota_limits {
  std::optional<double> vcpus;
  std::optional<int64_t> instances;
  /// Accelerator devices of every kind.
  std::optional<double> gpus;

  bool empty() const { return !vcpus && !instances && !gpus; }
};

enum class fault_kind : uint8_t { no_capacity, quota, auth, never_ready };

std::string_view to_string(fault_kind k) noexcept;

/// An injected failure: run_instances requests that fall in the rule's
/// place and match its filters fail with it (never_ready: succeed, but the
/// instances never become ready).
struct fault_rule {
  /// "aws/us-east-1#0": the place and the rule's index there; keys the
  /// persisted count of times it fired.
  std::string id;
  fault_kind kind = fault_kind::no_capacity;
  /// What failover is told to block.
  failure_scope scope = failure_scope::zone;
  /// Fires for this many matching attempts, then never again; unset =
  /// every matching attempt.
  std::optional<int64_t> times;
  /// Only requests for this instance type or accelerator.
  std::optional<resolved_name> only;
  /// Only spot (true) or on-demand (false) requests.
  std::optional<bool> spot;
  /// Replaces the default message.
  std::string message;
  /// "file:line:col" of the rule, named in the error.
  std::string where;
};

/// Spot preemption of the instances started in a place.
struct preemption_rule {
  /// Every matching instance is preempted this long after it starts.
  std::optional<int64_t> after_ms;
  /// Or at random, from the scenario's seed: on average this many times
  /// per hour of running (an exponential lifetime).
  std::optional<double> rate_per_hour;
  /// Only instances of this instance type or accelerator.
  std::optional<resolved_name> only;
  /// Also on-demand instances (real clouds preempt spot only).
  bool on_demand = false;
  std::string where;
};

/// Everything stated for one place.
struct place_settings {
  std::map<capacity_key, int64_t> capacity;
  quota_limits quota;
  std::optional<int64_t> provisioning_delay_ms;
  std::vector<fault_rule> faults;
  std::optional<preemption_rule> preemption;
};

struct scenario {
  /// Scenario file (messages), "" for none.
  std::string source;
  /// Fingerprint of the text: persisted fault counters and capacity
  /// changes belong to the scenario they were made under.
  std::string fingerprint = "none";
  uint64_t seed = 0;
  /// Default provisioning delay for every simulated cloud.
  std::optional<int64_t> provisioning_delay_ms;
  /// Keyed by place_text(): "aws", "aws/us-east-1", "aws/us-east-1/...".
  std::map<std::string, place_settings> places;

  /// Settings stated exactly at `place`, or nullptr.
  const place_settings* at(const std::string& place) const;
};

/// Parses scenario YAML. `file` names it in messages, which point at
/// `file:line:col`. Every cloud, region, zone, instance type and
/// accelerator must exist in `index`; unknown ones are refused with the
/// nearest valid name.
result<scenario> parse_scenario(const std::string& text,
                                const std::string& file,
                                const catalog_index& index);

/// Reads and parses a scenario file.
result<scenario> load_scenario(const std::filesystem::path& path,
                               const catalog_index& index);

} // namespace sky::providers::sim
