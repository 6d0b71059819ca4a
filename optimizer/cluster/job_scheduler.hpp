#pragma once

// Which queued jobs of a cluster start now, and where (docs/JOBS.md).
//
// Jobs start in submission order as resources allow. A later job may start
// ahead of an earlier one that has to wait only if it cannot make that
// earlier job wait for it: every waiting job must still fit on the cluster
// next to all the running jobs submitted after it. An earlier job therefore
// only ever waits for jobs submitted before it. No runtime estimates, no
// clock: the caller passes what runs and what waits, and gets back the jobs
// to start with their nodes and GPU devices.
//
// Units: vCPUs, GiB, GPU devices, all per node. Every node of a cluster has
// the same shape; the node shape must carry real numbers (cpus > 0). A shape
// with memory_gib == 0 means memory is not tracked and jobs' memory demands
// are ignored (SkyPilot does not count memory for jobs either).

#include <cstdint>
#include <string>
#include <vector>

#include "messages/result.hpp"

namespace sky::optimizer {

/// What a job asks for, per node it runs on.
struct job_request {
  /// Submission order: a smaller id was submitted earlier.
  uint64_t id = 0;
  /// Number of cluster nodes the job runs on.
  uint32_t nodes = 1;
  /// Per node. 0.5 is SkyPilot's share for a job, so a 4-vCPU node runs 8
  /// CPU-only jobs side by side.
  double cpus = 0.5;
  /// Per node; 0 takes no memory.
  double memory_gib = 0;
  /// Accelerator name, "" = none. Matched case-insensitively with the node's.
  std::string gpu;
  /// Per node. Below 1 the job takes a share of one device (A10:0.5); from 1
  /// on it takes that many whole devices, so it must be a whole number.
  double gpus = 0;
};

/// The shape of every node of a cluster.
struct node_shape {
  /// Must be > 0 (check_job_fits refuses every job otherwise).
  double cpus = 0;
  /// 0 = memory is not tracked: jobs' memory_gib is ignored.
  double memory_gib = 0;
  std::string gpu;
  uint32_t gpu_devices = 0;
};

/// Where a started job runs.
struct job_placement {
  uint64_t id = 0;
  /// Cluster node ranks (0 = head), ascending. The job's own node rank
  /// (SKYPILOT_NODE_RANK) is the index into this list.
  std::vector<uint32_t> ranks;
  /// Per entry of `ranks`: the GPU device indices the job holds on that node
  /// (what CUDA_VISIBLE_DEVICES lists), ascending; empty without GPUs.
  std::vector<std::vector<uint32_t>> devices;
  /// Fraction of each listed device the job holds: 1 for whole devices, the
  /// requested share for a fractional GPU, 0 without GPUs.
  double device_share = 0;
};

struct running_job {
  job_request request;
  job_placement placement;
};

struct schedule_decision {
  /// Jobs to start now, in submission order.
  std::vector<job_placement> start;
  /// Pending jobs that cannot run even on an empty cluster (check_job_fits
  /// fails for them), in submission order. They never start and never hold
  /// up other jobs; the caller should fail them with check_job_fits' reason.
  std::vector<uint64_t> never_fit;
};

/// Ok when `job` could run on an empty cluster of `cluster_nodes` nodes of
/// shape `node`. Otherwise:
/// - errc::invalid_argument for a malformed request or cluster shape, e.g.
///   "fractional GPUs must be < 1 or whole: 1.5", "job needs at least 1 node";
/// - errc::conflict for a request larger than the cluster, e.g. "job needs 8
///   vCPUs per node, the cluster's nodes have 4", "job needs 3 nodes, the
///   cluster has 2", "job needs A100:2 per node, nodes have 1 A100".
/// Used to refuse such jobs at submission instead of queueing them forever.
result<void> check_job_fits(const node_shape& node, uint32_t cluster_nodes,
                            const job_request& job);

/// Which pending jobs start now, given the jobs running. `pending` may come
/// in any order: jobs are considered by increasing id. Rules (docs/JOBS.md):
/// - a job starts when its per-node demand is free on `nodes` distinct nodes;
///   the lowest ranks are preferred, so a one-node job lands on the head;
/// - whole GPUs are the lowest free device indices; a fractional GPU packs
///   onto the partly shared device with the least room that still fits it,
///   else the lowest free device;
/// - a job may start while an earlier pending job E waits only if E still
///   fits on the cluster holding just the running and starting jobs
///   submitted after E (including this one). Checked against every waiting
///   earlier job.
/// Deterministic: the same input gives the same output. Running placements
/// outside the cluster (rank or device index too large) are ignored.
schedule_decision schedule_jobs(const node_shape& node, uint32_t cluster_nodes,
                                const std::vector<running_job>& running,
                                const std::vector<job_request>& pending);

/// The value of CUDA_VISIBLE_DEVICES on the job's `rank_index`-th node
/// (an index into `placement.ranks`): "0,1"; "" without devices or when
/// `rank_index` is out of range.
std::string cuda_visible_devices(const job_placement& placement,
                                 size_t rank_index);

/// What the running jobs leave free on one node, for `skyctl queue` and
/// `status`. Values go negative when running jobs over-commit the node
/// (e.g. a running set recorded for a larger shape).
struct node_usage {
  uint32_t rank = 0;
  double cpus_free = 0;
  /// 0 when the shape does not track memory.
  double memory_gib_free = 0;
  /// Per device index: the free fraction of that device (1 = unused).
  std::vector<double> device_free;
  /// Ids of the jobs running on this node, ascending.
  std::vector<uint64_t> jobs;
};

/// One entry per node rank 0..cluster_nodes-1.
std::vector<node_usage> usage(const node_shape& node, uint32_t cluster_nodes,
                              const std::vector<running_job>& running);

} // namespace sky::optimizer
