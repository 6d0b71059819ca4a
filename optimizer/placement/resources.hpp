#pragma once

// Expanding a task's `resources:` into concrete alternatives: `any_of` and
// `ordered` entries inherit the fields set beside them, and accelerator sets
// (`{A100: 8, H100: 8}`) and lists (`[H100:8, A100:8]`) become one
// alternative per accelerator.

#include <cstddef>
#include <string>
#include <vector>

#include "messages/result.hpp"
#include "messages/task/task_spec.hpp"

namespace sky::optimizer {

/// The alternatives of one task. Each `alternatives[i]` has at most one
/// accelerator, `accelerator_order == single` and no `any_of`/`ordered`.
struct expanded_resources {
  std::vector<task::resources_spec> alternatives;
  /// Preference tier of each alternative. Tiers are tried in increasing
  /// order (the first tier with a feasible candidate wins); within a tier
  /// the cheapest candidate wins. All zero for `any_of` and accelerator sets.
  std::vector<size_t> tiers;
  /// True when there is more than one tier (some `ordered` preference).
  bool ordered = false;
};

/// Expands `spec`. Errors (errc::invalid_argument) name the field: nested
/// alternatives, `any_of` together with `ordered`, an ordered accelerator
/// list inside `any_of`, or values out of range.
result<expanded_resources> expand_resources(const task::resources_spec& spec);

/// `child` with every field it leaves unset taken from `parent`
/// (alternatives and accelerators of `parent` are not inherited when
/// `child` sets its own).
task::resources_spec inherit(const task::resources_spec& parent,
                             const task::resources_spec& child);

/// "A100:8", "A10:0.5", "80GB+:8" / "80GB:8" (memory per device, at least /
/// exactly), "NVIDIA:40GB+:8", and "A100" for count 1.
std::string to_string(const task::accelerator_spec& acc);

/// Short text of a number for messages: 8, 0.5, 2.25.
std::string format_number(double v);

} // namespace sky::optimizer
