#pragma once

// skyd's configuration: $SKYD_HOME/config.yaml, then `--set key=value` flags
// on top. Keys are dotted paths (`log.level`); the YAML may nest them
// (`log: {level: debug}`) or write them flat. Unknown keys and bad values are
// errors that name the key, the file position and the fix.

#include <cstdint>
#include <filesystem>
#include <map>
#include <optional>
#include <string>
#include <vector>

#include "messages/paths.hpp"
#include "messages/result.hpp"

namespace sky::daemon {

struct config {
  home_layout home;
  /// trace, debug, info, warn, error.
  std::string log_level = "info";
  /// Bound on one control frame.
  uint64_t max_message_bytes = uint64_t{16} << 20;
  /// Sync the event log's WAL on every group commit. Turning it off trades
  /// durability of the last few milliseconds for speed; only for tests.
  bool events_sync = true;
  /// Retention of old events: the newest N (0 = no count limit) and those
  /// younger than the age (0 = no age limit). Snapshots are never trimmed.
  uint64_t events_keep = 0;
  int64_t events_keep_ms = int64_t{90} * 24 * 3600 * 1000;
  /// SkyPilot-format price catalogs (`<dir>/<cloud>/vms.csv`); empty = the
  /// small catalog shipped with skyd.
  std::string catalogs_dir;
  /// Clouds simulated from the catalogs (planning now, provisioning with
  /// the sim provider).
  std::vector<std::string> sim_clouds;
  /// Scenario file of the simulated clouds (`~` expanded); empty = plenty
  /// of everything (docs/SIM.md).
  std::string sim_scenario;
  /// "real" (nodes are sandboxes that run jobs) or "virtual" (no process).
  std::string sim_mode = "real";
  /// What the local infra may use of this host; unset = all of it.
  std::optional<double> local_cpus;
  std::optional<double> local_memory_gib;
  /// Accelerator -> count; set = skip nvidia-smi detection.
  std::optional<std::map<std::string, double>> local_gpus;
  /// Threads for blocking work (provider calls, node I/O).
  uint32_t io_workers = 8;
  /// Managed jobs launching at once; the others wait in PENDING.
  uint32_t jobs_max_concurrent_launches = 16;
  /// Launch rounds without capacity before a managed job's task gives up
  /// (FAILED_NO_RESOURCE): its first launch, and a relaunch after a loss or
  /// a restart; 0 = keep trying (optimizer::managed_job_limits).
  uint32_t jobs_launch_rounds = 3;
  uint32_t jobs_relaunch_rounds = 0;
  /// Wait after a round without capacity, doubled per further round up to
  /// the maximum. Milliseconds (the keys are seconds, fractions allowed).
  int64_t jobs_retry_gap_ms = 60'000;
  int64_t jobs_max_retry_gap_ms = 600'000;
  /// An SSH host that has not answered for this long is lost: its nodes'
  /// jobs end FAILED_DRIVER, managed jobs recover elsewhere.
  int64_t ssh_loss_after_ms = 30'000;
  /// Services (serve.*; docs/SERVICES.md). Milliseconds.
  int64_t serve_probe_interval_ms = 1'000;
  int64_t serve_decision_interval_ms = 1'000;
  int64_t serve_drain_ms = 5'000;
  int64_t serve_provision_retry_ms = 10'000;
  int64_t serve_qps_window_ms = 60'000;
  std::string serve_lb_bind_address = "127.0.0.1";
  /// "first-last" port ranges.
  std::string serve_lb_ports = "30001-30999";
  std::string serve_replica_ports = "20001-24999";
};

/// Loads `file` (missing is fine: defaults) and applies `overrides`
/// ("key=value", values in YAML syntax) in order.
result<config> load_config(const home_layout& home,
                           const std::filesystem::path& file,
                           const std::vector<std::string>& overrides);

/// Every key config.yaml accepts, with a one-line description each, for
/// `skyd --help-config` and docs.
std::vector<std::pair<std::string, std::string>> config_keys();

} // namespace sky::daemon
