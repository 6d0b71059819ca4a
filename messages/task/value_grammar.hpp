#pragma once

// The value grammars of the task YAML that also appear on the command line
// (`--gpus A100:8`, `--cpus 4+`, `--ports 8080-8090`, ...). Both the YAML
// parser and the CLI overrides use these so that one spelling means one
// thing everywhere.
//
// Errors are `errc::invalid_argument` whose message says what is wrong with
// the value alone (no location, no field name) and whose hint says how to
// write it; callers prefix the location (`file:line:col: field:` or
// `--flag:`).

#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "messages/result.hpp"
#include "messages/task/task_spec.hpp"

namespace sky::task {

/// Providers that `infra` and `cloud` accept besides `*`, in canonical
/// spelling (`kubernetes` is accepted and becomes "k8s").
const std::vector<std::string>& known_providers();

/// `aws`, `aws/us-east-1`, `aws/*/us-east-1a`, `*/us-east-1`, `k8s/ctx`
/// (the context may contain '/'), `kubernetes`, `ssh/pool`, `slurm/cluster`,
/// `local`. Provider names are case-insensitive and stored lower case.
result<infra_spec> parse_infra(std::string_view text);

/// A legacy `cloud:` value (or `--cloud`): one provider name, lower case,
/// `kubernetes` -> "k8s".
result<std::string> parse_provider(std::string_view text);

/// `4` (exactly) or `4+` (at least); must be positive.
result<cpus_spec> parse_cpus(std::string_view text);

/// `32` (GiB), `32+`, `4x` (per vCPU), or with a unit: `64GB`, `512MB+`,
/// `1TB` (KB/MB/GB/TB/PB and Ki/Mi/Gi/Ti/Pi, binary, case-insensitive);
/// stored in GiB. Must be positive.
result<memory_spec> parse_memory(std::string_view text);

/// One accelerator choice: `A100`, `A100:8`, `A10:0.5`, `80GB+`, `80GB:8`,
/// `NVIDIA:40GB+:8`. Counts must be positive.
result<accelerator_spec> parse_accelerator(std::string_view text);

/// `8080` or `8080-8090`; ports 1..65535 and first <= last.
result<port_range> parse_port_range(std::string_view text);

/// `256` (GB) or `256GB`, `1TB`, `512Gi` (rounded down to whole GB); must be
/// at least 1 GB.
result<int> parse_disk_size_gb(std::string_view text);

/// `10` (minutes) or with a unit: `30m`, `2h`, `1d`, `1w`.
result<int> parse_duration_minutes(std::string_view text);

/// Parses a whole decimal number (optional sign, no fraction) in [lo, hi].
/// The message says "must be between lo and hi" when out of range.
result<long long> parse_integer(std::string_view text, long long lo,
                                long long hi);

/// Parses a finite decimal number (`1`, `0.5`, `1e3`).
result<double> parse_number(std::string_view text);

/// YAML 1.1 booleans as PyYAML reads them: true/false, yes/no, on/off (any
/// case).
std::optional<bool> parse_bool(std::string_view text);

/// Whether `name` is a valid environment variable name
/// (`^[A-Za-z_][A-Za-z0-9_]*$`).
bool is_env_name(std::string_view name);

/// Formats a number without trailing zeros ("8", "0.5") for messages.
std::string format_number(double value);

} // namespace sky::task
