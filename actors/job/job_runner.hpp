#pragma once

// The blocking half of running a job on a cluster's nodes: syncing the
// workdir and file mounts, starting the setup or run processes with
// SkyPilot's environment, polling them, signalling them, reading their
// logs. Every function here does I/O and runs on a worker of the worker
// pool, never on an actor thread.

#include <functional>
#include <memory>
#include <string>
#include <vector>

#include "messages/cluster_snapshot.hpp"
#include "messages/task/task_spec.hpp"
#include "providers/provider.hpp"

namespace sky::actors {

/// Where a job runs and what it needs to know about the cluster.
struct job_context {
  std::shared_ptr<providers::provider> provider;
  std::shared_ptr<const providers::cluster_record> record;
  std::string cluster;
  uint64_t job_id = 0;
  std::string task_id;
  task::task_spec task;
  /// Ranks of the cluster the job runs on (the first is the job's head).
  std::vector<uint32_t> ranks;
  /// CUDA_VISIBLE_DEVICES per entry of `ranks` ("" when no GPU).
  std::vector<std::string> cuda_visible_devices;
  uint32_t gpus_per_node = 0;
};

/// "setup" or "run".
enum class job_phase : uint8_t { setup, run };

std::string_view to_string(job_phase p) noexcept;

/// Log file (relative to the node's home) of a job's phase on a rank.
std::string job_log_file(uint64_t job_id, job_phase phase, uint32_t rank);

/// SkyPilot's environment for a phase on the i-th node of the job, plus
/// the task's envs and secrets.
std::map<std::string, std::string>
job_environment(const job_context& ctx, job_phase phase, size_t index);

/// Syncs the workdir and local file mounts to every node of the job.
result<void> sync_job_files(const job_context& ctx);

/// Starts the phase's script on every node of the job; on a failure, the
/// processes already started are killed and the error returned.
result<std::vector<process_ref>> start_phase(const job_context& ctx,
                                             job_phase phase);

/// The status of each process, in the order given.
result<std::vector<providers::process_status>>
poll_processes(const job_context& ctx, const std::vector<process_ref>& procs);

/// Asks each process's channel to call `notify` when the process ends
/// (node_channel::watch_exit); true when every channel will. `notify` may
/// be called from any thread, and at once for a process already ended.
result<bool> watch_processes(const job_context& ctx,
                             const std::vector<process_ref>& procs,
                             const std::function<void()>& notify);

/// Sends `sig` to each process (errors for processes already gone are
/// ignored).
void signal_processes(const job_context& ctx,
                      const std::vector<process_ref>& procs, int sig);

/// A chunk of one rank's log of a phase.
result<providers::log_chunk> read_job_log(const job_context& ctx,
                                          const std::string& log_file,
                                          uint32_t rank, uint64_t offset,
                                          size_t max_bytes);

} // namespace sky::actors
