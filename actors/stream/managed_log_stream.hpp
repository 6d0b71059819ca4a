#pragma once

// `jobs logs` (and the tail of `jobs launch`): a managed job's output from
// the attempt logs kept under $SKYD_HOME/managed_jobs/<id>/ (every task and
// recovery in order), with a progress frame whenever the job's state
// changes. With follow it keeps reading until the job is final and every
// file is read, then answers with the job's outcome. Files are read on the
// worker pool, frames respect the client's credit, and a heartbeat goes out
// every 5 s so a long PENDING or STARTING phase does not look like a dead
// skyd.

#include <filesystem>
#include <string>

#include <caf/event_based_actor.hpp>
#include <caf/stateful_actor.hpp>

#include "actors/managed_job/managed_job.hpp"
#include "actors/stream/credit_stream.hpp"

namespace sky::actors {

struct managed_log_options {
  /// 0 = the latest job.
  uint64_t job_id = 0;
  bool follow = true;
  uint32_t window = 64;
  /// $SKYD_HOME/managed_jobs.
  std::filesystem::path dir;
  caf::timespan idle_wait = std::chrono::milliseconds(200);
};

struct managed_log_state {
  static inline const char* name = "managed_log_stream";

  credit_stream stream;
  /// The managed jobs registry.
  caf::actor jobs;
  caf::actor pool;
  managed_log_options opts;
  bool busy = false;
  /// The last state announced, and the job as last seen.
  std::string announced;
  protocol::managed_job_row row;
  /// Reading position: file index (in name order) and offset in it.
  size_t file = 0;
  uint64_t offset = 0;
};

/// Accepts (credit_atom, uint32_t), (cancel_atom), (peer_gone_atom) and
/// (shutdown_atom), like every stream.
caf::behavior managed_log_stream(caf::stateful_actor<managed_log_state>* self,
                                 reply_target target, caf::actor jobs,
                                 caf::actor pool, managed_log_options opts);

} // namespace sky::actors
