#pragma once

// The frame loop of `launch`, `exec` and `logs`: skyd streams the plan,
// progress, the job's output and its state changes, then a final
// `job_outcome`. stream_printer turns frames into output (the task's
// output on stdout as is, everything else on stderr); pump_stream reads
// them, watches for a skyd that went silent, and on Ctrl-C cancels the
// stream (never the job) and detaches.

#include <chrono>
#include <cstdint>
#include <iosfwd>
#include <optional>
#include <string>
#include <utility>

#include "messages/cluster_protocol.hpp"
#include "skyctl/client.hpp"
#include "skyctl/progress.hpp"

namespace sky::cli {

/// managed: `jobs launch` and `jobs logs` (a managed job, by id only);
/// serve: `serve logs` (a replica's or the load balancer's log).
enum class stream_kind : uint8_t { launch, exec, logs, managed, serve };

/// How a stream is shown.
struct stream_view {
  stream_kind kind = stream_kind::launch;
  /// launch/exec -d: the stream ends once the job is submitted.
  bool detach = false;
  /// The plan table was printed before the confirmation prompt; a plan
  /// frame then only names a reused cluster.
  bool plan_shown = false;
  /// logs --status: no output, only the job's status.
  bool status_only = false;
  /// Glyphs in the plan table.
  bool utf8 = false;
  /// The cluster when known before skyd says (launch -c, exec, logs).
  std::string cluster;
  /// serve: the command that resumes following ("skyctl serve logs svc 2").
  std::string resume_command;
};

/// How a stream ended.
struct stream_end {
  enum class how : uint8_t { finished, failed, interrupted };
  how ended = how::failed;
  /// The final frame (finished; after Ctrl-C when skyd answered the
  /// cancel in time).
  protocol::job_outcome outcome;
  /// What went wrong (failed): skyd's error frame, or a local one.
  caf::error error;
};

/// The exit code a job's outcome gives skyctl: 0 for SUCCEEDED and for a
/// job that has not ended (still pending or running); the job's own exit
/// code when it failed with one in 1..255; else 1.
int job_exit_code(const protocol::job_outcome& outcome);

class stream_printer {
public:
  stream_printer(std::ostream& out, std::ostream& err,
                 progress_display& progress, stream_view view);

  /// One `more` frame. Unknown types are skipped (a newer skyd may add
  /// some).
  void on_item(const protocol::stream_item& item);

  /// Advances the spinner.
  void tick(progress_display::clock::time_point now);

  /// Prints how the stream ended and returns skyctl's exit code.
  int finish(const stream_end& end);

  /// The job's id once a frame named it (0 before).
  uint64_t job_id() const { return job_id_; }
  /// The cluster once known (empty before).
  const std::string& cluster() const { return cluster_; }

private:
  void on_plan(const protocol::plan_reply& plan);
  void on_progress(const protocol::stream_item& item);
  void on_log(const protocol::stream_item& item);
  void on_job(const protocol::stream_item& item);
  /// "✓ Job 3 finished (status: SUCCEEDED)." and its kin.
  std::string job_line(uint64_t job, const std::string& status,
                       std::optional<int32_t> exit_code) const;
  void end_output_line();
  int finish_ok(const protocol::job_outcome& outcome);
  void print_detached(const protocol::job_outcome& outcome);
  void print_cluster_hints();
  std::string cluster_or_placeholder() const;
  /// "skyctl logs CLUSTER ID" or "skyctl jobs logs ID".
  std::string follow_command() const;

  std::ostream& out_;
  std::ostream& err_;
  progress_display& progress_;
  stream_view view_;
  uint64_t job_id_ = 0;
  std::string cluster_;
  bool logs_started_ = false;
  /// stdout ended with a newline (or nothing was written).
  bool at_line_start_ = true;
  /// The job and status of the last terminal state printed from a frame.
  std::optional<std::pair<uint64_t, std::string>> printed_terminal_;
};

struct stream_settings {
  /// skyd sends a heartbeat every 5 s on a quiet stream: three missed mean
  /// it is gone.
  std::chrono::milliseconds idle_limit{16'000};
  /// How often the loop wakes to animate the spinner and notice Ctrl-C.
  std::chrono::milliseconds poll{100};
  /// After Ctrl-C, how long to wait for skyd to close the stream (so that
  /// the cancel notice leaves before the socket closes).
  std::chrono::milliseconds drain{2'000};
};

/// Reads the stream's frames into `printer` until the final one. Ctrl-C
/// (counted by an interrupt_guard the caller installs) cancels the stream;
/// a second Ctrl-C stops waiting for skyd's answer to that.
stream_end pump_stream(client::connection& conn, uint64_t stream,
                       stream_printer& printer,
                       const stream_settings& settings = {});

} // namespace sky::cli
