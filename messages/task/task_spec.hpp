#pragma once

// The typed model of a SkyPilot task YAML (see shared SPEC.md, "Task YAML").
// Parsing lives in messages/task/parse_task.hpp; what the fields mean for
// placement (expanding alternatives, matching catalogs) lives in optimizer/.
//
// Convention: std::optional means "not given in the YAML" so that CLI flags
// can override, and defaults are applied by the code that uses a field.

#include <cstdint>
#include <map>
#include <optional>
#include <string>
#include <utility>
#include <vector>

namespace sky::task {

/// `infra: cloud[/region[/zone]]`, `local`, `ssh[/pool]`, `slurm[/cluster]`,
/// `k8s[/context]`; `*` or empty for a part means "any". Legacy `cloud`,
/// `region` and `zone` keys fill the same struct.
struct infra_spec {
  /// "aws", "gcp", "azure", "lambda", ..., "local", "ssh", "slurm", "k8s";
  /// empty = any.
  std::string provider;
  /// Region for clouds; pool name for ssh; cluster name for slurm; context
  /// for k8s. Empty = any.
  std::string region;
  /// Zone for clouds; empty = any.
  std::string zone;

  friend bool operator==(const infra_spec&, const infra_spec&) = default;
};

/// `cpus: 4` (exactly) or `cpus: 4+` (at least).
struct cpus_spec {
  double value = 0;
  bool at_least = false;

  friend bool operator==(const cpus_spec&, const cpus_spec&) = default;
};

/// `memory: 32` (GiB, exactly), `32+` (at least) or `4x` (at least 4 GiB per
/// vCPU of the chosen instance).
struct memory_spec {
  enum class kind : uint8_t { exact, at_least, per_cpu };
  double value = 0;
  kind mode = kind::exact;

  friend bool operator==(const memory_spec&, const memory_spec&) = default;
};

/// One accelerator choice: `A100`, `A100:8`, `A10:0.5` (a fraction shares a
/// device on a shared cluster), or by device memory: `80GB+:8` means eight
/// of any GPU with at least 80 GB each, `80GB:8` eight with exactly 80 GB,
/// and `NVIDIA:40GB+:8` restricts the choice to one manufacturer.
struct accelerator_spec {
  /// The name as written in the YAML or on the command line (e.g. "a100",
  /// "H100"); the optimizer canonicalizes it against the catalogs. Empty when
  /// the choice is by memory.
  std::string name;
  double count = 1;
  /// Minimum memory per device in GiB when the choice is by memory.
  std::optional<double> min_memory_gib;
  /// True for `80GB:8` (exactly that much memory per device); false for
  /// `80GB+:8` (at least). Meaningful only with `min_memory_gib`.
  bool memory_exact = false;
  /// Manufacturer as written (`NVIDIA:40GB+`); empty = any. Only with
  /// `min_memory_gib`.
  std::string manufacturer;

  friend bool operator==(const accelerator_spec&, const accelerator_spec&)
    = default;
};

/// How several accelerator choices combine: `A100:8` is a single choice; a
/// dict `{A100: 8, H100: 8}` is a set (the cheapest wins); a list
/// `[H100:8, A100:8]` is ordered (the first feasible wins).
enum class choice_order : uint8_t { single, any, ordered };

/// `ports: 8080`, `"8080-8090"`, or a list of both.
struct port_range {
  uint16_t first = 0;
  uint16_t last = 0;

  friend bool operator==(const port_range&, const port_range&) = default;
};

/// `job_recovery: EAGER_NEXT_REGION` or
/// `{strategy, max_restarts_on_errors, recover_on_exit_codes}`.
struct job_recovery_spec {
  /// Upper case: "EAGER_NEXT_REGION" (default) or "FAILOVER".
  std::string strategy = "EAGER_NEXT_REGION";
  int max_restarts_on_errors = 0;
  std::vector<int> recover_on_exit_codes;

  friend bool operator==(const job_recovery_spec&, const job_recovery_spec&)
    = default;
};

/// `autostop: true` (default idle time), `autostop: false`, `autostop: 10`
/// (minutes), `autostop: 2h` (with a unit: m, h, d, w), or
/// `{idle_minutes, down, wait_for}`.
struct autostop_spec {
  bool enabled = true;
  int idle_minutes = 5;
  bool down = false;
  /// What counts as activity: "jobs_and_ssh", "jobs" or "none" (lower case);
  /// nullopt = the daemon's default.
  std::optional<std::string> wait_for;

  friend bool operator==(const autostop_spec&, const autostop_spec&) = default;
};

/// `resources:` of a task. `any_of` and `ordered` hold alternatives; the
/// fields set beside them are defaults that every alternative inherits.
struct resources_spec {
  std::optional<infra_spec> infra;
  std::optional<cpus_spec> cpus;
  std::optional<memory_spec> memory;
  std::vector<accelerator_spec> accelerators;
  /// `single` whenever there is at most one choice, whichever form it was
  /// written in (`{V100: 8}` is the classic way to ask for one type).
  choice_order accelerator_order = choice_order::single;
  /// Key/value arguments for accelerators (e.g. TPU runtime versions).
  std::map<std::string, std::string> accelerator_args;
  std::optional<std::string> instance_type;
  std::optional<bool> use_spot;
  std::optional<int> disk_size_gb;
  /// "low", "medium", "high", "ultra" or "best".
  std::optional<std::string> disk_tier;
  /// "standard" or "best" (e.g. GPUDirect / InfiniBand where offered).
  std::optional<std::string> network_tier;
  std::vector<port_range> ports;
  /// `image_id: x` sets `image_id`; a region map sets `image_id_by_region`.
  std::optional<std::string> image_id;
  std::map<std::string, std::string> image_id_by_region;
  std::optional<double> max_hourly_cost;
  std::optional<job_recovery_spec> job_recovery;
  std::optional<autostop_spec> autostop;
  /// -1000..1000 (SkyPilot's range); higher runs first.
  std::optional<int> priority;
  /// Free-form labels (`labels: {k: v}`), attached to instances.
  std::map<std::string, std::string> labels;
  std::vector<resources_spec> any_of;
  std::vector<resources_spec> ordered;

  friend bool operator==(const resources_spec&, const resources_spec&)
    = default;
};

/// `workdir: path` or `workdir: {url, ref}` (a git repository).
struct workdir_spec {
  std::string path;
  std::string git_url;
  std::string git_ref;

  friend bool operator==(const workdir_spec&, const workdir_spec&) = default;
};

/// One entry of `file_mounts`: remote target path <- local path or bucket
/// URL (`source`), or a storage object given as a map.
struct file_mount_spec {
  std::string target;
  std::string source;
  /// For the map form: "MOUNT", "COPY", "MOUNT_CACHED"; empty for a plain
  /// source string.
  std::string mode;
  /// For the map form: the bucket name when given.
  std::string name;
  /// For the map form: the store ("s3", "gcs", "azure", "r2", ...; lower
  /// case) when given.
  std::string store;
  /// For the map form: whether the bucket outlives the task, when given.
  std::optional<bool> persistent;

  friend bool operator==(const file_mount_spec&, const file_mount_spec&)
    = default;
};

/// A variable of `envs` or `secrets`; `value` is nullopt when the YAML gives
/// null, which means it must be supplied with --env/--secret.
struct variable_spec {
  std::string name;
  std::optional<std::string> value;

  friend bool operator==(const variable_spec&, const variable_spec&) = default;
};

/// `service.readiness_probe`: a path string or
/// `{path, post_data, initial_delay_seconds, timeout_seconds, headers}`.
struct readiness_probe_spec {
  std::string path = "/";
  /// JSON/YAML body; when set the probe uses POST.
  std::optional<std::string> post_data;
  int initial_delay_seconds = 1200;
  int timeout_seconds = 15;
  std::map<std::string, std::string> headers;

  friend bool operator==(const readiness_probe_spec&,
                         const readiness_probe_spec&)
    = default;
};

/// `service.replica_policy` (or `service.replicas: N` as fixed min = max).
struct replica_policy_spec {
  int min_replicas = 1;
  std::optional<int> max_replicas;
  std::optional<double> target_qps_per_replica;
  int upscale_delay_seconds = 300;
  int downscale_delay_seconds = 1200;
  int num_overprovision = 0;
  std::optional<int> base_ondemand_fallback_replicas;
  std::optional<bool> dynamic_ondemand_fallback;

  friend bool operator==(const replica_policy_spec&, const replica_policy_spec&)
    = default;
};

struct service_spec {
  readiness_probe_spec readiness_probe;
  replica_policy_spec replica_policy;
  /// "least_load" (default) or "round_robin".
  std::string load_balancing_policy = "least_load";
  /// Port the replicas serve on (`service.ports`), when given.
  std::optional<uint16_t> port;
  int consecutive_failure_threshold_timeout_seconds = 180;

  friend bool operator==(const service_spec&, const service_spec&) = default;
};

/// Where a value came from in the YAML, for error messages and tooling.
struct source_position {
  std::string file;
  int line = 0; // 1-based; 0 = unknown
  int column = 0;

  friend bool operator==(const source_position&, const source_position&)
    = default;
};

struct task_spec {
  std::optional<std::string> name;
  std::optional<workdir_spec> workdir;
  std::optional<int> num_nodes;
  resources_spec resources;
  std::vector<variable_spec> envs;
  std::vector<variable_spec> secrets;
  std::vector<file_mount_spec> file_mounts;
  std::optional<std::string> setup;
  std::optional<std::string> run;
  std::optional<service_spec> service;
  /// `config:` overrides of skyd's configuration for this task, kept as
  /// dotted key -> scalar text (e.g. "jobs.controller.resources.cpus").
  std::map<std::string, std::string> config;
  /// Where the task's document starts.
  source_position position;

  friend bool operator==(const task_spec&, const task_spec&) = default;
};

/// A YAML file: one task, or several documents forming a chain (pipeline).
/// When the first document holds only `name:`, that is the pipeline's name.
struct pipeline_spec {
  std::optional<std::string> name;
  std::vector<task_spec> tasks;

  friend bool operator==(const pipeline_spec&, const pipeline_spec&) = default;
};

} // namespace sky::task
