#pragma once

// Copies the output of one attempt of a managed job (a job on the job's
// cluster) into a file under $SKYD_HOME, so that `jobs logs` works after
// the cluster is torn down, and tells the supervisor how the job ended.
// It drives an ordinary log_stream (the code behind `skyctl logs -f`)
// whose frames come to this actor instead of the gateway; each chunk is
// appended on the worker pool before more credit is given, so memory stays
// bounded by one chunk.
//
// (poll_atom) from the supervisor makes the stream read now (the job ended).
//
// Reports to the supervisor, then quits:
//   (done_atom, epoch, protocol::job_outcome)  the job ended, all copied
//   (done_atom, epoch, std::string why)        the job or cluster is gone

#include <deque>
#include <filesystem>
#include <string>

#include <caf/event_based_actor.hpp>
#include <caf/stateful_actor.hpp>

#include "actors/managed_job/managed_job.hpp"

namespace sky::actors {

struct archiver_args {
  caf::actor supervisor;
  uint64_t epoch = 0;
  caf::actor clusters;
  caf::actor pool;
  std::string cluster;
  uint64_t job_id = 0;
  std::filesystem::path file;
  /// Written first (the file is rewritten from scratch: after a restart
  /// the stream reads the job's output from its start again).
  std::string header;
  caf::timespan poll = std::chrono::milliseconds(500);
  /// The read interval doubles up to this while nothing is written.
  caf::timespan max_poll = std::chrono::milliseconds(500);
};

struct archiver_state {
  static inline const char* name = "managed_job_archiver";

  archiver_args args;
  caf::actor stream;
  /// Chunks to append (true: truncate the file first).
  std::deque<std::pair<std::string, bool>> to_write;
  /// Failed reads tried again before the attempt counts as lost.
  uint32_t retries_left = 30;
  bool writing = false;
  /// The final report, sent once everything before it is written.
  std::optional<protocol::job_outcome> outcome;
  std::optional<std::string> lost;
};

caf::behavior log_archiver(caf::stateful_actor<archiver_state>* self,
                           archiver_args args);

} // namespace sky::actors
