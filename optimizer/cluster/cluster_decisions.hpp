#pragma once

// What a cluster does next: the pure decision its actor calls on every
// request (launch, start, stop, down) and when a launch round finds no
// candidate. The actor then records `record_kind` with the returned
// snapshot, and only once that is durable carries `step` out, as the
// managed job's supervisor does (actors/managed_job/managed_job.cpp).
//
//   (cluster facts, event, now) -> (next snapshot, step)
//
// No clock (the caller passes now), no I/O, no actors.

#include <cstdint>
#include <optional>
#include <string>
#include <variant>

#include "messages/result.hpp"
#include "messages/task/task_spec.hpp"
#include "optimizer/cluster/cluster_model.hpp"

namespace sky::optimizer {

/// Events the cluster actor feeds in.
namespace cl_event {

/// `launch` (also `launch -c NAME` on an existing cluster).
struct launch_requested {
  const task::task_spec& task;
  bool run_setup = true;
  std::optional<autostop_info> autostop;
  bool retry_until_up = false;
  std::string task_id;
  /// "" = the user; a new cluster belongs to its first launch's owner.
  std::string owner;
};

/// `start`, or a launch of a STOPPED cluster (or one that restarts in
/// place).
struct start_requested {};

struct stop_requested {
  stop_cause cause = stop_cause::user;
};

struct down_requested {
  stop_cause cause = stop_cause::user;
};

/// A launch round ranked no candidate left (every place blocked or full).
struct no_candidates {
  bool retry_until_up = false;
  /// Provisioning attempts of the launch so far (0: the first ranking).
  uint32_t tries = 0;
  /// Why no place can run the task (describe_exclusions).
  std::string exclusions;
};

} // namespace cl_event

using cluster_event
  = std::variant<cl_event::launch_requested, cl_event::start_requested,
                 cl_event::stop_requested, cl_event::down_requested,
                 cl_event::no_candidates>;

enum class cluster_step : uint8_t {
  /// Answer only the request with `error` (busy, does not fit): nothing
  /// in flight is affected.
  refuse,
  /// Answer every request waiting for the operation with `error`.
  fail,
  /// The cluster is already there (STOPPED for a stop, UP for a start):
  /// answer the waiters with its status (a start also submits the
  /// launches waiting for it).
  finish,
  /// The launch waits for the provisioning or start in flight.
  queue_launch,
  /// Queue the launch, then rank places and try them (after recording).
  provision,
  /// Queue the launch and start the cluster where it is (a start
  /// request follows; `relaunch_in_place` says which text to show).
  start_in_place,
  /// UP and the task fits: submit its job (plan reply: reused).
  reuse,
  /// After recording: end every job, then stop the instances.
  stop,
  /// After recording: start the instances where the cluster's disks are.
  start,
  /// After recording: end every job, then terminate the instances.
  tear_down,
  /// Nothing was recorded of the cluster: erase it at once.
  erase,
  /// A provisioning attempt is out: the teardown waits for its answer.
  wait_for_attempt,
  /// --retry-until-up: wait `retry_wait_ms`, forget the blocks, try again.
  retry_later,
  /// The launch fails with `error`.
  fail_launch,
};

struct cluster_decision {
  cluster_step step = cluster_step::refuse;
  /// The snapshot after the event: the actor takes it before recording.
  cluster_snapshot snap;
  /// The event to record before carrying the step out ("" = none).
  std::string record_kind;
  /// The `reason` of a stop's or teardown's event.
  std::string reason;
  caf::error error;
  int64_t retry_wait_ms = 0;
  /// start_in_place: an INIT cluster with nodes (not a STOPPED one).
  bool relaunch_in_place = false;
};

/// The gates (docs/ARCHITECTURE.md, cluster):
/// - launch: the first launch of an unrecorded cluster takes its owner and
///   provisions (later ones queue); a provisioning or start in flight
///   queues it, another operation refuses it; UP reuses the cluster when
///   the task fits; STOPPED (or INIT with nodes) starts in place; INIT
///   provisions again;
/// - start: busy while anything is in flight; UP finishes; only STOPPED or
///   INIT with nodes starts (where its disks are), with a provider;
/// - stop: busy while anything is in flight; STOPPED finishes; providers
///   without stop, spot clusters and INIT clusters without nodes are
///   refused; an autostop's stop of an UP cluster shows AUTOSTOPPING;
/// - down: busy while terminating; waits for an attempt in flight; an
///   unrecorded cluster is erased at once;
/// - no candidates: --retry-until-up after an attempt waits
///   retry_until_up_wait_ms and tries again, else the launch fails.
cluster_decision decide_cluster(const cluster_facts& facts,
                                const cluster_event& event, int64_t now_ms);

} // namespace sky::optimizer
