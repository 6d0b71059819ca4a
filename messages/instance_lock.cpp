#include "messages/instance_lock.hpp"

#include <cerrno>
#include <cstring>
#include <fcntl.h>
#include <string>
#include <sys/file.h>
#include <unistd.h>

namespace sky {

namespace {

pid_t read_pid(int fd) {
  char buf[32] = {};
  auto n = ::pread(fd, buf, sizeof(buf) - 1, 0);
  if (n <= 0)
    return 0;
  return static_cast<pid_t>(std::strtol(buf, nullptr, 10));
}

} // namespace

result<instance_lock>
instance_lock::acquire(const std::filesystem::path& file) {
  int fd = ::open(file.c_str(), O_RDWR | O_CREAT | O_CLOEXEC, 0600);
  if (fd < 0)
    return make_error(errc::unavailable,
                      "cannot open the lock file " + file.string() + ": "
                        + std::strerror(errno),
                      "check that SKYD_HOME is writable");
  if (::flock(fd, LOCK_EX | LOCK_NB) != 0) {
    int err = errno;
    pid_t holder = read_pid(fd);
    ::close(fd);
    if (err == EWOULDBLOCK)
      return make_error(errc::already_exists,
                        "skyd is already running for "
                          + file.parent_path().parent_path().string()
                          + (holder > 0
                               ? " (pid " + std::to_string(holder) + ")"
                               : std::string{}),
                        "use it, or stop it with `skyctl daemon stop`");
    return make_error(errc::unavailable, "cannot lock " + file.string() + ": "
                                           + std::strerror(err));
  }
  auto pid = std::to_string(::getpid()) + "\n";
  if (::ftruncate(fd, 0) != 0
      || ::pwrite(fd, pid.data(), pid.size(), 0)
           != static_cast<ssize_t>(pid.size())) {
    // The pid is informative only; the lock itself is what counts.
  }
  return instance_lock{fd};
}

instance_lock::instance_lock(instance_lock&& other) noexcept
  : fd_(std::exchange(other.fd_, -1)) {}

instance_lock& instance_lock::operator=(instance_lock&& other) noexcept {
  if (this != &other) {
    if (fd_ >= 0)
      ::close(fd_);
    fd_ = std::exchange(other.fd_, -1);
  }
  return *this;
}

instance_lock::~instance_lock() {
  if (fd_ >= 0)
    ::close(fd_);
}

std::optional<pid_t> lock_holder(const std::filesystem::path& file) {
  int fd = ::open(file.c_str(), O_RDONLY | O_CLOEXEC);
  if (fd < 0)
    return std::nullopt;
  std::optional<pid_t> holder;
  if (::flock(fd, LOCK_SH | LOCK_NB) == 0) {
    ::flock(fd, LOCK_UN);
  } else if (errno == EWOULDBLOCK) {
    holder = read_pid(fd);
  }
  ::close(fd);
  return holder;
}

} // namespace sky
