#pragma once

// Bodies of the cluster and job verbs (launch, exec, status, stop, start,
// down, autostop, queue, logs, cancel, optimize, show_gpus). Listed with
// their fields in docs/PROTOCOL.md.

#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include <msgpack.hpp>

#include "messages/cluster.hpp"
#include "messages/result.hpp"
#include "messages/task/task_spec.hpp"

namespace sky::protocol {

// -- optimizer output, shared by `optimize` (launch --dryrun) and the plan
//    frame of a launch -------------------------------------------------------

struct candidate_row {
  std::string cloud;
  std::string region;
  std::string zone;
  std::string instance_type;
  /// "A100:8", or "" without accelerators.
  std::string accelerators;
  double cpus = 0;
  double memory_gib = 0;
  bool use_spot = false;
  uint32_t num_nodes = 1;
  /// All nodes, per hour.
  double hourly_price = 0;
  bool chosen = false;

  MSGPACK_DEFINE_MAP(cloud, region, zone, instance_type, accelerators, cpus,
                     memory_gib, use_spot, num_nodes, hourly_price, chosen)
};

struct exclusion_row {
  std::string infra;
  std::string reason;

  MSGPACK_DEFINE_MAP(infra, reason)
};

struct task_plan {
  std::string name;
  uint32_t num_nodes = 1;
  std::vector<candidate_row> candidates;
  std::vector<exclusion_row> excluded;

  MSGPACK_DEFINE_MAP(name, num_nodes, candidates, excluded)
};

/// Reply of `optimize`; also the `plan` frame of `launch`.
struct plan_reply {
  std::vector<task_plan> tasks;
  double total_hourly_price = 0;
  /// Set by launch when an existing cluster is reused (no optimization).
  std::string reused_cluster;

  MSGPACK_DEFINE_MAP(tasks, total_hourly_price, reused_cluster)
};

// -- requests -------------------------------------------------------------

/// `launch`: provision (or reuse) a cluster and run the task as a job.
struct launch_request {
  /// Empty: skyd picks a name.
  std::string cluster;
  task::pipeline_spec pipeline;
  /// Answer once the job is submitted instead of streaming its output.
  bool detach = false;
  /// Tear the cluster down once it is idle (after `idle_minutes`, default 0).
  bool down = false;
  /// Autostop after this many idle minutes; -1 = leave as is / off.
  int32_t idle_minutes = -1;
  bool retry_until_up = false;
  /// Skip setup on a reused cluster.
  bool no_setup = false;
  uint32_t window = 64;
};

std::string encode(const launch_request& req);
result<launch_request> decode_launch_request(std::string_view body);

/// `exec`: run a task as a new job on an existing UP cluster.
struct exec_request {
  std::string cluster;
  task::task_spec task;
  bool detach = false;
  uint32_t window = 64;
};

std::string encode(const exec_request& req);
result<exec_request> decode_exec_request(std::string_view body);

/// `optimize`: rank where a pipeline would run (launch --dryrun).
struct optimize_request {
  task::pipeline_spec pipeline;
};

std::string encode(const optimize_request& req);
result<optimize_request> decode_optimize_request(std::string_view body);

/// `stop`, `start`, `down`, `status`: clusters by name, or all.
struct clusters_request {
  std::vector<std::string> clusters;
  bool all = false;

  MSGPACK_DEFINE_MAP(clusters, all)
};

/// One outcome per cluster of stop/start/down.
struct cluster_outcome {
  std::string cluster;
  bool ok = false;
  std::string status;
  std::string message;
  /// Why it failed, for code that acts on it (a teardown counts a cluster
  /// that does not exist as gone): the message is for people. Sent as the
  /// code's name; a peer that sends none (older skyd) or a name this build
  /// does not know reads as errc::none.
  errc code = errc::none;

  MSGPACK_DEFINE_MAP(cluster, ok, status, message, code)
};

struct outcomes_reply {
  std::vector<cluster_outcome> results;

  MSGPACK_DEFINE_MAP(results)
};

struct status_reply {
  std::vector<cluster_summary> clusters;

  MSGPACK_DEFINE_MAP(clusters)
};

struct autostop_request {
  std::string cluster;
  int32_t idle_minutes = -1;
  bool down = false;
  bool cancel = false;

  MSGPACK_DEFINE_MAP(cluster, idle_minutes, down, cancel)
};

struct queue_request {
  /// Empty: every cluster.
  std::vector<std::string> clusters;

  MSGPACK_DEFINE_MAP(clusters)
};

struct queue_reply {
  std::vector<job_summary> jobs;

  MSGPACK_DEFINE_MAP(jobs)
};

struct logs_request {
  std::string cluster;
  /// 0 = the latest job.
  uint64_t job_id = 0;
  bool follow = true;
  /// Only the job's status, no output.
  bool status_only = false;
  uint32_t window = 64;

  MSGPACK_DEFINE_MAP(cluster, job_id, follow, status_only, window)
};

struct cancel_request {
  std::string cluster;
  std::vector<uint64_t> job_ids;
  bool all = false;

  MSGPACK_DEFINE_MAP(cluster, job_ids, all)
};

struct show_gpus_request {
  /// "A100", "A100:8", "" for all.
  std::string filter;
  /// "gcp", "gcp/us-central1", "local", "" for all enabled.
  std::string infra;

  MSGPACK_DEFINE_MAP(filter, infra)
};

struct gpu_offer_row {
  std::string cloud;
  std::string region;
  double count = 0;
  std::string instance_type;
  double vcpus = 0;
  double memory_gib = 0;
  std::optional<double> price;
  std::optional<double> spot_price;
  std::string spot_instance_type;

  MSGPACK_DEFINE_MAP(cloud, region, count, instance_type, vcpus, memory_gib,
                     price, spot_price, spot_instance_type)
};

struct gpu_row {
  std::string name;
  std::vector<double> counts;
  std::optional<double> device_memory_gib;
  std::vector<gpu_offer_row> offers;

  MSGPACK_DEFINE_MAP(name, counts, device_memory_gib, offers)
};

struct show_gpus_reply {
  std::vector<gpu_row> accelerators;

  MSGPACK_DEFINE_MAP(accelerators)
};

// -- stream frames of launch, exec and logs --------------------------------

/// One `more` frame. `type` says which fields are set:
///   "plan"     plan (the optimizer's table, or the reused cluster)
///   "progress" stage and message ("provisioning", "gcp/us-central1 ...")
///   "log"      job_id and data (output, whole lines; multi-node output is
///              prefixed per node)
///   "job"      job_id and status: the job's state changed
struct stream_item {
  std::string type;
  std::optional<plan_reply> plan;
  std::string stage;
  std::string message;
  uint64_t job_id = 0;
  std::string data;
  std::string status;

  MSGPACK_DEFINE_MAP(type, plan, stage, message, job_id, data, status)
};

/// The final `ok` frame of launch, exec and logs.
struct job_outcome {
  std::string cluster;
  uint64_t job_id = 0;
  /// The job's status when the stream ended ("SUCCEEDED", or "RUNNING" for
  /// a detached launch).
  std::string status;
  std::optional<int32_t> exit_code;

  MSGPACK_DEFINE_MAP(cluster, job_id, status, exit_code)
};

/// Decodes any MSGPACK_DEFINE_MAP struct from a body, naming `what` in
/// errors.
template <class T>
result<T> decode_as(std::string_view body, std::string_view what);

} // namespace sky::protocol

#include "messages/cluster_protocol_impl.hpp"

// errc on the wire as its name (messages/errc.hpp: names are the protocol).
// Defined in cluster_protocol.cpp.
namespace msgpack {
MSGPACK_API_VERSION_NAMESPACE(MSGPACK_DEFAULT_API_NS) {
  namespace adaptor {

  template <>
  struct convert<sky::errc> {
    const msgpack::object& operator()(const msgpack::object& o,
                                      sky::errc& v) const;
  };

  template <>
  struct pack<sky::errc> {
    template <class Stream>
    msgpack::packer<Stream>& operator()(msgpack::packer<Stream>& o,
                                        sky::errc v) const {
      o.pack(sky::to_string(v));
      return o;
    }
  };

  } // namespace adaptor
} // MSGPACK_API_VERSION_NAMESPACE(MSGPACK_DEFAULT_API_NS)
} // namespace msgpack
