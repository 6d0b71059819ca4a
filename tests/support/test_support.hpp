#pragma once

// Helpers shared by tests and benchmarks.

#include <filesystem>
#include <optional>
#include <string>

namespace sky::testing {

/// A fresh directory under /tmp, removed with everything in it on scope exit.
/// Paths are kept short because they hold IPC sockets (107-byte limit).
class temp_dir {
public:
  explicit temp_dir(const std::string& prefix = "sky");
  ~temp_dir();
  temp_dir(const temp_dir&) = delete;
  temp_dir& operator=(const temp_dir&) = delete;

  const std::filesystem::path& path() const { return path_; }

private:
  std::filesystem::path path_;
};

/// The real cloud price catalogs (SkyPilot format) shared with the project
/// for tests and benchmarks: $SKY_SHARED_CATALOGS, else the directory CMake
/// found at configure time, else nullopt (tests that need them then say so).
std::optional<std::filesystem::path> shared_catalogs_dir();

/// Resident set size of this process in bytes (from /proc/self/status).
size_t current_rss_bytes();

} // namespace sky::testing
