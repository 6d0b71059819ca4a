#include <catch2/catch.hpp>

#include <csignal>
#include <fstream>
#include <poll.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <unistd.h>

#include "skyd_fixture.hpp"

using namespace sky::testing;

namespace {

// A datagram socket playing systemd's notify socket.
class notify_socket {
public:
  explicit notify_socket(const std::filesystem::path& path) : path_(path) {
    fd_ = ::socket(AF_UNIX, SOCK_DGRAM | SOCK_CLOEXEC, 0);
    sockaddr_un addr{};
    addr.sun_family = AF_UNIX;
    std::strncpy(addr.sun_path, path.c_str(), sizeof(addr.sun_path) - 1);
    REQUIRE(::bind(fd_, reinterpret_cast<sockaddr*>(&addr), sizeof(addr)) == 0);
  }
  ~notify_socket() { ::close(fd_); }
  std::optional<std::string> receive(std::chrono::milliseconds timeout) {
    pollfd pfd{fd_, POLLIN, 0};
    if (::poll(&pfd, 1, static_cast<int>(timeout.count())) <= 0)
      return std::nullopt;
    char buf[4096];
    auto n = ::recv(fd_, buf, sizeof(buf), 0);
    if (n <= 0)
      return std::nullopt;
    return std::string{buf, static_cast<size_t>(n)};
  }

private:
  std::filesystem::path path_;
  int fd_ = -1;
};

} // namespace

TEST_CASE("the systemd unit file passes systemd-analyze verify") {
  if (::access("/usr/bin/systemd-analyze", X_OK) != 0) {
    WARN("systemd-analyze is not installed: unit file not verified");
    return;
  }
  temp_dir dir{"sky-unit"};
  std::ifstream in{built_binary("skyd.service")};
  REQUIRE(in);
  std::string unit{std::istreambuf_iterator<char>(in), {}};
  // Point ExecStart at the binary just built.
  auto pos = unit.find("ExecStart=");
  REQUIRE(pos != std::string::npos);
  auto end = unit.find(' ', pos);
  unit.replace(pos, end - pos, "ExecStart=" + built_binary("bin/skyd"));
  auto file = dir.path() / "skyd.service";
  std::ofstream{file} << unit;
  auto r = run({"systemd-analyze", "verify", file.string()});
  INFO(r.out << r.err);
  CHECK(r.exit_code == 0);
  CHECK(r.err.empty()); // systemd-analyze only warns about unknown settings
}

TEST_CASE("skyd speaks systemd's notify protocol: READY, WATCHDOG, STOPPING") {
  skyd_home home;
  notify_socket sock{home.path() / "notify.sock"};
  auto env = home.env();
  env["NOTIFY_SOCKET"] = (home.path() / "notify.sock").string();
  env["WATCHDOG_USEC"] = "200000"; // ping every 100 ms
  child skyd{{built_binary("bin/skyd"), "--foreground"}, env};
  auto first = sock.receive(std::chrono::seconds(10));
  REQUIRE(first);
  CHECK(first->find("READY=1") != std::string::npos);
  // READY comes only once the control socket answers.
  CHECK(home.skyctl({"--no-autostart", "ping"}).exit_code == 0);
  int watchdogs = 0;
  for (int i = 0; i < 20 && watchdogs < 3; ++i)
    if (auto msg = sock.receive(std::chrono::seconds(1)))
      watchdogs += msg->find("WATCHDOG=1") != std::string::npos;
  CHECK(watchdogs >= 3);
  skyd.signal(SIGTERM);
  bool stopping = false;
  for (int i = 0; i < 50 && !stopping; ++i)
    if (auto msg = sock.receive(std::chrono::milliseconds(200)))
      stopping = msg->find("STOPPING=1") != std::string::npos;
  CHECK(stopping);
  auto rc = skyd.wait(std::chrono::seconds(10));
  REQUIRE(rc);
  CHECK(*rc == 0);
}
