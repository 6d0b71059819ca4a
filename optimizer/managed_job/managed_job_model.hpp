#pragma once

// A managed job as its supervisor sees it (docs/MANAGED_JOBS.md): its state,
// the tasks of its pipeline with their recovery settings, the counters that
// recovery spends, and where its current cluster runs. Pure data plus
// parsing: the decisions on it live in managed_job_recovery.hpp, admission in
// managed_job_admission.hpp. The record holds everything those decisions
// read, so a supervisor that persists it (or replays the events that built
// it) resumes after a skyd restart exactly where it left off.

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "messages/result.hpp"
#include "messages/task/task_spec.hpp"
#include "optimizer/placement/infra.hpp"

namespace sky::optimizer {

/// SkyPilot's managed job states, in its order (SPEC.md "States").
enum class managed_job_state : uint8_t {
  /// Submitted, waiting for a launch slot (admission).
  pending,
  /// Launching the cluster of the current task (also between the tasks of a
  /// pipeline).
  starting,
  /// The current task runs (its setup included) on a cluster that is up.
  running,
  /// The cluster was lost or the task is restarted: relaunching.
  recovering,
  /// Cancel requested: the job's cluster is being torn down.
  cancelling,
  succeeded,
  cancelled,
  /// The user's `run` failed and no restart is left.
  failed,
  /// The user's `setup` failed and no restart is left.
  failed_setup,
  /// The job can never run as written (e.g. no enabled infra offers its
  /// resources, or its alternatives disagree on job_recovery).
  failed_prechecks,
  /// Every launch round found no capacity and the configured rounds ran out.
  failed_no_resource,
  /// skyd itself could not carry on with the job (a bug or lost state).
  failed_controller,
};

/// "PENDING", "FAILED_NO_RESOURCE", ... (SkyPilot's spelling).
std::string_view to_string(managed_job_state s);

/// Inverse of to_string, case-insensitive; nullopt for an unknown name.
std::optional<managed_job_state> parse_managed_job_state(std::string_view s);

/// SUCCEEDED, CANCELLED and the FAILED_* states: nothing happens after them.
bool is_terminal(managed_job_state s);

enum class recovery_strategy : uint8_t {
  /// Default: relaunch with the lost region blocked, then anywhere.
  eager_next_region,
  /// Relaunch in the lost cluster's cloud and region, then anywhere.
  failover,
};

/// "EAGER_NEXT_REGION", "FAILOVER".
std::string_view to_string(recovery_strategy s);

/// Case-insensitive, as `--job-recovery` takes it. errc::invalid_argument for
/// other names (NONE included: the task parser already maps `none` to the
/// default, and the flag has no use for it).
result<recovery_strategy> parse_recovery_strategy(std::string_view s);

/// What one task's `resources.job_recovery` asks for, checked.
struct recovery_settings {
  recovery_strategy strategy = recovery_strategy::eager_next_region;
  /// Restarts after a user-code failure (run or setup) whose exit codes are
  /// not listed below. 0 = a failure is final.
  uint32_t max_restarts_on_errors = 0;
  /// A failure with any of these exit codes (on any node) is always
  /// restarted, and does not spend max_restarts_on_errors.
  std::vector<int> recover_on_exit_codes;

  friend bool operator==(const recovery_settings&, const recovery_settings&)
    = default;
};

/// Settings from the parsed spec (nullopt = not written: the defaults).
/// errc::invalid_argument for a strategy name the parser would not produce.
result<recovery_settings>
to_recovery_settings(const std::optional<task::job_recovery_spec>& spec);

/// The task's settings. `any_of`/`ordered` alternatives inherit the
/// top-level job_recovery; an alternative that sets a different one is
/// refused (errc::invalid_argument, a FAILED_PRECHECKS reason), because which
/// alternative runs is only known after the launch and recovery must not
/// change its rules with the place.
result<recovery_settings> recovery_settings_for_task(const task::task_spec& t);

/// Where a cluster of the job came up. For fixed-capacity infra the region
/// is the pool name ("" for local).
struct launch_place {
  std::string cloud;
  std::string region;
  std::string zone;

  /// "aws/us-east-1/us-east-1a", "aws/us-east-1", "local".
  std::string text() const;

  friend bool operator==(const launch_place&, const launch_place&) = default;
};

/// Why the current (or next) launch happens; it picks how many rounds
/// without capacity are tolerated (managed_job_limits).
enum class launch_kind : uint8_t {
  /// The first cluster of a task (the job's start, or the next pipeline
  /// task).
  first,
  /// After the cluster was lost (preemption, node loss).
  recovery,
  /// After a user-code failure that is restarted.
  restart,
};

/// The launch the supervisor performs now or after a delay. The cluster is
/// the job's own (named after the job and task): relaunching reuses the name.
struct managed_job_launch {
  /// Index into the job's tasks.
  size_t task_index = 0;
  launch_kind kind = launch_kind::first;
  /// Tear down whatever is left of the task's previous cluster first (all
  /// nodes: a multi-node job is recovered as a whole).
  bool tear_down_first = false;
  /// Wait this long before launching (backoff after a round without
  /// capacity); 0 = now.
  int64_t delay_ms = 0;
  /// Places the optimizer must skip for this launch (EAGER_NEXT_REGION's
  /// lost region). Passed to optimize(); failover inside the launch adds
  /// its own entries on top.
  blocklist blocked;
  /// When set, launch only in this cloud and region (FAILOVER's first
  /// try); apply with pin_to_place(). The zone is left free.
  std::optional<launch_place> only_in;
  /// True while the launch is the strategy's first, narrowed try (blocked or
  /// only_in); when it finds no capacity the next try is anywhere, at once.
  bool narrowed = false;

  friend bool operator==(const managed_job_launch&, const managed_job_launch&)
    = default;
};

/// One task of the job's pipeline (a single task is a pipeline of one).
struct managed_task {
  std::string name;
  recovery_settings recovery;

  friend bool operator==(const managed_task&, const managed_task&) = default;
};

/// Everything the decisions read and write about one managed job. The
/// supervisor persists it after each decision (or persists the events and
/// folds them again through decide_managed_job, which is deterministic).
struct managed_job {
  uint64_t id = 0;
  std::string name;
  std::vector<managed_task> tasks;

  managed_job_state state = managed_job_state::pending;
  /// Why the job is in its state, for `jobs queue` ("preempted in aws/...").
  std::string reason;
  /// The task running or being launched; tasks.size() never.
  size_t task_index = 0;

  /// Recoveries of the job, all tasks together (lost clusters and restarts
  /// after a failure): `jobs queue`'s RECOVERIES column.
  uint32_t recovery_count = 0;
  /// Restarts spent on the current task's max_restarts_on_errors; 0 again
  /// when the next pipeline task starts (each task has its own budget).
  uint32_t restarts_on_errors = 0;

  /// The launch in flight or waiting (STARTING, RECOVERING).
  std::optional<managed_job_launch> launch;
  /// Rounds of the current launch that found no capacity anywhere it was
  /// allowed to look; 0 again once a cluster is up.
  uint32_t rounds_without_capacity = 0;
  /// Where the current task's cluster came up last (kept while recovering:
  /// the strategies start from it).
  std::optional<launch_place> place;

  /// Unix ms. submitted: when accepted; started: first time RUNNING;
  /// ended: when terminal; state_since: the last state change.
  int64_t submitted_at_ms = 0;
  int64_t started_at_ms = 0;
  int64_t ended_at_ms = 0;
  int64_t state_since_ms = 0;

  friend bool operator==(const managed_job&, const managed_job&) = default;
};

/// A new PENDING job for `pipeline` (one task or several, run in order).
/// The pipeline's name, else the first task's, names the job when `name` is
/// empty. errc::invalid_argument for an empty pipeline or a task whose
/// job_recovery is inconsistent (recovery_settings_for_task); `strategy`
/// (`--job-recovery`) replaces every task's strategy when given.
result<managed_job>
new_managed_job(uint64_t id, std::string name,
                const task::pipeline_spec& pipeline, int64_t now_ms,
                std::optional<recovery_strategy> strategy = std::nullopt);

/// `task` narrowed to launch only in `place`'s cloud and region: infra is
/// set on the task and on every any_of/ordered alternative (alternatives
/// that cannot run there simply find no candidate). The zone stays free.
task::task_spec pin_to_place(task::task_spec task, const launch_place& place);

} // namespace sky::optimizer
