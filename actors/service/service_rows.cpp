// What `serve status` shows of a service and its replicas, and what their
// events carry, from their snapshots.

#include <cmath>

#include "actors/service/service_deps.hpp"
#include "messages/msgpack_util.hpp"

namespace sky::actors {

namespace {

std::string number_text(double v) {
  if (v == std::floor(v))
    return std::to_string(static_cast<long long>(v));
  char buf[32];
  std::snprintf(buf, sizeof(buf), "%.2f", v);
  return buf;
}

} // namespace

event_draft service_event(const optimizer::service_snapshot& s,
                          std::string kind) {
  event_draft d;
  d.entity = optimizer::service_entity(s.name);
  d.kind = std::move(kind);
  d.fields = map_writer{5}
               .add("status", std::string{optimizer::to_string(s.status)})
               .add("version", s.state.latest)
               .add("reason", s.reason)
               .add("target", s.scaler.target)
               .add("lb_port", s.lb_port)
               .bytes();
  d.snapshot = snapshot_op::put;
  d.snapshot_value = encode(s);
  return d;
}

event_draft replica_event(const optimizer::replica_snapshot& r,
                          std::string kind, snapshot_op op) {
  event_draft d;
  d.entity = optimizer::replica_entity(r.service, r.r.id);
  d.kind = std::move(kind);
  d.fields = map_writer{7}
               .add("service", r.service)
               .add("id", r.r.id)
               .add("version", r.r.version)
               .add("status", std::string{optimizer::to_string(r.r.status)})
               .add("reason", r.r.reason)
               .add("endpoint", r.r.endpoint)
               .add("infra", r.r.infra)
               .bytes();
  d.snapshot = op;
  if (op == snapshot_op::put)
    d.snapshot_value = encode(r);
  return d;
}

std::string status_event_kind(std::string_view prefix,
                              std::string_view status) {
  std::string kind{prefix};
  kind += '.';
  for (char c : status)
    kind += static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
  return kind;
}

std::string service_owner(const std::string& service) {
  return "service." + service;
}

std::vector<std::string> policy_lines(const task::task_spec& task) {
  std::vector<std::string> out;
  if (!task.service)
    return out;
  const auto& s = *task.service;
  const auto& p = s.readiness_probe;
  out.push_back("readiness probe: "
                + std::string{p.post_data ? "POST " : "GET "} + p.path
                + ", initial delay " + std::to_string(p.initial_delay_seconds)
                + " s, timeout " + std::to_string(p.timeout_seconds) + " s");
  const auto& rp = s.replica_policy;
  if (!rp.max_replicas || *rp.max_replicas == rp.min_replicas
      || !rp.target_qps_per_replica) {
    out.push_back("replicas: " + std::to_string(rp.min_replicas) + " (fixed)");
  } else {
    out.push_back("autoscaling: " + std::to_string(rp.min_replicas) + " to "
                  + std::to_string(*rp.max_replicas) + " replicas, target "
                  + number_text(*rp.target_qps_per_replica)
                  + " qps per replica, up after "
                  + std::to_string(rp.upscale_delay_seconds) + " s, down after "
                  + std::to_string(rp.downscale_delay_seconds) + " s");
  }
  if (task.resources.use_spot.value_or(false)) {
    std::string line = "spot: yes";
    if (rp.base_ondemand_fallback_replicas)
      line += ", " + std::to_string(*rp.base_ondemand_fallback_replicas)
              + " on-demand always";
    if (rp.dynamic_ondemand_fallback.value_or(false))
      line += ", on-demand covers spot replicas that are not ready";
    out.push_back(line);
  }
  out.push_back("load balancing: " + s.load_balancing_policy);
  return out;
}

protocol::service_row
service_row_of(const optimizer::service_snapshot& s,
               const std::vector<optimizer::replica_snapshot>& replicas,
               double qps, const std::string& lb_host,
               std::vector<uint64_t> routed_versions) {
  protocol::service_row row;
  row.name = s.name;
  row.version = s.state.latest;
  row.status = std::string{optimizer::to_string(s.status)};
  row.reason = s.reason;
  row.created_at_ms = s.created_at_ms;
  row.ready_since_ms = s.ready_since_ms;
  for (const auto& r : replicas) {
    if (optimizer::is_live(r.r))
      ++row.replicas;
    if (r.r.status == optimizer::replica_status::ready)
      ++row.ready_replicas;
  }
  if (s.lb_port != 0)
    row.endpoint = "http://" + lb_host + ":" + std::to_string(s.lb_port);
  if (const auto* t = optimizer::task_of(s, s.state.latest))
    row.policy = policy_lines(*t);
  row.qps = qps;
  row.update_mode = std::string{optimizer::to_string(s.state.mode)};
  row.routed_versions = std::move(routed_versions);
  return row;
}

protocol::replica_row replica_row_of(const optimizer::replica_snapshot& r) {
  protocol::replica_row row;
  row.service = r.service;
  row.id = r.r.id;
  row.version = r.r.version;
  row.endpoint = r.r.endpoint;
  row.launched_at_ms = r.launched_at_ms;
  row.infra = r.r.infra;
  row.resources = r.resources;
  row.status = std::string{optimizer::to_string(r.r.status)};
  row.reason = r.r.reason;
  row.cluster = r.r.cluster;
  row.spot = r.r.spot;
  row.port = r.port;
  row.log_tail = r.log_tail;
  row.status_since_ms = r.r.status_since_ms;
  return row;
}

} // namespace sky::actors
