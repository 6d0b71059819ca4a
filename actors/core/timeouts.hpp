#pragma once

// The actors' fixed timeouts, grace periods and retry intervals: policy,
// not configuration (what tests tune lives in each actor's settings, e.g.
// cluster_deps::job_poll_max, event_stream_settings::heartbeat). A request
// timeout here is a bound on a bug or a wedged actor, never the normal
// path: every one is far above what the answer takes on a loaded skyd, so
// that a slow machine answers late rather than fails a user's verb.

#include <chrono>

namespace sky::actors::timeouts {

/// An append to the event log: a group commit waits for one WAL sync,
/// milliseconds on a healthy disk; a disk that takes 30 s is failing, and
/// the caller reports it (or retries, where nothing may act unrecorded).
inline constexpr std::chrono::seconds log_append{30};

/// A read of the event log for a reply (one page, one count of
/// snapshots): one RocksDB scan, bounded by what the request asks.
inline constexpr std::chrono::seconds log_read{10};

/// Every snapshot of a kind at start-up (all clusters, all managed jobs):
/// one prefix scan, but of everything skyd holds, so twice a page's bound
/// and more.
inline constexpr std::chrono::seconds log_restore{60};

/// Draining the event log at shutdown: what is queued is written in one
/// batch; the same bound as an append.
inline constexpr std::chrono::seconds log_drain{30};

/// A question another actor answers from memory (a cluster's status, a
/// new cluster name, the reconciliation report): only its mailbox stands
/// in the way.
inline constexpr std::chrono::seconds actor_query{10};

/// A verb or query that another actor answers with little work and at
/// most one log write (status, queue, autostop, optimize, where a job's
/// log is): an answer from memory plus an append's worth of slack.
inline constexpr std::chrono::seconds quick_request{30};

/// A ranking from the planner: the optimizer over the catalogs, and a
/// look at fixed-capacity infra (SSH pools probe their hosts, each bounded
/// by its connect timeout).
inline constexpr std::chrono::seconds planner_rank{60};

/// `jobs launch`: the registry records the job (one append) and answers
/// its row; as long as a restore's bound, since the registry's mailbox
/// may hold many other jobs' work.
inline constexpr std::chrono::seconds jobs_launch{60};

/// One managed job's supervisor cancelling its job: it records the intent
/// and asks its cluster, each one append.
inline constexpr std::chrono::seconds job_cancel{60};

/// `jobs cancel`: the registry cancels each job (job_cancel) in parallel;
/// longer than one job's bound, so that a slow job's error reaches the
/// user as that job's row rather than as a timeout of the whole verb.
inline constexpr std::chrono::seconds jobs_cancel{90};

/// A job whose record failed tries again after this long: nothing may act
/// without a durable record, and a second is long enough for a transient
/// disk error to pass without spinning.
inline constexpr std::chrono::seconds record_retry{1};

/// A cancelled job's processes get SIGTERM, then SIGKILL after this long:
/// long enough for a task to clean up (save a checkpoint, stop its
/// children), short enough that `cancel` does not seem to hang.
inline constexpr std::chrono::seconds cancel_grace{10};

/// A quiet stream sends a heartbeat frame this often, so that a client can
/// tell a quiet skyd from a dead one (docs/PROTOCOL.md): the wire's
/// promise, shared by every stream.
inline constexpr std::chrono::seconds heartbeat{5};

/// At shutdown, the streams get this long to send their final frames
/// before the gateway stops; a client that reads nothing must not hold
/// skyd up.
inline constexpr std::chrono::seconds shutdown_streams{5};

/// The longest sim_watch sleeps between looks at the simulated world, so
/// that a preemption scheduled after its last look is applied within it.
inline constexpr std::chrono::seconds sim_watch_max{1};

} // namespace sky::actors::timeouts
