#pragma once

// What this host has: CPUs, memory and NVIDIA GPUs. Detection is split into
// parsing (pure, tested with sample outputs) and reading the host.

#include <chrono>
#include <map>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "messages/result.hpp"

namespace sky::providers {

/// One GPU as nvidia-smi reports it.
struct gpu_device {
  /// Canonical accelerator name as catalogs spell it ("A100-80GB", "H100").
  std::string name;
  /// Model as reported ("NVIDIA A100-SXM4-80GB").
  std::string model;
  /// Device memory in GiB (0 when nvidia-smi does not say).
  double memory_gib = 0;

  friend bool operator==(const gpu_device&, const gpu_device&) = default;
};

struct host_resources {
  double cpus = 0;
  double memory_gib = 0;
  /// Canonical name -> count.
  std::map<std::string, double> gpus;
  /// Detected devices (empty when GPUs come from an override).
  std::vector<gpu_device> gpu_devices;
  /// Set when GPU detection failed (the host then counts as having no
  /// GPUs): what went wrong and how to fix it, for skyd's log and
  /// `skyctl check`.
  std::string gpu_detection_problem;
};

/// Catalog spelling of an nvidia-smi model name: vendor words dropped,
/// "RTX 4090" -> "RTX4090", an 80 GB A100 -> "A100-80GB", a 32 GB V100 ->
/// "V100-32GB".
std::string canonical_gpu_name(std::string_view model, double memory_gib);

/// Parses `nvidia-smi --query-gpu=name,memory.total --format=csv,noheader`
/// ("NVIDIA A100-SXM4-80GB, 81920 MiB" per line). Lines that do not parse
/// are an error naming the line.
result<std::vector<gpu_device>> parse_nvidia_smi(std::string_view output);

/// Runs `nvidia_smi` (a command name looked up in PATH, or a path) and
/// parses its output. No such command means no GPUs (an empty list); a
/// command that fails or hangs past `timeout` is an error.
result<std::vector<gpu_device>>
detect_nvidia_gpus(const std::string& nvidia_smi = "nvidia-smi",
                   std::chrono::milliseconds timeout
                   = std::chrono::seconds(20));

/// MemTotal of a /proc/meminfo text, in GiB; nullopt when absent.
std::optional<double> parse_meminfo_total_gib(std::string_view meminfo);

/// Online CPUs of this host.
double host_cpu_count();

/// MemTotal of this host in GiB (0 when /proc/meminfo is unreadable).
double host_memory_gib();

} // namespace sky::providers
