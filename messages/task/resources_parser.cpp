// `resources:` of a task YAML (SkyPilot's resources schema), including the
// `any_of` / `ordered` alternatives, which are stored as written: the
// optimizer merges each alternative over the parent's fields.

#include <algorithm>
#include <set>

#include "messages/task/parse_detail.hpp"
#include "messages/task/value_grammar.hpp"

namespace sky::task::detail {

namespace {

constexpr int min_priority = -1000; // SkyPilot's MIN_PRIORITY
constexpr int max_priority = 1000;  // SkyPilot's MAX_PRIORITY

const std::vector<std::string_view> resources_keys{
  "infra",         "cloud",         "region",       "zone",
  "cpus",          "memory",        "accelerators", "accelerator_args",
  "instance_type", "use_spot",      "disk_size",    "disk_tier",
  "network_tier",  "ports",         "image_id",     "max_hourly_cost",
  "job_recovery",  "spot_recovery", "autostop",     "priority",
  "labels",        "any_of",        "ordered"};

const std::vector<unsupported_field> resources_unsupported{
  {"local_disk", "remove it; skyd chooses instances by cpus, memory and "
                 "accelerators"},
  {"priority_class", "use priority: -1000..1000 instead"},
  {"volumes", "mount storage with file_mounts instead"},
  {"ephemeral_storage", "use disk_size instead (SkyPilot deprecated it)"},
  {"hooks", "run the commands at the end of run: instead"},
  {"gpus", "write accelerators: A100:8",
   "is not a field of resources "
   "(GPUs are 'accelerators')"},
};

// Reads a scalar through a value grammar, at the value's location.
template <class Parse>
auto read_with(const parse_context& ctx, const located& at, Parse parse)
  -> decltype(parse(std::string_view{})) {
  auto text = read_string(ctx, at);
  if (!text)
    return text.error();
  return located_value(ctx, at, parse(*text));
}

caf::error parse_placement(parse_context& ctx, const map_view& m,
                           resources_spec& out) {
  auto infra = m.get("infra");
  if (infra) {
    for (auto legacy : {"cloud", "region", "zone"})
      if (auto l = m.get(legacy))
        return fail(ctx, *l, "cannot be used together with 'infra'",
                    "put everything in infra: cloud/region/zone (e.g. "
                    "infra: aws/us-east-1) and remove the '"
                      + std::string{legacy} + "' field");
    auto v = read_with(ctx, *infra, parse_infra);
    if (!v)
      return v.error();
    out.infra = *v;
    return {};
  }
  infra_spec legacy;
  bool any = false;
  if (auto c = m.get("cloud")) {
    auto v = read_with(ctx, *c, parse_provider);
    if (!v)
      return v.error();
    legacy.provider = *v;
    any = true;
  }
  for (auto [key, field] : {std::pair{"region", &infra_spec::region},
                            std::pair{"zone", &infra_spec::zone}}) {
    if (auto r = m.get(key)) {
      auto v = read_string(ctx, *r);
      if (!v)
        return v.error();
      legacy.*field = *v;
      any = true;
    }
  }
  if (any)
    out.infra = legacy;
  return {};
}

result<accelerator_spec> accelerator_entry(parse_context& ctx,
                                           const located& key_at,
                                           const YAML::Node& key,
                                           const located& value_at) {
  located name_at{key, key_at.path, key_at.mark};
  auto spec = read_with(ctx, name_at, parse_accelerator);
  if (!spec || value_at.is_null())
    return spec;
  if (key.Scalar().find(':') != std::string::npos)
    return fail(ctx, value_at, "gives a count both in the key and as a value",
                "write either NAME: COUNT or NAME:COUNT");
  auto count = read_number(ctx, value_at, true, false);
  if (!count)
    return count.error();
  spec->count = *count;
  return spec;
}

caf::error parse_accelerators(parse_context& ctx, const located& at,
                              resources_spec& out) {
  out.accelerators.clear();
  if (at.node.IsScalar()) {
    auto one = read_with(ctx, at, parse_accelerator);
    if (!one)
      return one.error();
    out.accelerators.push_back(*one);
    out.accelerator_order = choice_order::single;
    return {};
  }
  if (at.node.IsMap()) {
    // `{A100: 8, H100: 8}` or `{A100:8, H100:8}` (keys with null values):
    // a set, the cheapest wins.
    auto m = map_view::open(ctx, at);
    if (!m)
      return m.error();
    for (const auto& e : m->entries()) {
      const auto value_at = m->locate(e);
      const located key_at{e.key_node, value_at.path, e.key_node.Mark()};
      auto spec = accelerator_entry(ctx, key_at, e.key_node, value_at);
      if (!spec)
        return spec.error();
      out.accelerators.push_back(*spec);
    }
    out.accelerator_order = choice_order::any;
  } else if (at.node.IsSequence()) {
    auto items = read_list(ctx, at);
    if (!items)
      return items.error();
    for (const auto& item : *items) {
      auto spec = read_with(ctx, item, parse_accelerator);
      if (!spec)
        return spec.error();
      out.accelerators.push_back(*spec);
    }
    out.accelerator_order = choice_order::ordered;
  } else {
    return fail(ctx, at,
                "expected an accelerator, got " + describe_node(at.node),
                "write A100:8, a list [H100:8, A100:8] or a set {H100:8, "
                "A100:8}");
  }
  if (out.accelerators.empty())
    return fail(ctx, at, "is empty",
                "name at least one accelerator or remove the field");
  if (out.accelerators.size() == 1)
    out.accelerator_order = choice_order::single;
  return {};
}

caf::error parse_string_map(parse_context& ctx, const located& at,
                            std::map<std::string, std::string>& out,
                            const std::vector<std::string_view>* allowed) {
  auto m = map_view::open(ctx, at);
  if (!m)
    return m.error();
  if (allowed)
    if (auto err = m->check_keys(ctx, *allowed))
      return err;
  for (const auto& e : m->entries()) {
    auto v = read_string(ctx, m->locate(e));
    if (!v)
      return v.error();
    out[e.key] = *v;
  }
  return {};
}

caf::error parse_ports(parse_context& ctx, const located& at,
                       std::vector<port_range>& out) {
  out.clear();
  std::vector<located> items;
  if (at.node.IsSequence()) {
    auto list = read_list(ctx, at);
    if (!list)
      return list.error();
    items = std::move(*list);
  } else {
    items.push_back(at);
  }
  for (const auto& item : items) {
    auto range = read_with(ctx, item, parse_port_range);
    if (!range)
      return range.error();
    out.push_back(*range);
  }
  return {};
}

caf::error parse_image_id(parse_context& ctx, const located& at,
                          resources_spec& out) {
  if (at.node.IsMap()) {
    auto m = map_view::open(ctx, at);
    if (!m)
      return m.error();
    if (m->entries().empty())
      return fail(ctx, at, "is empty", "map regions to images or remove it");
    for (const auto& e : m->entries()) {
      auto v = read_string(ctx, m->locate(e));
      if (!v)
        return v.error();
      out.image_id_by_region[e.key] = *v;
    }
    return {};
  }
  auto v = read_string(ctx, at);
  if (!v)
    return v.error();
  out.image_id = *v;
  return {};
}

caf::error parse_exit_codes(parse_context& ctx, const located& at,
                            std::vector<int>& out) {
  std::vector<located> items;
  if (at.node.IsSequence()) {
    auto list = read_list(ctx, at);
    if (!list)
      return list.error();
    items = std::move(*list);
  } else {
    items.push_back(at);
  }
  for (const auto& item : items) {
    auto code = read_int(ctx, item, 0, 255);
    if (!code)
      return code.error();
    if (std::find(out.begin(), out.end(), *code) != out.end())
      return fail(ctx, item,
                  "lists exit code " + std::to_string(*code) + " twice",
                  "list each exit code once");
    out.push_back(static_cast<int>(*code));
  }
  return {};
}

caf::error parse_job_recovery(parse_context& ctx, const located& at,
                              std::optional<job_recovery_spec>& out) {
  static const std::vector<std::string> strategies{"EAGER_NEXT_REGION",
                                                   "FAILOVER", "NONE"};
  job_recovery_spec spec;
  auto set_strategy = [&](const located& s) -> caf::error {
    auto name = read_choice(ctx, s, strategies);
    if (!name)
      return name.error();
    spec.strategy = *name;
    return {};
  };
  if (at.node.IsMap()) {
    auto m = map_view::open(ctx, at);
    if (!m)
      return m.error();
    if (auto err = m->check_keys(
          ctx, {"strategy", "max_restarts_on_errors", "recover_on_exit_codes"}))
      return err;
    if (auto s = m->get("strategy"))
      if (auto err = set_strategy(*s))
        return err;
    if (auto r = m->get("max_restarts_on_errors")) {
      auto n = read_int(ctx, *r, 0, 1'000'000);
      if (!n)
        return n.error();
      spec.max_restarts_on_errors = static_cast<int>(*n);
    }
    if (auto c = m->get("recover_on_exit_codes"))
      if (auto err = parse_exit_codes(ctx, *c, spec.recover_on_exit_codes))
        return err;
  } else if (auto err = set_strategy(at)) {
    return err;
  }
  // `none` disables the strategy, which SkyPilot treats as not given (the
  // default strategy applies); restart settings given with it still hold.
  if (spec.strategy == "NONE") {
    if (spec.max_restarts_on_errors == 0
        && spec.recover_on_exit_codes.empty()) {
      out.reset();
      return {};
    }
    spec.strategy = job_recovery_spec{}.strategy;
  }
  out = spec;
  return {};
}

caf::error parse_autostop(parse_context& ctx, const located& at,
                          std::optional<autostop_spec>& out) {
  autostop_spec spec;
  if (at.node.IsMap()) {
    auto m = map_view::open(ctx, at);
    if (!m)
      return m.error();
    if (auto err = m->check_keys(
          ctx, {"idle_minutes", "down", "wait_for"},
          {{"hook", "run the commands at the end of run: instead"},
           {"hook_timeout", "remove it together with hook"}}))
      return err;
    if (auto i = m->get("idle_minutes")) {
      auto n = read_int(ctx, *i, 0, 10'000'000);
      if (!n)
        return n.error();
      spec.idle_minutes = static_cast<int>(*n);
    }
    if (auto d = m->get("down")) {
      auto b = read_bool(ctx, *d);
      if (!b)
        return b.error();
      spec.down = *b;
    }
    if (auto w = m->get("wait_for")) {
      auto v = read_choice(ctx, *w, {"jobs_and_ssh", "jobs", "none"});
      if (!v)
        return v.error();
      spec.wait_for = *v;
    }
    out = spec;
    return {};
  }
  if (at.node.IsScalar()) {
    if (auto b = parse_bool(at.node.Scalar())) {
      spec.enabled = *b;
      out = spec;
      return {};
    }
    auto minutes = read_with(ctx, at, parse_duration_minutes);
    if (!minutes)
      return minutes.error();
    spec.idle_minutes = *minutes;
    out = spec;
    return {};
  }
  return fail(ctx, at,
              "expected true, false, minutes or a map, got "
                + describe_node(at.node),
              "write autostop: 10, autostop: 2h, or {idle_minutes: 10, down: "
              "true}");
}

caf::error parse_alternatives(parse_context& ctx, const located& at,
                              std::vector<resources_spec>& out) {
  auto items = read_list(ctx, at);
  if (!items)
    return items.error();
  if (items->empty())
    return fail(ctx, at, "is empty",
                "list at least one alternative, or remove the field");
  for (const auto& item : *items) {
    resources_spec alt;
    if (auto err = parse_resources(ctx, item, alt, false))
      return err;
    out.push_back(std::move(alt));
  }
  return {};
}

} // namespace

caf::error parse_resources(parse_context& ctx, const located& at,
                           resources_spec& out, bool top_level) {
  auto m = map_view::open(ctx, at);
  if (!m)
    return m.error();
  if (!top_level)
    for (auto key : {"any_of", "ordered"})
      if (auto nested = m->get_raw(key))
        return fail(ctx, *nested,
                    "cannot be nested inside another any_of or "
                    "ordered entry",
                    "list all alternatives in the outer list");
  if (auto err = m->check_keys(ctx, resources_keys, resources_unsupported))
    return err;
  if (auto err = parse_placement(ctx, *m, out))
    return err;
  if (auto v = m->get("cpus")) {
    auto c = read_with(ctx, *v, parse_cpus);
    if (!c)
      return c.error();
    out.cpus = *c;
  }
  if (auto v = m->get("memory")) {
    auto mem = read_with(ctx, *v, parse_memory);
    if (!mem)
      return mem.error();
    out.memory = *mem;
  }
  if (auto v = m->get("accelerators"))
    if (auto err = parse_accelerators(ctx, *v, out))
      return err;
  if (auto v = m->get("accelerator_args")) {
    static const std::vector<std::string_view> args{
      "runtime_version", "tpu_name", "tpu_vm", "gcp_queued_resource"};
    if (auto err = parse_string_map(ctx, *v, out.accelerator_args, &args))
      return err;
  }
  if (auto v = m->get("instance_type")) {
    auto s = read_string(ctx, *v);
    if (!s)
      return s.error();
    out.instance_type = *s;
  }
  if (auto v = m->get("use_spot")) {
    auto b = read_bool(ctx, *v);
    if (!b)
      return b.error();
    out.use_spot = *b;
  }
  if (auto v = m->get("disk_size")) {
    auto gb = read_with(ctx, *v, parse_disk_size_gb);
    if (!gb)
      return gb.error();
    out.disk_size_gb = *gb;
  }
  if (auto v = m->get("disk_tier")) {
    auto t = read_choice(ctx, *v, {"low", "medium", "high", "ultra", "best"});
    if (!t)
      return t.error();
    out.disk_tier = *t;
  }
  if (auto v = m->get("network_tier")) {
    auto t = read_choice(ctx, *v, {"standard", "best"});
    if (!t)
      return t.error();
    out.network_tier = *t;
  }
  if (auto v = m->get("ports"))
    if (auto err = parse_ports(ctx, *v, out.ports))
      return err;
  if (auto v = m->get("image_id"))
    if (auto err = parse_image_id(ctx, *v, out))
      return err;
  if (auto v = m->get("max_hourly_cost")) {
    auto c = read_number(ctx, *v, true, false);
    if (!c)
      return c.error();
    out.max_hourly_cost = *c;
  }
  auto job_recovery = m->get("job_recovery");
  if (auto legacy = m->get("spot_recovery")) {
    if (job_recovery)
      return fail(ctx, *legacy, "cannot be used together with 'job_recovery'",
                  "spot_recovery is the old name of job_recovery: keep only "
                  "job_recovery");
    job_recovery = legacy;
  }
  if (job_recovery)
    if (auto err = parse_job_recovery(ctx, *job_recovery, out.job_recovery))
      return err;
  if (auto v = m->get("autostop"))
    if (auto err = parse_autostop(ctx, *v, out.autostop))
      return err;
  if (auto v = m->get("priority")) {
    auto p = read_int(ctx, *v, min_priority, max_priority);
    if (!p)
      return p.error();
    out.priority = static_cast<int>(*p);
  }
  if (auto v = m->get("labels"))
    if (auto err = parse_string_map(ctx, *v, out.labels, nullptr))
      return err;
  auto any_of = m->get("any_of");
  auto ordered = m->get("ordered");
  if (any_of && ordered)
    return fail(ctx, *ordered, "cannot be used together with 'any_of'",
                "use any_of (the cheapest wins) or ordered (the first "
                "feasible wins), not both");
  if (any_of)
    if (auto err = parse_alternatives(ctx, *any_of, out.any_of))
      return err;
  if (ordered)
    if (auto err = parse_alternatives(ctx, *ordered, out.ordered))
      return err;
  // The same combinations SkyPilot refuses: several accelerators with an
  // ordered list of alternatives, or an ordered accelerator list with any_of.
  if (auto acc = m->get("accelerators")) {
    if (ordered && out.accelerators.size() > 1)
      return fail(ctx, *acc,
                  "cannot list several accelerators together with "
                  "'ordered'",
                  "put one accelerator in each ordered entry instead");
    if (any_of && out.accelerator_order == choice_order::ordered)
      return fail(ctx, *acc,
                  "cannot be an ordered list together with "
                  "'any_of'",
                  "write the accelerators as a set {A:1, B:1}, or put one in "
                  "each any_of entry");
  }
  return {};
}

} // namespace sky::task::detail
