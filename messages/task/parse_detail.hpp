#pragma once

// Internal to the task parser: one function per YAML section, each filling
// its part of the model or returning the first error (located, with a hint).

#include <map>
#include <string>

#include "messages/task/task_spec.hpp"
#include "messages/task/yaml_reader.hpp"

namespace sky::task::detail {

/// `resources:` (`top_level`) or one entry of `any_of`/`ordered` (which may
/// not nest alternatives again, as in SkyPilot).
caf::error parse_resources(parse_context& ctx, const located& at,
                           resources_spec& out, bool top_level);

/// `service:`.
caf::error parse_service(parse_context& ctx, const located& at,
                         service_spec& out);

/// `config:` flattened to dotted keys -> scalar text. Lists use the index as
/// a key part (`a.b.0.c`); empty maps and lists keep "{}" / "[]", null keeps
/// "null", so that nothing written disappears.
caf::error parse_config(parse_context& ctx, const located& at,
                        std::map<std::string, std::string>& out);

/// A YAML value as compact JSON text (for `readiness_probe.post_data`
/// given as a map). Plain scalars that read as JSON numbers, true, false or
/// null stay bare; everything else becomes a JSON string.
result<std::string> to_json_text(parse_context& ctx, const located& at);

} // namespace sky::task::detail
