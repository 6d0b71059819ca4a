#pragma once

// What skyd persists about clusters and jobs: the latest snapshot of each,
// written in the same batch as the event that changed it, and read back at
// start-up to re-create the actors. Secrets are kept here (in the `state`
// column family under SKYD_HOME, 0700) because a pending job needs them to
// start after a restart; they never go into events, logs or replies.

#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include <msgpack.hpp>

#include "messages/cluster.hpp"
#include "messages/result.hpp"

namespace sky {

/// A node of a cluster as skyd knows it.
struct node_entry {
  uint32_t rank = 0;
  std::string instance_id;
  std::string ip;

  MSGPACK_DEFINE_MAP(rank, instance_id, ip)
};

/// A `launch --retry-until-up` that has not reached UP yet. Kept in the
/// snapshot so that a skyd restart resumes its rounds instead of dropping
/// an acknowledged launch: the task is needed to rank places again and to
/// submit the job once the cluster is UP.
struct retrying_launch {
  /// The task, msgpack-encoded (task::encode_task), secrets included.
  std::string task;
  bool run_setup = true;
  std::optional<autostop_info> autostop;
  std::string task_id;
  /// When the next round starts (Unix ms); 0 while a round is in flight.
  int64_t retry_at_ms = 0;

  MSGPACK_DEFINE_MAP(task, run_setup, autostop, task_id, retry_at_ms)
};

struct cluster_snapshot {
  std::string name;
  /// to_string(cluster_status).
  std::string status = "INIT";
  /// What is in flight. Restarting skyd resumes or reconciles it. Stored
  /// as its number; snapshots written before it was typed hold its text
  /// ("", "provisioning", ...), which still decodes.
  cluster_phase phase = cluster_phase::none;
  placement_info placement;
  std::vector<node_entry> nodes;
  autostop_info autostop;
  /// When the cluster last became idle (no job pending or running), Unix
  /// ms; 0 while busy.
  int64_t idle_since_ms = 0;
  int64_t launched_at_ms = 0;
  uint64_t next_job_id = 1;
  /// Provisioning attempts so far (the idempotency key's counter).
  uint32_t attempts = 0;
  /// Why the cluster is INIT, when it is.
  std::string reason;
  /// Set while a --retry-until-up launch is provisioning.
  std::optional<retrying_launch> retrying;
  /// Who the cluster belongs to (managed_job_owner; "" = the user), from
  /// its first launch. Absent in snapshots written before owners existed:
  /// such a cluster counts as the user's, but a managed job may still tear
  /// down one of its name (it may have launched it before the upgrade).
  std::optional<std::string> owner;

  MSGPACK_DEFINE_MAP(name, status, phase, placement, nodes, autostop,
                     idle_since_ms, launched_at_ms, next_job_id, attempts,
                     reason, retrying, owner)
};

/// A running process of a job on one node.
struct process_ref {
  uint32_t rank = 0;
  int64_t pid = 0;
  uint64_t start_ticks = 0;
  std::string log_file;
  std::string exit_file;

  MSGPACK_DEFINE_MAP(rank, pid, start_ticks, log_file, exit_file)
};

struct job_snapshot {
  std::string cluster;
  uint64_t job_id = 0;
  std::string name;
  /// to_string(job_status).
  std::string status = "INIT";
  /// The task, msgpack-encoded (task::encode_task), secrets included.
  std::string task;
  /// Run the task's setup before its run (first job of a launch).
  bool run_setup = false;
  /// "setup" or "run" while processes are live.
  std::string phase;
  std::vector<process_ref> processes;
  int64_t submitted_at_ms = 0;
  int64_t started_at_ms = 0;
  int64_t ended_at_ms = 0;
  std::optional<int32_t> exit_code;
  /// Resources the job holds on the cluster while it runs.
  double cpus = 0;
  double memory_gib = 0;
  std::string accelerator;
  double accelerator_count = 0;
  uint32_t num_nodes = 1;
  /// "sky-<submitted>_<cluster>_<id>": stable across restarts/recoveries.
  std::string task_id;
  /// Why the job failed, when it did.
  std::string reason;
  /// First line of the run command, for `queue`.
  std::string command;
  /// Where it runs (from the scheduler): node ranks, GPU device indices per
  /// rank and the share of each device held.
  std::vector<uint32_t> ranks;
  std::vector<std::vector<uint32_t>> devices;
  double device_share = 0;

  MSGPACK_DEFINE_MAP(cluster, job_id, name, status, task, run_setup, phase,
                     processes, submitted_at_ms, started_at_ms, ended_at_ms,
                     exit_code, cpus, memory_gib, accelerator,
                     accelerator_count, num_nodes, task_id, reason, command,
                     ranks, devices, device_share)
};

/// Entities (and topics) of clusters and jobs.
inline std::string cluster_entity(const std::string& cluster) {
  return "cluster." + cluster;
}
inline std::string job_entity(const std::string& cluster, uint64_t id) {
  return "job." + cluster + "." + std::to_string(id);
}

} // namespace sky

// The phase on the wire: its number; its text (older snapshots) decodes
// too. Defined in cluster_snapshot.cpp.
namespace msgpack {
MSGPACK_API_VERSION_NAMESPACE(MSGPACK_DEFAULT_API_NS) {
  namespace adaptor {

  template <>
  struct convert<sky::cluster_phase> {
    const msgpack::object& operator()(const msgpack::object& o,
                                      sky::cluster_phase& v) const;
  };

  template <>
  struct pack<sky::cluster_phase> {
    template <class Stream>
    msgpack::packer<Stream>& operator()(msgpack::packer<Stream>& o,
                                        sky::cluster_phase v) const {
      o.pack(static_cast<uint8_t>(v));
      return o;
    }
  };

  template <>
  struct object_with_zone<sky::cluster_phase> {
    void operator()(msgpack::object::with_zone& o, sky::cluster_phase v) const {
      o.type = msgpack::type::POSITIVE_INTEGER;
      o.via.u64 = static_cast<uint8_t>(v);
    }
  };

  } // namespace adaptor
} // MSGPACK_API_VERSION_NAMESPACE(MSGPACK_DEFAULT_API_NS)
} // namespace msgpack
