// `service:` of a task YAML (SkyServe's service schema).

#include <cmath>

#include "messages/task/parse_detail.hpp"
#include "messages/task/value_grammar.hpp"

namespace sky::task::detail {

namespace {

constexpr long long max_seconds = 10'000'000; // about 115 days
constexpr long long max_replicas_limit = 100'000;

// SkyPilot takes these as numbers; skyd keeps whole seconds.
result<int> read_seconds(parse_context& ctx, const located& at) {
  auto v = read_number(ctx, at, false, true);
  if (!v)
    return v.error();
  if (*v != std::floor(*v))
    return fail(ctx, at, "must be a whole number of seconds", "write e.g. 600");
  if (*v > static_cast<double>(max_seconds))
    return fail(ctx, at, "is too large",
                "must be at most " + std::to_string(max_seconds));
  return static_cast<int>(*v);
}

result<int> read_count(parse_context& ctx, const located& at) {
  auto v = read_int(ctx, at, 0, max_replicas_limit);
  if (!v)
    return v.error();
  return static_cast<int>(*v);
}

caf::error parse_probe_path(parse_context& ctx, const located& at,
                            std::string& out) {
  auto path = read_string(ctx, at);
  if (!path)
    return path.error();
  if (path->empty() || path->front() != '/')
    return fail(ctx, at, "must be an HTTP path starting with '/'",
                "write e.g. /health or /v1/models");
  out = *path;
  return {};
}

caf::error parse_probe(parse_context& ctx, const located& at,
                       service_spec& out) {
  auto& probe = out.readiness_probe;
  if (at.node.IsScalar())
    return parse_probe_path(ctx, at, probe.path);
  auto m = map_view::open(ctx, at);
  if (!m)
    return m.error();
  if (auto err = m->check_keys(
        ctx,
        {"path", "post_data", "initial_delay_seconds", "timeout_seconds",
         "headers", "consecutive_failure_threshold_timeout"},
        {{"endpoint_probe_interval_seconds",
          "remove it; skyd probes every replica at a fixed interval"}}))
    return err;
  auto path = m->get("path");
  if (!path)
    return fail(ctx, at, "has no 'path'",
                "add path: /health (the URL path to probe)");
  if (auto err = parse_probe_path(ctx, *path, probe.path))
    return err;
  if (auto v = m->get("post_data")) {
    if (v->node.IsScalar()) {
      probe.post_data = v->node.Scalar();
    } else {
      auto json = to_json_text(ctx, *v);
      if (!json)
        return json.error();
      probe.post_data = *json;
    }
  }
  if (auto v = m->get("initial_delay_seconds")) {
    auto s = read_seconds(ctx, *v);
    if (!s)
      return s.error();
    probe.initial_delay_seconds = *s;
  }
  if (auto v = m->get("timeout_seconds")) {
    auto s = read_seconds(ctx, *v);
    if (!s)
      return s.error();
    if (*s == 0)
      return fail(ctx, *v, "must be at least 1 second", "write e.g. 15");
    probe.timeout_seconds = *s;
  }
  if (auto v = m->get("consecutive_failure_threshold_timeout")) {
    auto s = read_seconds(ctx, *v);
    if (!s)
      return s.error();
    out.consecutive_failure_threshold_timeout_seconds = *s;
  }
  if (auto v = m->get("headers")) {
    auto h = map_view::open(ctx, *v);
    if (!h)
      return h.error();
    for (const auto& e : h->entries()) {
      auto value = read_string(ctx, h->locate(e));
      if (!value)
        return value.error();
      probe.headers[e.key] = *value;
    }
  }
  return {};
}

caf::error parse_policy(parse_context& ctx, const located& at,
                        replica_policy_spec& out) {
  auto m = map_view::open(ctx, at);
  if (!m)
    return m.error();
  if (auto err = m->check_keys(
        ctx,
        {"min_replicas", "max_replicas", "target_qps_per_replica",
         "upscale_delay_seconds", "downscale_delay_seconds",
         "num_overprovision", "base_ondemand_fallback_replicas",
         "dynamic_ondemand_fallback"},
        {{"spot_placer", "remove it; use base_ondemand_fallback_replicas or "
                         "dynamic_ondemand_fallback"}}))
    return err;
  auto min = m->get("min_replicas");
  if (!min)
    return fail(ctx, at, "has no 'min_replicas'",
                "add min_replicas: 1 (or use replicas: N for a fixed count)");
  auto n = read_count(ctx, *min);
  if (!n)
    return n.error();
  out.min_replicas = *n;
  if (auto v = m->get("max_replicas")) {
    auto max = read_count(ctx, *v);
    if (!max)
      return max.error();
    if (*max < out.min_replicas)
      return fail(ctx, *v, "is smaller than min_replicas",
                  "make max_replicas >= min_replicas");
    out.max_replicas = *max;
  }
  if (auto v = m->get("target_qps_per_replica")) {
    if (v->node.IsMap())
      return fail(ctx, *v,
                  "per-accelerator targets are not supported by "
                  "skyd yet",
                  "give one number of queries per second per replica");
    auto qps = read_number(ctx, *v, true, false);
    if (!qps)
      return qps.error();
    out.target_qps_per_replica = *qps;
  }
  for (auto [key, field] :
       {std::pair{"upscale_delay_seconds",
                  &replica_policy_spec::upscale_delay_seconds},
        std::pair{"downscale_delay_seconds",
                  &replica_policy_spec::downscale_delay_seconds}}) {
    if (auto v = m->get(key)) {
      auto s = read_seconds(ctx, *v);
      if (!s)
        return s.error();
      out.*field = *s;
    }
  }
  if (auto v = m->get("num_overprovision")) {
    auto c = read_count(ctx, *v);
    if (!c)
      return c.error();
    out.num_overprovision = *c;
  }
  if (auto v = m->get("base_ondemand_fallback_replicas")) {
    auto c = read_count(ctx, *v);
    if (!c)
      return c.error();
    out.base_ondemand_fallback_replicas = *c;
  }
  if (auto v = m->get("dynamic_ondemand_fallback")) {
    auto b = read_bool(ctx, *v);
    if (!b)
      return b.error();
    out.dynamic_ondemand_fallback = *b;
  }
  // Autoscaling between min and max needs a target to scale on.
  if (out.max_replicas && *out.max_replicas > out.min_replicas
      && !out.target_qps_per_replica)
    return fail(ctx, *m->get("max_replicas"),
                "is larger than min_replicas but no target_qps_per_replica "
                "is set",
                "add target_qps_per_replica: N, or set max_replicas equal "
                "to min_replicas");
  return {};
}

} // namespace

caf::error parse_service(parse_context& ctx, const located& at,
                         service_spec& out) {
  auto m = map_view::open(ctx, at);
  if (!m)
    return m.error();
  if (auto err = m->check_keys(
        ctx,
        {"readiness_probe", "replica_policy", "replicas",
         "load_balancing_policy", "ports"},
        {{"load_balancer", "remove it; skyd's load balancer has no stream "
                           "timeout setting"},
         {"pool", "use a managed job or a service instead of a pool"},
         {"workers", "use a managed job or a service instead of a pool"},
         {"tls", "terminate TLS in front of the service endpoint"}}))
    return err;
  if (auto v = m->get("readiness_probe"))
    if (auto err = parse_probe(ctx, *v, out))
      return err;
  auto policy = m->get("replica_policy");
  auto replicas = m->get("replicas");
  if (policy && replicas)
    return fail(ctx, *replicas,
                "cannot be used together with "
                "'replica_policy'",
                "use replicas: N for a fixed count, or replica_policy for "
                "autoscaling");
  if (policy)
    if (auto err = parse_policy(ctx, *policy, out.replica_policy))
      return err;
  if (replicas) {
    auto n = read_count(ctx, *replicas);
    if (!n)
      return n.error();
    out.replica_policy.min_replicas = *n;
    out.replica_policy.max_replicas = *n;
  }
  if (auto v = m->get("load_balancing_policy")) {
    auto p = read_choice(ctx, *v, {"least_load", "round_robin"});
    if (!p)
      return p.error();
    out.load_balancing_policy = *p;
  }
  if (auto v = m->get("ports")) {
    auto p = read_int(ctx, *v, 1, 65535);
    if (!p)
      return p.error();
    out.port = static_cast<uint16_t>(*p);
  }
  return {};
}

} // namespace sky::task::detail
