#pragma once

// Helpers for the local provider tests: waiting for conditions and looking
// at real processes through /proc.

#include <chrono>
#include <filesystem>
#include <fstream>
#include <functional>
#include <sstream>
#include <string>
#include <sys/types.h>
#include <thread>
#include <vector>

#include "messages/result.hpp"
#include "providers/common/node_killer.hpp"
#include "providers/common/proc_stat.hpp"

namespace sky::providers::testing {

/// Polls `pred` every 10 ms until it holds or `timeout` passes.
inline bool wait_until(const std::function<bool()>& pred,
                       std::chrono::milliseconds timeout
                       = std::chrono::seconds(10)) {
  auto deadline = std::chrono::steady_clock::now() + timeout;
  while (!pred()) {
    if (std::chrono::steady_clock::now() >= deadline)
      return false;
    std::this_thread::sleep_for(std::chrono::milliseconds(10));
  }
  return true;
}

inline std::string slurp(const std::filesystem::path& p) {
  std::ifstream in{p};
  std::stringstream ss;
  ss << in.rdbuf();
  return ss.str();
}

/// Live (not zombie) processes whose process group is `pgid`.
inline std::vector<int64_t> live_group_members(int64_t pgid) {
  std::vector<int64_t> out;
  std::error_code ec;
  for (const auto& e : std::filesystem::directory_iterator("/proc", ec)) {
    auto name = e.path().filename().string();
    if (name.empty()
        || name.find_first_not_of("0123456789") != std::string::npos)
      continue;
    auto st = local_detail::read_proc_stat(std::stoll(name));
    if (st && !st->is_dead() && st->pgrp == pgid)
      out.push_back(st->pid);
  }
  return out;
}

/// True while the pid runs (a zombie does not).
inline bool running(int64_t pid) {
  auto st = local_detail::read_proc_stat(pid);
  return st && !st->is_dead();
}

/// Kills, when the test ends (passed or failed), every process started on
/// a node under `dir` (node homes at depth 1 or 2: <dir>/node,
/// <dir>/nodes/<cluster>/<rank>), so a failing test leaves nothing behind.
/// Declare it after the temp_dir it watches.
class kill_on_exit {
public:
  explicit kill_on_exit(std::filesystem::path dir) : dir_(std::move(dir)) {}
  kill_on_exit(const kill_on_exit&) = delete;
  kill_on_exit& operator=(const kill_on_exit&) = delete;
  ~kill_on_exit() {
    std::vector<std::filesystem::path> homes;
    std::error_code ec;
    for (std::filesystem::recursive_directory_iterator it{dir_, ec}, end;
         !ec && it != end; it.increment(ec)) {
      if (it.depth() >= 3)
        it.disable_recursion_pending();
      else if (it->is_directory(ec))
        homes.push_back(it->path());
    }
    local_detail::kill_node_processes(homes, std::chrono::milliseconds(0));
  }

private:
  std::filesystem::path dir_;
};

inline errc code_of(const caf::error& err) {
  return describe(err).code;
}

inline std::string message_of(const caf::error& err) {
  return describe(err).message;
}

} // namespace sky::providers::testing
