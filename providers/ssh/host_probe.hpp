#pragma once

// What a pool host has: CPUs, memory and NVIDIA GPUs, learnt by one remote
// command (nproc, /proc/meminfo, nvidia-smi when installed). The script and
// the parsing of its output are pure; ssh_provider runs it.

#include <map>
#include <string>
#include <string_view>
#include <vector>

#include "messages/result.hpp"
#include "providers/common/host_resources.hpp"

namespace sky::providers::ssh {

struct probe_result {
  double cpus = 0;
  double memory_gib = 0;
  /// Canonical accelerator name -> count.
  std::map<std::string, double> gpus;
  std::vector<gpu_device> gpu_devices;
  /// Set when nvidia-smi exists but failed (the host then counts as having
  /// no GPUs), for `skyctl check`.
  std::string gpu_problem;
  /// The login user's home directory (absolute).
  std::string home;
};

/// Bash script whose output parse_probe_output reads.
std::string_view probe_script();

/// Parses the probe's output: "home PATH", "cpus N", the MemTotal line,
/// "gpu-status <exit code>" and the nvidia-smi lines after "gpus:".
/// Errors name what is missing ("the host did not report its CPUs").
result<probe_result> parse_probe_output(std::string_view output);

} // namespace sky::providers::ssh
