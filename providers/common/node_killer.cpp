#include "providers/common/node_killer.hpp"

#include <algorithm>
#include <csignal>
#include <map>
#include <string>
#include <sys/syscall.h>
#include <thread>
#include <unistd.h>

#include "providers/common/fs_util.hpp"
#include "providers/common/proc_stat.hpp"
#include "providers/common/process_records.hpp"

namespace sky::providers::local_detail {

namespace {

using clock = std::chrono::steady_clock;

// glibc 2.36's <sys/pidfd.h> lacks extern "C" (fixed in 2.37), so the
// system calls are made directly.
int pidfd_open(pid_t pid) {
  return static_cast<int>(::syscall(SYS_pidfd_open, pid, 0));
}

int pidfd_send_signal(int fd, int sig) {
  return static_cast<int>(
    ::syscall(SYS_pidfd_send_signal, fd, sig, nullptr, 0));
}

struct target {
  int64_t pid = 0;
  uint64_t start_ticks = 0;
};

/// Whether the NUL-separated environment block holds one of `entries`.
bool has_marker(const std::string& environ,
                const std::vector<std::string>& entries) {
  size_t pos = 0;
  while (pos < environ.size()) {
    auto end = environ.find('\0', pos);
    if (end == std::string::npos)
      end = environ.size();
    std::string_view var{environ.data() + pos, end - pos};
    for (const auto& e : entries)
      if (var == e)
        return true;
    pos = end + 1;
  }
  return false;
}

class node_processes {
public:
  explicit node_processes(const std::vector<std::filesystem::path>& homes) {
    for (const auto& home : homes) {
      markers_.push_back(std::string{node_marker_env} + "=" + home.string());
      for (const auto& rec : load_process_records(home)) {
        auto st = read_proc_stat(rec.handle.pid);
        if (st && st->start_ticks == rec.handle.start_ticks)
          groups_[rec.handle.pid] = rec.handle.start_ticks;
      }
    }
  }

  /// Live (non-zombie) processes of the nodes right now.
  std::vector<target> scan() const {
    std::vector<target> out;
    auto self = static_cast<int64_t>(::getpid());
    std::error_code ec;
    for (const auto& entry : std::filesystem::directory_iterator("/proc", ec)) {
      const auto name = entry.path().filename().string();
      if (name.empty() || !std::all_of(name.begin(), name.end(), [](char c) {
            return c >= '0' && c <= '9';
          }))
        continue;
      auto st = read_proc_stat(std::stoll(name));
      if (!st || st->is_dead() || st->pid == self)
        continue;
      bool ours = groups_.count(st->pgrp) > 0;
      if (!ours) {
        auto env = read_file(entry.path() / "environ");
        ours = env && *env && has_marker(**env, markers_);
      }
      if (ours)
        out.push_back({st->pid, st->start_ticks});
    }
    return out;
  }

  /// Signals each live process individually (also those that left the
  /// groups), first the groups as a whole so that they see one signal at
  /// the same time.
  size_t signal_all(int sig) const {
    for (const auto& [pgid, ticks] : groups_) {
      auto st = read_proc_stat(pgid);
      // The leader was ours when this object was made. A group id stays
      // reserved while any member lives, so when the leader has been reaped
      // since, the group can still be signalled; a leader with another
      // start time means the pid was reused and the group is gone.
      if (st ? st->start_ticks == ticks
             : ::kill(static_cast<pid_t>(-pgid), 0) == 0)
        ::kill(static_cast<pid_t>(-pgid), sig);
    }
    size_t n = 0;
    for (const auto& t : scan())
      if (signal_one(t, sig))
        ++n;
    return n;
  }

  /// Waits until no process is left or `deadline`; true when none is left.
  bool wait_gone(clock::time_point deadline) const {
    while (true) {
      if (scan().empty())
        return true;
      if (clock::now() >= deadline)
        return false;
      std::this_thread::sleep_for(std::chrono::milliseconds(25));
    }
  }

private:
  static bool signal_one(const target& t, int sig) {
    int fd = pidfd_open(static_cast<pid_t>(t.pid));
    if (fd < 0)
      return false;
    // The pidfd pins the process: if its start time still matches now, the
    // signal goes to the process we scanned, not to a reuse of its pid.
    auto st = read_proc_stat(t.pid);
    bool sent = st && st->start_ticks == t.start_ticks
                && pidfd_send_signal(fd, sig) == 0;
    ::close(fd);
    return sent;
  }

  std::vector<std::string> markers_;
  /// Process group id (= leader pid) -> the leader's start time.
  std::map<int64_t, uint64_t> groups_;
};

} // namespace

kill_report kill_node_processes(const std::vector<std::filesystem::path>& homes,
                                std::chrono::milliseconds grace) {
  kill_report report;
  node_processes procs{homes};
  if (procs.scan().empty()) {
    for (const auto& home : homes)
      prune_process_records(home);
    return report;
  }
  report.terminated = procs.signal_all(SIGTERM);
  if (!procs.wait_gone(clock::now() + grace)) {
    report.killed = procs.signal_all(SIGKILL);
    // A process forked while the first SIGKILL round ran escaped it: keep
    // killing what appears until nothing is left.
    auto deadline = clock::now() + std::chrono::seconds(5);
    while (!procs.wait_gone(
      std::min(deadline, clock::now() + std::chrono::milliseconds(200)))) {
      if (clock::now() >= deadline) {
        report.remaining = procs.scan().size();
        break;
      }
      report.killed += procs.signal_all(SIGKILL);
    }
  }
  for (const auto& home : homes)
    prune_process_records(home);
  return report;
}

} // namespace sky::providers::local_detail
