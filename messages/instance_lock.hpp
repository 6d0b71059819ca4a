#pragma once

// One skyd per SKYD_HOME: skyd holds an exclusive flock on
// $SKYD_HOME/run/skyd.lock for its whole life (the kernel releases it when
// the process dies, even by kill -9), and writes its pid into the file.
// skyctl probes the same lock to know, without waiting on a socket, whether
// a daemon is there.

#include <filesystem>
#include <optional>
#include <sys/types.h>

#include "messages/result.hpp"

namespace sky {

class instance_lock {
public:
  /// Takes the lock or fails with a message naming the running daemon's pid.
  static result<instance_lock> acquire(const std::filesystem::path& file);

  instance_lock(instance_lock&& other) noexcept;
  instance_lock& operator=(instance_lock&& other) noexcept;
  instance_lock(const instance_lock&) = delete;
  instance_lock& operator=(const instance_lock&) = delete;
  ~instance_lock();

private:
  explicit instance_lock(int fd) : fd_(fd) {}
  int fd_ = -1;
};

/// The pid of the process holding the lock, or nullopt when nobody holds it.
std::optional<pid_t> lock_holder(const std::filesystem::path& file);

} // namespace sky
