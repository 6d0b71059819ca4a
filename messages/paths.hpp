#pragma once

// Where skyd keeps its files under SKYD_HOME. skyd and skyctl both use this,
// so the layout is defined once.

#include <filesystem>
#include <string>

namespace sky {

struct home_layout {
  std::filesystem::path home;

  /// SKYD_HOME from `override` when non-empty, else $SKYD_HOME, else ~/.skyd.
  static home_layout resolve(const std::string& override = {});

  std::filesystem::path config_file() const { return home / "config.yaml"; }
  /// Private to the user (0700): sockets and the lock live here.
  std::filesystem::path run_dir() const { return home / "run"; }
  std::filesystem::path lock_file() const { return run_dir() / "skyd.lock"; }
  std::filesystem::path control_socket() const {
    return run_dir() / "control.sock";
  }
  std::filesystem::path events_socket() const {
    return run_dir() / "events.sock";
  }
  std::filesystem::path log_dir() const { return home / "logs"; }
  std::filesystem::path log_file() const { return log_dir() / "skyd.log"; }
  std::filesystem::path db_dir() const { return home / "db"; }
  std::filesystem::path nodes_dir() const { return home / "nodes"; }

  static std::string ipc_endpoint(const std::filesystem::path& socket) {
    return "ipc://" + socket.string();
  }
};

} // namespace sky
