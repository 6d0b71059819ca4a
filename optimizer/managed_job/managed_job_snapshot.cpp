#include "optimizer/managed_job/managed_job_snapshot.hpp"

#include <cctype>

#include "messages/msgpack_util.hpp"
#include "messages/task/task_codec.hpp"

namespace sky::optimizer {

namespace {

// msgpack mirrors of the pure types (which stay free of codecs). Enums are
// stored by name so that a reordering never changes a stored job.
struct place_m {
  std::string cloud, region, zone;
  MSGPACK_DEFINE_MAP(cloud, region, zone)
};

struct block_m {
  std::string scope;
  std::string cloud, region, zone;
  std::optional<std::string> instance_type;
  std::string reason, source;
  MSGPACK_DEFINE_MAP(scope, cloud, region, zone, instance_type, reason, source)
};

struct launch_m {
  uint64_t task_index = 0;
  std::string kind;
  bool tear_down_first = false;
  int64_t delay_ms = 0;
  std::vector<block_m> blocked;
  std::optional<place_m> only_in;
  bool narrowed = false;
  MSGPACK_DEFINE_MAP(task_index, kind, tear_down_first, delay_ms, blocked,
                     only_in, narrowed)
};

struct task_m {
  std::string name;
  std::string strategy;
  uint32_t max_restarts_on_errors = 0;
  std::vector<int> recover_on_exit_codes;
  MSGPACK_DEFINE_MAP(name, strategy, max_restarts_on_errors,
                     recover_on_exit_codes)
};

struct snapshot_m {
  uint64_t id = 0;
  std::string name;
  std::vector<task_m> task_settings;
  std::string state;
  std::string reason;
  uint64_t task_index = 0;
  uint32_t recovery_count = 0;
  uint32_t restarts_on_errors = 0;
  std::optional<launch_m> launch;
  uint32_t rounds_without_capacity = 0;
  std::optional<place_m> place;
  int64_t submitted_at_ms = 0, started_at_ms = 0, ended_at_ms = 0,
          state_since_ms = 0;
  std::vector<std::string> tasks; // task_codec bytes
  std::string cluster;
  uint64_t cluster_job = 0;
  uint32_t attempts = 0;
  bool cluster_left = false;
  std::string infra;
  MSGPACK_DEFINE_MAP(id, name, task_settings, state, reason, task_index,
                     recovery_count, restarts_on_errors, launch,
                     rounds_without_capacity, place, submitted_at_ms,
                     started_at_ms, ended_at_ms, state_since_ms, tasks, cluster,
                     cluster_job, attempts, cluster_left, infra)
};

const char* scope_name(optimizer::block_scope s) {
  switch (s) {
    case optimizer::block_scope::zone:
      return "zone";
    case optimizer::block_scope::region:
      return "region";
    case optimizer::block_scope::cloud:
      return "cloud";
  }
  return "zone";
}

optimizer::block_scope scope_from(const std::string& s) {
  if (s == "region")
    return optimizer::block_scope::region;
  if (s == "cloud")
    return optimizer::block_scope::cloud;
  return optimizer::block_scope::zone;
}

const char* kind_name(optimizer::launch_kind k) {
  switch (k) {
    case optimizer::launch_kind::first:
      return "first";
    case optimizer::launch_kind::recovery:
      return "recovery";
    case optimizer::launch_kind::restart:
      return "restart";
  }
  return "first";
}

optimizer::launch_kind kind_from(const std::string& s) {
  if (s == "recovery")
    return optimizer::launch_kind::recovery;
  if (s == "restart")
    return optimizer::launch_kind::restart;
  return optimizer::launch_kind::first;
}

place_m to_m(const optimizer::launch_place& p) {
  return {p.cloud, p.region, p.zone};
}

optimizer::launch_place from_m(const place_m& p) {
  return {p.cloud, p.region, p.zone};
}

} // namespace

managed_job_snapshot
next_snapshot(const managed_job_snapshot& prev, const managed_job_decision& d,
              const std::optional<launch_facts>& launched) {
  auto next = prev;
  next.job = d.job;
  if (launched) {
    next.cluster_job = launched->cluster_job;
    if (!launched->infra.empty())
      next.infra = launched->infra;
  }
  if (optimizer::is_terminal(next.job.state)) {
    next.tasks.clear();
    next.cluster_left = d.tear_down && !next.cluster.empty();
  }
  return next;
}

managed_job_snapshot begin_launch(const managed_job_snapshot& prev,
                                  size_t index) {
  auto next = prev;
  next.attempts += 1;
  next.cluster = managed_cluster_name(prev.job, index);
  next.cluster_job = 0;
  next.infra.clear();
  return next;
}

managed_job_snapshot cleaned_up(const managed_job_snapshot& prev) {
  auto next = prev;
  next.cluster_left = false;
  return next;
}

std::string encode(const managed_job_snapshot& s) {
  const auto& j = s.job;
  snapshot_m m;
  m.id = j.id;
  m.name = j.name;
  for (const auto& t : j.tasks)
    m.task_settings.push_back(
      {t.name, std::string{optimizer::to_string(t.recovery.strategy)},
       t.recovery.max_restarts_on_errors, t.recovery.recover_on_exit_codes});
  m.state = std::string{optimizer::to_string(j.state)};
  m.reason = j.reason;
  m.task_index = j.task_index;
  m.recovery_count = j.recovery_count;
  m.restarts_on_errors = j.restarts_on_errors;
  if (j.launch) {
    launch_m l;
    l.task_index = j.launch->task_index;
    l.kind = kind_name(j.launch->kind);
    l.tear_down_first = j.launch->tear_down_first;
    l.delay_ms = j.launch->delay_ms;
    for (const auto& b : j.launch->blocked.entries)
      l.blocked.push_back({scope_name(b.scope), b.cloud, b.region, b.zone,
                           b.instance_type, b.reason, b.source});
    if (j.launch->only_in)
      l.only_in = to_m(*j.launch->only_in);
    l.narrowed = j.launch->narrowed;
    m.launch = std::move(l);
  }
  m.rounds_without_capacity = j.rounds_without_capacity;
  if (j.place)
    m.place = to_m(*j.place);
  m.submitted_at_ms = j.submitted_at_ms;
  m.started_at_ms = j.started_at_ms;
  m.ended_at_ms = j.ended_at_ms;
  m.state_since_ms = j.state_since_ms;
  for (const auto& t : s.tasks)
    m.tasks.push_back(task::encode_task(t));
  m.cluster = s.cluster;
  m.cluster_job = s.cluster_job;
  m.attempts = s.attempts;
  m.cluster_left = s.cluster_left;
  m.infra = s.infra;
  msgpack::sbuffer buf;
  msgpack::pack(buf, m);
  return std::string{buf.data(), buf.size()};
}

result<managed_job_snapshot> decode_managed_job_snapshot(std::string_view b) {
  auto doc = decode_document(b, "managed job snapshot");
  if (!doc)
    return doc.error();
  auto m = convert_to<snapshot_m>(doc->get(), "managed job snapshot");
  if (!m)
    return m.error();
  managed_job_snapshot s;
  auto& j = s.job;
  j.id = m->id;
  j.name = m->name;
  for (const auto& t : m->task_settings) {
    optimizer::managed_task mt;
    mt.name = t.name;
    if (auto st = optimizer::parse_recovery_strategy(t.strategy))
      mt.recovery.strategy = *st;
    mt.recovery.max_restarts_on_errors = t.max_restarts_on_errors;
    mt.recovery.recover_on_exit_codes = t.recover_on_exit_codes;
    j.tasks.push_back(std::move(mt));
  }
  auto state = optimizer::parse_managed_job_state(m->state);
  if (!state)
    return make_error(errc::bad_request,
                      "managed job snapshot: unknown state '" + m->state + "'");
  j.state = *state;
  j.reason = m->reason;
  j.task_index = m->task_index;
  j.recovery_count = m->recovery_count;
  j.restarts_on_errors = m->restarts_on_errors;
  if (m->launch) {
    optimizer::managed_job_launch l;
    l.task_index = m->launch->task_index;
    l.kind = kind_from(m->launch->kind);
    l.tear_down_first = m->launch->tear_down_first;
    l.delay_ms = m->launch->delay_ms;
    for (const auto& e : m->launch->blocked) {
      optimizer::block_entry be;
      be.scope = scope_from(e.scope);
      be.cloud = e.cloud;
      be.region = e.region;
      be.zone = e.zone;
      be.instance_type = e.instance_type;
      be.reason = e.reason;
      be.source = e.source;
      l.blocked.entries.push_back(std::move(be));
    }
    if (m->launch->only_in)
      l.only_in = from_m(*m->launch->only_in);
    l.narrowed = m->launch->narrowed;
    j.launch = std::move(l);
  }
  j.rounds_without_capacity = m->rounds_without_capacity;
  if (m->place)
    j.place = from_m(*m->place);
  j.submitted_at_ms = m->submitted_at_ms;
  j.started_at_ms = m->started_at_ms;
  j.ended_at_ms = m->ended_at_ms;
  j.state_since_ms = m->state_since_ms;
  for (const auto& bytes : m->tasks) {
    auto t = task::decode_task(bytes);
    if (!t)
      return t.error();
    s.tasks.push_back(std::move(*t));
  }
  s.cluster = m->cluster;
  s.cluster_job = m->cluster_job;
  s.attempts = m->attempts;
  s.cluster_left = m->cluster_left;
  s.infra = m->infra;
  return s;
}

protocol::managed_job_row row_of(const managed_job_snapshot& s) {
  protocol::managed_job_row r;
  const auto& j = s.job;
  r.job_id = j.id;
  r.name = j.name;
  r.status = std::string{optimizer::to_string(j.state)};
  r.reason = j.reason;
  r.recoveries = j.recovery_count;
  r.task = static_cast<uint32_t>(j.task_index + 1);
  r.tasks = static_cast<uint32_t>(j.tasks.size());
  r.cluster = s.cluster;
  r.infra = s.infra;
  r.submitted_at_ms = j.submitted_at_ms;
  r.started_at_ms = j.started_at_ms;
  r.ended_at_ms = j.ended_at_ms;
  r.state_since_ms = j.state_since_ms;
  r.task_id = managed_task_id(j, j.task_index);
  return r;
}

std::string managed_job_entity(uint64_t id) {
  return "managed_job." + std::to_string(id);
}

std::string managed_cluster_name(const optimizer::managed_job& job,
                                 size_t task_index) {
  std::string base;
  for (char c : job.name) {
    auto u = static_cast<unsigned char>(c);
    base += std::isalnum(u) ? static_cast<char>(std::tolower(u)) : '-';
  }
  // A letter first, no '-' runs at the ends, room for the suffix within
  // the 63 characters of a cluster name.
  while (!base.empty() && !std::isalpha(static_cast<unsigned char>(base[0])))
    base.erase(0, 1);
  if (base.size() > 40)
    base.resize(40);
  while (!base.empty() && base.back() == '-')
    base.pop_back();
  if (base.empty())
    base = "job";
  auto name = base + "-" + std::to_string(job.id);
  if (job.tasks.size() > 1)
    name += "-" + std::to_string(task_index + 1);
  return name;
}

std::string managed_task_id(const optimizer::managed_job& job,
                            size_t task_index) {
  return "sky-managed-" + std::to_string(job.submitted_at_ms) + "_" + job.name
         + "_" + std::to_string(job.id) + "-" + std::to_string(task_index);
}

} // namespace sky::optimizer
