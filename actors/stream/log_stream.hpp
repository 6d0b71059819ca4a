#pragma once

// Streams a job's output to a client (`logs`, and the tail of `launch` and
// `exec`): setup output first, then the run's, per node; lines of
// multi-node jobs are prefixed with the node. With follow it keeps reading
// until the job ends and everything it wrote has been sent, then answers
// with the job's outcome. Reads run on the worker pool; frames respect the
// client's credit, so a slow client only slows the reading.

#include <map>
#include <string>
#include <vector>

#include <caf/event_based_actor.hpp>
#include <caf/stateful_actor.hpp>

#include "actors/cluster/cluster_actor.hpp"
#include "actors/stream/credit_stream.hpp"

namespace sky::actors {

struct log_stream_options {
  std::string cluster;
  uint64_t job_id = 0;
  bool follow = true;
  bool status_only = false;
  uint32_t window = 64;
  /// How long to wait between reads while the job runs and writes nothing.
  caf::timespan idle_wait = std::chrono::milliseconds(50);
  /// When above idle_wait, the wait doubles after each read that found
  /// nothing, up to this (a managed job's archiver: thousands of quiet jobs
  /// must not be read twice a second each). Output or (poll_atom) resets it.
  caf::timespan max_idle_wait{};
};

struct log_file_cursor {
  std::string file;
  uint32_t rank = 0;
  uint64_t offset = 0;
  /// Output after the last newline, held until the line completes.
  std::string partial;
};

struct log_stream_state {
  static inline const char* name = "log_stream";

  credit_stream stream;
  caf::actor registry;
  caf::actor pool;
  log_stream_options opts;
  /// The current wait between reads (idle_wait, doubled while idle).
  caf::timespan wait{};
  /// Tags the one delayed tick that counts; a poll or a reset makes the
  /// earlier ones stale, so there is never more than one read loop.
  uint64_t tick_epoch = 0;
  bool reading = false;
  job_log_target job;
  std::vector<log_file_cursor> files;
};

/// Answers through `target`; accepts (credit_atom, uint32_t),
/// (cancel_atom), (peer_gone_atom) and (poll_atom): read now and go back to
/// the shortest wait (the job changed, e.g. it ended).
caf::behavior log_stream(caf::stateful_actor<log_stream_state>* self,
                         reply_target target, caf::actor registry,
                         caf::actor pool, log_stream_options opts);

/// "(head, rank=0) " / "(worker1, rank=1) ": SkyPilot-like prefixes for
/// lines of multi-node jobs.
std::string node_prefix(size_t index_in_job, uint32_t rank);

/// Splits `data` into complete lines (each with its '\n'), prefixing each
/// with `prefix`; what follows the last newline stays in `partial`.
std::string complete_lines(std::string& partial, const std::string& data,
                           const std::string& prefix);

} // namespace sky::actors
