#pragma once

// Real OpenSSH servers for the ssh provider tests (recipe: shared design
// TESTING.md): one sshd per loopback address (127.0.0.2, ...), host keys,
// the user key and authorized_keys generated in the test's temp dir;
// nothing outside it is touched but /run/sshd, which sshd requires.

#include <arpa/inet.h>
#include <csignal>
#include <filesystem>
#include <fstream>
#include <netinet/in.h>
#include <pwd.h>
#include <string>
#include <sys/socket.h>
#include <unistd.h>
#include <vector>

#include "providers/common/proc_stat.hpp"
#include "providers/ssh/ssh_provider.hpp"
#include "tests/support/process.hpp"
#include "tests/support/test_support.hpp"
#include "tests/unit/providers/local_test_util.hpp"

namespace sky::providers::testing {

inline constexpr const char* sshd_binary = "/usr/sbin/sshd";

inline bool have_sshd() {
  return ::access(sshd_binary, X_OK) == 0;
}

/// A port free on `ip` right now (the kernel's choice).
inline uint16_t free_port(const std::string& ip) {
  int fd = ::socket(AF_INET, SOCK_STREAM, 0);
  sockaddr_in a{};
  a.sin_family = AF_INET;
  ::inet_pton(AF_INET, ip.c_str(), &a.sin_addr);
  a.sin_port = 0;
  ::bind(fd, reinterpret_cast<sockaddr*>(&a), sizeof(a));
  socklen_t len = sizeof(a);
  ::getsockname(fd, reinterpret_cast<sockaddr*>(&a), &len);
  ::close(fd);
  return ntohs(a.sin_port);
}

inline bool accepts(const std::string& ip, uint16_t port) {
  int fd = ::socket(AF_INET, SOCK_STREAM, 0);
  sockaddr_in a{};
  a.sin_family = AF_INET;
  ::inet_pton(AF_INET, ip.c_str(), &a.sin_addr);
  a.sin_port = htons(port);
  bool ok = ::connect(fd, reinterpret_cast<sockaddr*>(&a), sizeof(a)) == 0;
  ::close(fd);
  return ok;
}

/// Kills `pid` and every descendant (children first found through /proc).
inline void kill_tree(int64_t pid) {
  std::vector<int64_t> kids;
  std::error_code ec;
  for (const auto& e : std::filesystem::directory_iterator("/proc", ec)) {
    auto name = e.path().filename().string();
    if (name.find_first_not_of("0123456789") != std::string::npos)
      continue;
    auto st = local_detail::read_proc_stat(std::stoll(name));
    if (st && st->ppid == pid)
      kids.push_back(st->pid);
  }
  ::kill(static_cast<pid_t>(pid), SIGKILL);
  for (auto k : kids)
    kill_tree(k);
}

/// SIGKILLs every process of ours whose environment has a variable
/// starting with `prefix` ("NAME=value-prefix").
inline void kill_with_env_prefix(const std::string& prefix) {
  std::error_code ec;
  for (const auto& e : std::filesystem::directory_iterator("/proc", ec)) {
    auto name = e.path().filename().string();
    if (name.find_first_not_of("0123456789") != std::string::npos)
      continue;
    std::ifstream in{e.path() / "environ", std::ios::binary};
    std::string var;
    while (std::getline(in, var, '\0'))
      if (var.rfind(prefix, 0) == 0) {
        ::kill(static_cast<pid_t>(std::stoll(name)), SIGKILL);
        break;
      }
  }
}

inline std::string current_user() {
  auto* pw = ::getpwuid(::getuid());
  return pw != nullptr ? pw->pw_name : "root";
}

struct sshd_host {
  std::string ip;
  uint16_t port = 0;
  std::filesystem::path dir;
  std::unique_ptr<sky::testing::child> proc;
};

/// Three (or more) sshd hosts on 127.0.0.2, .3, ... and a pool of them.
class ssh_lab {
public:
  /// `own_home`: sessions get HOME=<root>/home instead of the login
  /// user's (for callers that cannot set remote_root, e.g. a real skyd).
  /// `home_per_host`: each host gets its own HOME (<root>/home-<ip>), so
  /// that hosts look like separate machines: a cluster's rank directories
  /// on two hosts never share a path (implies own_home).
  explicit ssh_lab(size_t hosts = 3, bool own_home = false,
                   bool home_per_host = false)
    : tmp_("sky-ssh"), home_per_host_(home_per_host) {
    root_ = std::filesystem::canonical(tmp_.path());
    if (own_home || home_per_host) {
      home_ = root_ / "home";
      std::filesystem::create_directories(home_);
    }
    std::filesystem::create_directories("/run/sshd");
    key_ = root_ / "userkey";
    keygen(key_);
    std::filesystem::copy_file(key_.string() + ".pub",
                               root_ / "authorized_keys");
    std::filesystem::permissions(root_ / "authorized_keys",
                                 std::filesystem::perms::owner_read
                                   | std::filesystem::perms::owner_write);
    for (size_t i = 0; i < hosts; ++i)
      hosts_.push_back(start("127.0.0." + std::to_string(2 + i), 0, true));
  }
  ~ssh_lab() {
    for (auto& h : hosts_)
      stop(h);
  }

  const std::filesystem::path& root() const { return root_; }
  const std::filesystem::path& key() const { return key_; }
  /// HOME of SSH sessions when own_home; else empty.
  const std::filesystem::path& home() const { return home_; }
  /// HOME of SSH sessions on host i (home() unless home_per_host).
  std::filesystem::path home_of(size_t i) const {
    return home_per_host_ ? home_for_ip(hosts_.at(i).ip) : home_;
  }
  sshd_host& host(size_t i) { return hosts_.at(i); }

  /// The pool "lab" of every host, the user key, root as the login user.
  ssh_settings settings() const {
    ssh_settings s;
    s.root = root_ / "state";
    ssh::node_pool pool;
    pool.name = "lab";
    for (const auto& h : hosts_)
      pool.hosts.push_back(
        ssh::pool_host{h.ip, h.port, current_user(), key_.string()});
    s.pools.pools.push_back(pool);
    s.remote_root = (root_ / "remote").string();
    s.connect_timeout = std::chrono::seconds(3);
    s.backoff_initial = std::chrono::milliseconds(50);
    s.backoff_max = std::chrono::milliseconds(200);
    s.loss_after = std::chrono::milliseconds(1500);
    s.kill_grace = std::chrono::seconds(1);
    return s;
  }

  /// Kills the host's sshd and every session process it forked: the host
  /// is gone for skyd.
  void kill_host(size_t i) { stop(hosts_.at(i)); }

  /// The machine dies: its sshd goes (kill_host) and so does every process
  /// skyd started on it, which run detached (setsid), so are not children of
  /// sshd; they are found by the SKYD_NODE_HOME under the host's HOME.
  /// Needs home_per_host (otherwise hosts share node directories).
  void crash_host(size_t i) {
    REQUIRE(home_per_host_);
    kill_host(i);
    kill_with_env_prefix("SKYD_NODE_HOME=" + home_of(i).string() + "/");
  }

  /// Restarts host i on the same address and port; `new_key` gives it a
  /// host key it never had (a reinstalled machine, or an impostor).
  void restart_host(size_t i, bool new_key) {
    auto& h = hosts_.at(i);
    auto ip = h.ip;
    auto port = h.port;
    stop(h);
    h = start(ip, port, new_key);
  }

private:
  static void keygen(const std::filesystem::path& file) {
    std::error_code ec;
    std::filesystem::remove(file, ec);
    std::filesystem::remove(file.string() + ".pub", ec);
    auto r = sky::testing::run(
      {"ssh-keygen", "-q", "-t", "ed25519", "-N", "", "-f", file.string()});
    REQUIRE(r.exit_code == 0);
  }

  sshd_host start(const std::string& ip, uint16_t port, bool new_key) {
    sshd_host h;
    h.ip = ip;
    h.port = port != 0 ? port : free_port(ip);
    h.dir = root_ / ("sshd-" + ip);
    std::filesystem::create_directories(h.dir);
    if (new_key)
      keygen(h.dir / "hostkey");
    std::ofstream cfg{h.dir / "sshd_config"};
    cfg << "Port " << h.port << "\nListenAddress " << ip << "\nHostKey "
        << (h.dir / "hostkey").string() << "\nAuthorizedKeysFile "
        << (root_ / "authorized_keys").string()
        << "\nPasswordAuthentication no\nKbdInteractiveAuthentication no\n"
           "PermitRootLogin prohibit-password\nStrictModes no\nUsePAM no\n"
           "MaxSessions 100\nMaxStartups 100\nSubsystem sftp internal-sftp\n"
           "PidFile "
        << (h.dir / "sshd.pid").string() << "\n";
    if (home_per_host_) {
      std::filesystem::create_directories(home_for_ip(ip));
      cfg << "SetEnv HOME=" << home_for_ip(ip).string() << "\n";
    } else if (!home_.empty()) {
      cfg << "SetEnv HOME=" << home_.string() << "\n";
    }
    cfg.close();
    h.proc = std::make_unique<sky::testing::child>(std::vector<std::string>{
      sshd_binary, "-D", "-f", (h.dir / "sshd_config").string(), "-E",
      (h.dir / "sshd.log").string()});
    bool up = wait_until([&] { return accepts(h.ip, h.port); },
                         std::chrono::seconds(10));
    INFO("sshd log: " << slurp(h.dir / "sshd.log"));
    REQUIRE(up);
    return h;
  }

  std::filesystem::path home_for_ip(const std::string& ip) const {
    return root_ / ("home-" + ip);
  }

  static void stop(sshd_host& h) {
    if (h.proc) {
      kill_tree(h.proc->pid());
      h.proc->wait(std::chrono::seconds(5));
      h.proc.reset();
    }
  }

  sky::testing::temp_dir tmp_;
  std::filesystem::path root_;
  std::filesystem::path key_;
  std::filesystem::path home_;
  bool home_per_host_ = false;
  std::vector<sshd_host> hosts_;
};

} // namespace sky::providers::testing
