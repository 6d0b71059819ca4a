#include "optimizer/serve/service_snapshot.hpp"

#include "messages/msgpack_util.hpp"
#include "messages/task/task_codec.hpp"

namespace sky::optimizer {

namespace {

// msgpack mirrors of the pure types, which stay free of codecs.
struct version_m {
  uint64_t version = 1;
  int min_replicas = 1;
  bool ever_ready = false;
  std::string task; // task_codec bytes
  MSGPACK_DEFINE_MAP(version, min_replicas, ever_ready, task)
};

struct service_m {
  std::string name;
  uint64_t latest = 1;
  std::string mode;
  std::vector<version_m> versions;
  bool shutting_down = false;
  uint32_t launch_failures = 0;
  int64_t last_launch_failure_ms = 0;
  int target = 0;
  std::optional<int64_t> above_since_ms, below_since_ms;
  std::string status;
  std::string reason;
  uint64_t next_replica_id = 1;
  uint16_t lb_port = 0;
  int64_t created_at_ms = 0, ready_since_ms = 0;
  MSGPACK_DEFINE_MAP(name, latest, mode, versions, shutting_down,
                     launch_failures, last_launch_failure_ms, target,
                     above_since_ms, below_since_ms, status, reason,
                     next_replica_id, lb_port, created_at_ms, ready_since_ms)
};

struct replica_m {
  std::string service;
  uint64_t id = 0, version = 1;
  std::string status;
  bool spot = false;
  std::string cluster, endpoint, infra;
  int64_t started_at_ms = 0, first_ready_ms = 0, failing_since_ms = 0,
          status_since_ms = 0;
  std::string cause;
  bool cluster_left = false;
  std::string reason;
  uint16_t port = 0;
  std::string resources, log_tail;
  int64_t launched_at_ms = 0;
  MSGPACK_DEFINE_MAP(service, id, version, status, spot, cluster, endpoint,
                     infra, started_at_ms, first_ready_ms, failing_since_ms,
                     status_since_ms, cause, cluster_left, reason, port,
                     resources, log_tail, launched_at_ms)
};

template <class M>
std::string pack(const M& m) {
  msgpack::sbuffer buf;
  msgpack::pack(buf, m);
  return std::string{buf.data(), buf.size()};
}

caf::error unknown(std::string_view what, std::string_view field,
                   const std::string& value) {
  return make_error(errc::bad_request, std::string{what} + ": unknown "
                                         + std::string{field} + " '" + value
                                         + "'");
}

} // namespace

std::string encode(const service_snapshot& s) {
  service_m m;
  m.name = s.name;
  m.latest = s.state.latest;
  m.mode = std::string{to_string(s.state.mode)};
  for (size_t i = 0; i < s.state.versions.size(); ++i) {
    const auto& v = s.state.versions[i];
    m.versions.push_back(
      {v.version, v.min_replicas, v.ever_ready,
       i < s.tasks.size() ? task::encode_task(s.tasks[i]) : std::string{}});
  }
  m.shutting_down = s.state.shutting_down;
  m.launch_failures = s.state.launch_failures;
  m.last_launch_failure_ms = s.state.last_launch_failure_ms;
  m.target = s.scaler.target;
  m.above_since_ms = s.scaler.above_since_ms;
  m.below_since_ms = s.scaler.below_since_ms;
  m.status = std::string{to_string(s.status)};
  m.reason = s.reason;
  m.next_replica_id = s.next_replica_id;
  m.lb_port = s.lb_port;
  m.created_at_ms = s.created_at_ms;
  m.ready_since_ms = s.ready_since_ms;
  return pack(m);
}

result<service_snapshot> decode_service_snapshot(std::string_view bytes) {
  constexpr std::string_view what = "service snapshot";
  auto doc = decode_document(bytes, what);
  if (!doc)
    return doc.error();
  auto m = convert_to<service_m>(doc->get(), what);
  if (!m)
    return m.error();
  service_snapshot s;
  s.name = m->name;
  s.state.latest = m->latest;
  auto mode = parse_update_mode(m->mode);
  if (!mode)
    return unknown(what, "update mode", m->mode);
  s.state.mode = *mode;
  for (const auto& v : m->versions) {
    s.state.versions.push_back({v.version, v.min_replicas, v.ever_ready});
    auto t = task::decode_task(v.task);
    if (!t)
      return t.error();
    s.tasks.push_back(std::move(*t));
  }
  s.state.shutting_down = m->shutting_down;
  s.state.launch_failures = m->launch_failures;
  s.state.last_launch_failure_ms = m->last_launch_failure_ms;
  s.scaler.target = m->target;
  s.scaler.above_since_ms = m->above_since_ms;
  s.scaler.below_since_ms = m->below_since_ms;
  auto status = parse_service_status(m->status);
  if (!status)
    return unknown(what, "status", m->status);
  s.status = *status;
  s.reason = m->reason;
  s.next_replica_id = m->next_replica_id;
  s.lb_port = m->lb_port;
  s.created_at_ms = m->created_at_ms;
  s.ready_since_ms = m->ready_since_ms;
  return s;
}

std::string encode(const replica_snapshot& s) {
  const auto& r = s.r;
  replica_m m;
  m.service = s.service;
  m.id = r.id;
  m.version = r.version;
  m.status = std::string{to_string(r.status)};
  m.spot = r.spot;
  m.cluster = r.cluster;
  m.endpoint = r.endpoint;
  m.infra = r.infra;
  m.started_at_ms = r.started_at_ms;
  m.first_ready_ms = r.first_ready_ms;
  m.failing_since_ms = r.failing_since_ms;
  m.status_since_ms = r.status_since_ms;
  m.cause = std::string{to_string(r.cause)};
  m.cluster_left = r.cluster_left;
  m.reason = r.reason;
  m.port = s.port;
  m.resources = s.resources;
  m.log_tail = s.log_tail;
  m.launched_at_ms = s.launched_at_ms;
  return pack(m);
}

result<replica_snapshot> decode_replica_snapshot(std::string_view bytes) {
  constexpr std::string_view what = "replica snapshot";
  auto doc = decode_document(bytes, what);
  if (!doc)
    return doc.error();
  auto m = convert_to<replica_m>(doc->get(), what);
  if (!m)
    return m.error();
  replica_snapshot s;
  s.service = m->service;
  auto& r = s.r;
  r.id = m->id;
  r.version = m->version;
  auto status = parse_replica_status(m->status);
  if (!status)
    return unknown(what, "status", m->status);
  r.status = *status;
  r.spot = m->spot;
  r.cluster = m->cluster;
  r.endpoint = m->endpoint;
  r.infra = m->infra;
  r.started_at_ms = m->started_at_ms;
  r.first_ready_ms = m->first_ready_ms;
  r.failing_since_ms = m->failing_since_ms;
  r.status_since_ms = m->status_since_ms;
  auto cause = parse_teardown_cause(m->cause);
  if (!cause)
    return unknown(what, "teardown cause", m->cause);
  r.cause = *cause;
  r.cluster_left = m->cluster_left;
  r.reason = m->reason;
  s.port = m->port;
  s.resources = m->resources;
  s.log_tail = m->log_tail;
  s.launched_at_ms = m->launched_at_ms;
  return s;
}

std::string service_entity(const std::string& name) {
  return "service." + name;
}

std::string replica_entity(const std::string& service, uint64_t id) {
  return "replica." + service + "." + std::to_string(id);
}

std::string replica_cluster_name(const std::string& service, uint64_t id) {
  return service + "-" + std::to_string(id);
}

const task::task_spec* task_of(const service_snapshot& s, uint64_t version) {
  for (size_t i = 0; i < s.state.versions.size() && i < s.tasks.size(); ++i)
    if (s.state.versions[i].version == version)
      return &s.tasks[i];
  return nullptr;
}

} // namespace sky::optimizer
