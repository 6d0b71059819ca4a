#pragma once

// Real OpenSSH servers for the SSH pool benchmarks, as the tests start them
// (shared design TESTING.md; tests/unit/providers/ssh_test_util.hpp is the
// Catch-bound version): one sshd per loopback address 127.0.0.2, .3, ...,
// keys generated in a temp dir, sessions given a HOME inside it. Nothing
// outside the temp dir is touched but /run/sshd, which sshd requires.

#include <arpa/inet.h>
#include <csignal>
#include <filesystem>
#include <fstream>
#include <memory>
#include <netinet/in.h>
#include <pwd.h>
#include <stdexcept>
#include <string>
#include <sys/socket.h>
#include <thread>
#include <unistd.h>
#include <vector>

#include "providers/common/proc_stat.hpp"
#include "tests/support/process.hpp"
#include "tests/support/test_support.hpp"

namespace sky::bench {

class sshd_pool {
public:
  struct host {
    std::string ip;
    uint16_t port = 0;
    std::unique_ptr<testing::child> proc;
  };

  /// `n` hosts on 127.0.0.2 .. 127.0.0.(n+1); throws when one does not
  /// come up within 10 s.
  explicit sshd_pool(size_t n) : tmp_("sky-bench-ssh") {
    root_ = std::filesystem::canonical(tmp_.path());
    std::filesystem::create_directories(root_ / "home");
    std::filesystem::create_directories("/run/sshd");
    keygen(root_ / "userkey");
    std::filesystem::copy_file(root_ / "userkey.pub",
                               root_ / "authorized_keys");
    std::filesystem::permissions(root_ / "authorized_keys",
                                 std::filesystem::perms::owner_read
                                   | std::filesystem::perms::owner_write);
    for (size_t i = 0; i < n; ++i)
      hosts_.push_back(start("127.0.0." + std::to_string(2 + i)));
  }

  ~sshd_pool() {
    for (auto& h : hosts_)
      if (h.proc) {
        kill_tree(h.proc->pid());
        h.proc->wait(std::chrono::seconds(5));
      }
  }

  /// Writes the pool `name` of every host (or the first `n`) to `file`.
  void write_pool_file(const std::filesystem::path& file,
                       const std::string& name, size_t n = SIZE_MAX) const {
    std::ofstream out{file};
    out << name << ":\n  user: " << user()
        << "\n  identity_file: " << (root_ / "userkey").string()
        << "\n  hosts:\n";
    for (size_t i = 0; i < hosts_.size() && i < n; ++i)
      out << "    - ip: " << hosts_[i].ip << "\n      port: " << hosts_[i].port
          << "\n";
  }

  size_t size() const { return hosts_.size(); }

private:
  static std::string user() {
    auto* pw = ::getpwuid(::getuid());
    return pw != nullptr ? pw->pw_name : "root";
  }

  static void keygen(const std::filesystem::path& file) {
    auto r = testing::run(
      {"ssh-keygen", "-q", "-t", "ed25519", "-N", "", "-f", file.string()});
    if (r.exit_code != 0)
      throw std::runtime_error("ssh-keygen failed: " + r.err);
  }

  static uint16_t free_port(const std::string& ip) {
    int fd = ::socket(AF_INET, SOCK_STREAM, 0);
    sockaddr_in a{};
    a.sin_family = AF_INET;
    ::inet_pton(AF_INET, ip.c_str(), &a.sin_addr);
    ::bind(fd, reinterpret_cast<sockaddr*>(&a), sizeof(a));
    socklen_t len = sizeof(a);
    ::getsockname(fd, reinterpret_cast<sockaddr*>(&a), &len);
    ::close(fd);
    return ntohs(a.sin_port);
  }

  static bool accepts(const std::string& ip, uint16_t port) {
    int fd = ::socket(AF_INET, SOCK_STREAM, 0);
    sockaddr_in a{};
    a.sin_family = AF_INET;
    ::inet_pton(AF_INET, ip.c_str(), &a.sin_addr);
    a.sin_port = htons(port);
    bool ok = ::connect(fd, reinterpret_cast<sockaddr*>(&a), sizeof(a)) == 0;
    ::close(fd);
    return ok;
  }

  // sshd's per-connection processes outlive a killed listener: children
  // first, found through /proc.
  static void kill_tree(int64_t pid) {
    std::vector<int64_t> kids;
    std::error_code ec;
    for (const auto& e : std::filesystem::directory_iterator("/proc", ec)) {
      auto name = e.path().filename().string();
      if (name.find_first_not_of("0123456789") != std::string::npos)
        continue;
      auto st = providers::local_detail::read_proc_stat(std::stoll(name));
      if (st && st->ppid == pid)
        kids.push_back(st->pid);
    }
    ::kill(static_cast<pid_t>(pid), SIGKILL);
    for (auto k : kids)
      kill_tree(k);
  }

  host start(const std::string& ip) {
    host h;
    h.ip = ip;
    h.port = free_port(ip);
    auto dir = root_ / ("sshd-" + ip);
    std::filesystem::create_directories(dir);
    keygen(dir / "hostkey");
    std::ofstream cfg{dir / "sshd_config"};
    cfg << "Port " << h.port << "\nListenAddress " << ip << "\nHostKey "
        << (dir / "hostkey").string() << "\nAuthorizedKeysFile "
        << (root_ / "authorized_keys").string()
        << "\nPasswordAuthentication no\nKbdInteractiveAuthentication no\n"
           "PermitRootLogin prohibit-password\nStrictModes no\nUsePAM no\n"
           "MaxSessions 100\nMaxStartups 100\nSubsystem sftp internal-sftp\n"
           "PidFile "
        << (dir / "sshd.pid").string()
        << "\nSetEnv HOME=" << (root_ / "home").string() << "\n";
    cfg.close();
    h.proc = std::make_unique<testing::child>(std::vector<std::string>{
      "/usr/sbin/sshd", "-D", "-f", (dir / "sshd_config").string(), "-E",
      (dir / "sshd.log").string()});
    for (int i = 0; i < 1000 && !accepts(h.ip, h.port); ++i)
      std::this_thread::sleep_for(std::chrono::milliseconds(10));
    if (!accepts(h.ip, h.port))
      throw std::runtime_error("sshd on " + ip + " did not start; see "
                               + (dir / "sshd.log").string());
    return h;
  }

  testing::temp_dir tmp_;
  std::filesystem::path root_;
  std::vector<host> hosts_;
};

} // namespace sky::bench
