#pragma once

// Clusters and jobs as skyd reports them: states, summaries for `status` and
// `queue`, and the names users give clusters. Wire structs use MSGPACK's map
// form with field names, so JSON output and other tools read them as is.

#include <cstdint>
#include <map>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include <msgpack.hpp>

#include "messages/result.hpp"

namespace sky {

/// SkyPilot's cluster states. A torn-down cluster leaves the list; its
/// history stays in the event log.
enum class cluster_status : uint8_t { init, up, autostopping, stopped };

std::string_view to_string(cluster_status s) noexcept;
std::optional<cluster_status> cluster_status_from(std::string_view s);

/// The operation in flight on a cluster, kept in its snapshot so that a
/// restarted skyd resumes or reconciles it. `none`: nothing in flight.
enum class cluster_phase : uint8_t {
  none,
  provisioning,
  starting,
  stopping,
  terminating
};

/// "provisioning", ...; "" for none (the text snapshots stored before the
/// phase was typed, and what events and messages show).
std::string_view to_string(cluster_phase p) noexcept;
std::optional<cluster_phase> cluster_phase_from(std::string_view s);

/// Why a cluster is stopped or torn down. Typed so that what follows from
/// it (an autostop's stop shows AUTOSTOPPING) is never read from the text.
enum class stop_cause : uint8_t {
  /// `skyctl stop` / `down`, or a managed job tearing its cluster down.
  user,
  /// The cluster was idle for its autostop minutes.
  autostop,
  /// skyd restarted with the stop or teardown in flight.
  restart_resume,
};

/// SkyPilot's job states on a cluster.
enum class job_status : uint8_t {
  init,
  pending,
  setting_up,
  running,
  succeeded,
  failed,
  failed_setup,
  failed_driver,
  cancelled
};

std::string_view to_string(job_status s) noexcept;
std::optional<job_status> job_status_from(std::string_view s);
bool is_terminal(job_status s) noexcept;

/// Cluster names follow SkyPilot's rule (a letter first, then letters,
/// digits, '-' or '_', ending with a letter or digit; at most 63
/// characters), except that '.' is not allowed because names are parts of
/// dotted event topics. The error says what is wrong and gives an example.
result<void> validate_cluster_name(std::string_view name);

/// Where and on what a cluster runs.
struct placement_info {
  /// "local", "aws", "gcp", "ssh", ...
  std::string provider;
  std::string region;
  std::string zone;
  std::string instance_type;
  bool use_spot = false;
  uint32_t num_nodes = 1;
  /// Per node.
  double cpus = 0;
  double memory_gib = 0;
  std::string accelerator;
  double accelerator_count = 0;
  /// All nodes, per hour.
  double hourly_price = 0;
  /// What each node reserved on fixed-capacity infra.
  double reserved_cpus = 0;
  double reserved_memory_gib = 0;
  std::map<std::string, double> reserved_gpus;

  /// "local", "gcp/us-central1/us-central1-a".
  std::string infra() const;
  /// "2x(8 vCPUs, 32 GiB, A100:1)" or "1x(local)".
  std::string resources_text() const;

  MSGPACK_DEFINE_MAP(provider, region, zone, instance_type, use_spot, num_nodes,
                     cpus, memory_gib, accelerator, accelerator_count,
                     hourly_price, reserved_cpus, reserved_memory_gib,
                     reserved_gpus)
};

/// Autostop of a cluster: off when idle_minutes < 0.
struct autostop_info {
  int32_t idle_minutes = -1;
  bool down = false;

  bool enabled() const { return idle_minutes >= 0; }
  /// "10m", "10m (down)", "-".
  std::string text() const;

  MSGPACK_DEFINE_MAP(idle_minutes, down)
};

/// Who a cluster belongs to. "" is the user: every cluster `skyctl launch`
/// makes, and every cluster recorded before owners existed. A managed job's
/// cluster belongs to "managed_job.<id>": the job launched it and tears it
/// down; the user's verbs (down, stop, exec, ...) leave it alone.
std::string managed_job_owner(uint64_t job_id);
/// The managed job id of an owner, when the owner is a managed job.
std::optional<uint64_t> owner_job_id(std::string_view owner);
/// "managed job 7" for an owner, "the user" for "".
std::string owner_text(std::string_view owner);

/// One row of `skyctl status`.
struct cluster_summary {
  std::string name;
  /// "INIT", "UP", "AUTOSTOPPING", "STOPPED".
  std::string status;
  placement_info placement;
  autostop_info autostop;
  int64_t launched_at_ms = 0;
  /// Unix ms at which autostop fires (0 when not scheduled).
  int64_t autostop_at_ms = 0;
  std::string head_ip;
  /// Why the cluster is INIT (a failed launch, a lost node), if it is.
  std::string reason;
  uint64_t jobs_total = 0;
  uint64_t jobs_active = 0;
  /// Who it belongs to (see managed_job_owner); "" = the user. Absent in
  /// replies of older skyds: the user's.
  std::string owner;

  MSGPACK_DEFINE_MAP(name, status, placement, autostop, launched_at_ms,
                     autostop_at_ms, head_ip, reason, jobs_total, jobs_active,
                     owner)
};

/// One row of `skyctl queue`.
struct job_summary {
  std::string cluster;
  uint64_t job_id = 0;
  std::string name;
  /// The run command (first line), for the table.
  std::string command;
  /// "PENDING", "RUNNING", ...
  std::string status;
  int64_t submitted_at_ms = 0;
  int64_t started_at_ms = 0;
  int64_t ended_at_ms = 0;
  std::optional<int32_t> exit_code;
  /// "1x[CPU:0.5]", "2x[A100:1]".
  std::string resources;
  uint32_t num_nodes = 1;
  std::string log_dir;
  /// SKYPILOT_TASK_ID of the job (a managed job finds its task by it after
  /// a restart). Absent in replies of older skyds.
  std::string task_id;

  MSGPACK_DEFINE_MAP(cluster, job_id, name, command, status, submitted_at_ms,
                     started_at_ms, ended_at_ms, exit_code, resources,
                     num_nodes, log_dir, task_id)
};

} // namespace sky
