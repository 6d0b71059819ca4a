// The load balancer link against the real skyd-lb (build/bin/skyd-lb) and
// Python http.server replicas on loopback: routes reach the replica through
// the port, a skyd-lb killed -9 is replaced on the same port with the same
// routes, a second link (a restarted skyd) adopts the running process, and
// removing the last service leaves no process (and no zombie) behind.

#include <catch2/catch.hpp>

#include <arpa/inet.h>
#include <cerrno>
#include <csignal>
#include <netinet/in.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <thread>
#include <unistd.h>

#include <caf/actor_system.hpp>
#include <caf/after.hpp>
#include <caf/actor_system_config.hpp>
#include <caf/exit_reason.hpp>
#include <caf/scoped_actor.hpp>
#include <caf/send.hpp>
#include <spdlog/spdlog.h>

#include "actors/service/lb_link.hpp"
#include "tests/support/process.hpp"
#include "tests/support/test_support.hpp"

using namespace sky;
using namespace sky::actors;
using namespace std::chrono_literals;

namespace {

// Answers every GET with its name (argv[1]).
const char* replica_script = R"PY(
import http.server, sys
name = sys.argv[1].encode()
class H(http.server.BaseHTTPRequestHandler):
    protocol_version = 'HTTP/1.1'
    def log_message(self, *a): pass
    def do_GET(self):
        self.send_response(200)
        self.send_header('Content-Length', str(len(name)))
        self.end_headers()
        self.wfile.write(name)
s = http.server.ThreadingHTTPServer(('127.0.0.1', 0), H)
print(s.server_address[1], flush=True)
s.serve_forever()
)PY";

struct replica {
  sky::testing::child proc;
  uint16_t port = 0;
  explicit replica(const std::string& name)
    : proc({"/usr/bin/python3", "-c", replica_script, name}) {
    auto line = proc.read_line(10s);
    REQUIRE(line);
    port = static_cast<uint16_t>(std::stoi(*line));
  }
  std::string endpoint() const { return "127.0.0.1:" + std::to_string(port); }
};

struct http_answer {
  int status = 0; // 0: no answer
  std::string body;
};

/// GET / on 127.0.0.1:port, one connection, read to its close.
http_answer get(uint16_t port) {
  http_answer out;
  const int fd = ::socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
  REQUIRE(fd >= 0);
  timeval tv{5, 0};
  ::setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof tv);
  ::setsockopt(fd, SOL_SOCKET, SO_SNDTIMEO, &tv, sizeof tv);
  sockaddr_in addr{};
  addr.sin_family = AF_INET;
  addr.sin_port = htons(port);
  addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  if (::connect(fd, reinterpret_cast<sockaddr*>(&addr), sizeof addr) != 0) {
    ::close(fd);
    return out;
  }
  const std::string req
    = "GET / HTTP/1.1\r\nHost: 127.0.0.1\r\nConnection: close\r\n\r\n";
  if (::send(fd, req.data(), req.size(), MSG_NOSIGNAL)
      != static_cast<ssize_t>(req.size())) {
    ::close(fd);
    return out;
  }
  std::string raw;
  char buf[4096];
  for (;;) {
    const auto n = ::recv(fd, buf, sizeof buf, 0);
    if (n <= 0)
      break;
    raw.append(buf, static_cast<size_t>(n));
  }
  ::close(fd);
  if (raw.rfind("HTTP/1.", 0) != 0 || raw.size() < 12)
    return out;
  out.status = std::stoi(raw.substr(9, 3));
  if (auto end = raw.find("\r\n\r\n"); end != std::string::npos)
    out.body = raw.substr(end + 4);
  return out;
}

template <class Pred>
bool eventually(Pred pred, std::chrono::milliseconds limit = 10s) {
  const auto deadline = std::chrono::steady_clock::now() + limit;
  while (!pred()) {
    if (std::chrono::steady_clock::now() >= deadline)
      return false;
    std::this_thread::sleep_for(20ms);
  }
  return true;
}

/// Gone and reaped: not even a zombie is left for anyone to wait for.
bool reaped(pid_t pid) {
  return !sky::testing::process_alive(pid)
         && ::waitpid(pid, nullptr, WNOHANG) == -1 && errno == ECHILD;
}

caf::actor_system_config& system_config() {
  static caf::actor_system_config cfg = [] {
    caf::actor_system_config c;
    c.set("logger.verbosity", caf::atom("quiet"));
    c.add_message_types<caf::id_block::sky>();
    spdlog::set_level(spdlog::level::warn);
    return c;
  }();
  return cfg;
}

struct link_fixture {
  sky::testing::temp_dir dir{"lbl"};
  caf::actor_system sys{system_config()};
  caf::scoped_actor self{sys};
  std::vector<caf::actor> links;
  std::vector<pid_t> seen;

  ~link_fixture() {
    for (auto& l : links)
      caf::anon_send_exit(l, caf::exit_reason::user_shutdown);
    for (auto& l : links)
      self->wait_for(l);
    // A failed test must not leave a skyd-lb behind.
    for (auto p : seen)
      if (sky::testing::process_alive(p)) {
        ::kill(p, SIGKILL);
        ::waitpid(p, nullptr, 0);
      }
  }

  lb_link_config link_config() const {
    lb_link_config c;
    c.binary = sky::testing::built_binary("bin/skyd-lb");
    c.control_endpoint = "ipc://" + (dir.path() / "run" / "lb.sock").string();
    c.log_file = dir.path() / "logs" / "lb.log";
    c.report_interval = 100ms;
    c.request_timeout = 2000ms;
    return c;
  }

  caf::actor spawn_link(lb_link_config c) {
    auto l = sys.spawn<caf::detached>(lb_link, std::move(c));
    links.push_back(l);
    return l;
  }

  caf::actor spawn_link() { return spawn_link(link_config()); }

  lb::routes_ack routes(const caf::actor& link, const std::string& service,
                        std::vector<std::string> endpoints) {
    lb::routes_request r;
    r.service = service;
    r.endpoints = std::move(endpoints);
    r.queue_timeout_ms = 2000;
    r.generation = 1;
    lb::routes_ack out;
    self->request(link, 30s, lb_routes_atom_v, r)
      .receive([&](const lb::routes_ack& ack) { out = ack; },
               [&](const caf::error& e) {
                 FAIL("routes: " << self->system().render(e));
               });
    return out;
  }

  bool remove(const caf::actor& link, const std::string& service) {
    bool out = false;
    self->request(link, 30s, lb_remove_atom_v, service)
      .receive([&](bool removed) { out = removed; },
               [&](const caf::error& e) {
                 FAIL("remove: " << self->system().render(e));
               });
    return out;
  }

  pid_t pid(const caf::actor& link) {
    int64_t out = -1;
    self->request(link, 30s, caf::get_atom_v)
      .receive([&](int64_t p) { out = p; },
               [&](const caf::error& e) {
                 FAIL("get: " << self->system().render(e));
               });
    if (out > 0)
      seen.push_back(static_cast<pid_t>(out));
    return static_cast<pid_t>(out);
  }
};

} // namespace

TEST_CASE_METHOD(link_fixture,
                 "lb link: starts skyd-lb on the first routes, forwards its "
                 "reports, and stops it after the last service",
                 "[lb_link]") {
  replica a{"a"};
  auto c = link_config();
  c.report_to = caf::actor_cast<caf::actor>(self);
  auto link = spawn_link(c);
  CHECK(pid(link) == 0); // lazy: no routes, no process

  auto ack = routes(link, "svc", {a.endpoint()});
  INFO(ack.error);
  REQUIRE(ack.listening);
  REQUIRE(ack.port != 0);
  const pid_t lb_pid = pid(link);
  REQUIRE(lb_pid > 0);
  CHECK(sky::testing::process_alive(lb_pid));
  // Its own session: a signal to skyd's process group does not reach it.
  CHECK(::getsid(lb_pid) == lb_pid);

  auto answer = get(ack.port);
  CHECK(answer.status == 200);
  CHECK(answer.body == "a");

  // The 2xx of that request comes back in a forwarded report.
  uint64_t ok_responses = 0;
  const auto deadline = std::chrono::steady_clock::now() + 10s;
  while (ok_responses == 0 && std::chrono::steady_clock::now() < deadline)
    self->receive(
      [&](lb_report_atom, const lb::service_report& r) {
        if (r.service == "svc" && r.responses.count("2xx"))
          ok_responses += r.responses.at("2xx");
      },
      caf::after(1s) >> [] {});
  CHECK(ok_responses == 1);

  // New routes for the same service keep its port.
  replica b{"b"};
  auto again = routes(link, "svc", {b.endpoint()});
  CHECK(again.listening);
  CHECK(again.port == ack.port);
  CHECK(get(ack.port).body == "b");
  CHECK(pid(link) == lb_pid);

  CHECK(remove(link, "svc"));
  CHECK(pid(link) == 0);
  CHECK(eventually([&] { return reaped(lb_pid); }));
  CHECK(get(ack.port).status == 0); // the port is closed
  CHECK_FALSE(remove(link, "svc"));
}

TEST_CASE_METHOD(link_fixture,
                 "lb link: a skyd-lb killed -9 is replaced, with every "
                 "service's routes on the same ports",
                 "[lb_link]") {
  replica a{"a"};
  replica b{"b"};
  auto link = spawn_link();
  auto first = routes(link, "first", {a.endpoint()});
  auto second = routes(link, "second", {b.endpoint()});
  REQUIRE(first.listening);
  REQUIRE(second.listening);
  REQUIRE(first.port != second.port);
  const pid_t old_pid = pid(link);
  REQUIRE(old_pid > 0);

  REQUIRE(::kill(old_pid, SIGKILL) == 0);
  pid_t new_pid = 0;
  REQUIRE(eventually([&] {
    new_pid = pid(link);
    return new_pid != 0 && new_pid != old_pid;
  }));
  CHECK(reaped(old_pid)); // the link waited for its dead child

  auto one = get(first.port);
  CHECK(one.status == 200);
  CHECK(one.body == "a");
  auto two = get(second.port);
  CHECK(two.status == 200);
  CHECK(two.body == "b");

  // And once more: restarts are bounded in rate, not in number.
  REQUIRE(::kill(new_pid, SIGKILL) == 0);
  REQUIRE(eventually([&] {
    auto p = pid(link);
    return p != 0 && p != new_pid;
  }));
  CHECK(get(first.port).body == "a");
  CHECK(get(second.port).body == "b");
}

TEST_CASE_METHOD(link_fixture,
                 "lb link: a new link adopts the skyd-lb that kept serving",
                 "[lb_link]") {
  replica a{"a"};
  auto old_link = spawn_link();
  auto ack = routes(old_link, "svc", {a.endpoint()});
  REQUIRE(ack.listening);
  const pid_t lb_pid = pid(old_link);
  REQUIRE(lb_pid > 0);

  // skyd goes away (its link with it); skyd-lb keeps serving.
  caf::anon_send_exit(old_link, caf::exit_reason::kill);
  self->wait_for(old_link);
  CHECK(sky::testing::process_alive(lb_pid));
  CHECK(get(ack.port).body == "a");

  // The restarted skyd's link finds it and does not start another.
  auto new_link = spawn_link();
  CHECK(pid(new_link) == 0);
  auto again = routes(new_link, "svc", {a.endpoint()});
  REQUIRE(again.listening);
  CHECK(again.port == ack.port);
  CHECK(pid(new_link) == lb_pid);
  CHECK(get(ack.port).body == "a");

  CHECK(remove(new_link, "svc"));
  CHECK(pid(new_link) == 0);
  CHECK(eventually([&] { return reaped(lb_pid); }));
}

TEST_CASE_METHOD(link_fixture,
                 "lb link: a skyd-lb that cannot start is an error in the "
                 "ack, and the routes wait for the next start",
                 "[lb_link]") {
  auto c = link_config();
  c.binary = "/bin/false";
  auto link = spawn_link(c);
  auto ack = routes(link, "svc", {"127.0.0.1:9"});
  CHECK_FALSE(ack.listening);
  CHECK(ack.error.find("exited with status 1") != std::string::npos);
  CHECK(pid(link) == 0);
  // Within the back-off nothing is forked again.
  auto again = routes(link, "svc", {"127.0.0.1:9"});
  CHECK_FALSE(again.listening);
  CHECK(again.error.find("next attempt") != std::string::npos);
  CHECK(remove(link, "svc"));
}

TEST_CASE_METHOD(link_fixture,
                 "lb link: a skyd-lb that stops answering is killed and "
                 "replaced",
                 "[lb_link]") {
  replica a{"a"};
  auto c = link_config();
  c.request_timeout = 500ms;
  auto link = spawn_link(c);
  auto ack = routes(link, "svc", {a.endpoint()});
  REQUIRE(ack.listening);
  const pid_t wedged = pid(link);
  REQUIRE(wedged > 0);

  // Stopped, it still exists (kill(pid, 0) and waitpid say it runs), but
  // its next report times out.
  REQUIRE(::kill(wedged, SIGSTOP) == 0);
  pid_t replacement = 0;
  REQUIRE(eventually([&] {
    replacement = pid(link);
    return replacement != 0 && replacement != wedged;
  }));
  CHECK(reaped(wedged));
  CHECK(get(ack.port).body == "a");
  CHECK(remove(link, "svc"));
  CHECK(eventually([&] { return reaped(replacement); }));
}
