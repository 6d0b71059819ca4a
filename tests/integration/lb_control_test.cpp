// skyd-lb's control side and failure handling: queueing without endpoints,
// ejection of a dead replica, reports, a controller that goes away, signals.

#include <catch2/catch.hpp>

#include <csignal>
#include <map>
#include <sys/socket.h>
#include <sys/stat.h>
#include <thread>

#include "tests/integration/lb_fixture.hpp"

using namespace sky;
using namespace sky::testing;
using namespace std::chrono_literals;

namespace {

double ms_since(std::chrono::steady_clock::time_point t0) {
  return std::chrono::duration<double, std::milli>(
           std::chrono::steady_clock::now() - t0)
    .count();
}

uint64_t total(const lb::service_report& r) {
  uint64_t n = 0;
  for (const auto& [second, count] : r.requests)
    n += count;
  return n;
}

} // namespace

TEST_CASE("hello answers with the version, pid and services") {
  lb_process lb;
  auto h = lb.call(lb::hello_request{});
  REQUIRE(std::holds_alternative<lb::hello_reply>(h));
  const auto& hello = std::get<lb::hello_reply>(h);
  CHECK(hello.lb_version == lb::protocol_version);
  CHECK(hello.pid == lb.proc().pid());
  CHECK(hello.started_at_ms > 0);
  CHECK(hello.services.empty());
  lb.routes("web", {}, lb::policy::least_load, 1000, 0, 9);
  auto again = std::get<lb::hello_reply>(lb.call(lb::hello_request{}));
  REQUIRE(again.services.size() == 1);
  CHECK(again.services[0].generation == 9);
  CHECK(again.services[0].listening);
}

TEST_CASE("the control socket is 0600 and bad requests get an error reply") {
  lb_process lb;
  struct stat st {};
  const auto path = lb.control_endpoint().substr(6);
  REQUIRE(::stat(path.c_str(), &st) == 0);
  CHECK((st.st_mode & 0777) == 0600);
  lb::routes_request bad;
  bad.service = "x";
  bad.bind_address = "not-an-ip";
  auto ack = lb.call(bad);
  REQUIRE(std::holds_alternative<lb::routes_ack>(ack));
  CHECK_FALSE(std::get<lb::routes_ack>(ack).listening);
  CHECK(std::get<lb::routes_ack>(ack).error.find("not-an-ip")
        != std::string::npos);
}

TEST_CASE("a port in use is refused in the ack, not a crash") {
  lb_process lb;
  auto first = lb.routes("one", {});
  REQUIRE(first.listening);
  auto second = lb.routes("two", {}, lb::policy::least_load, 1000, first.port);
  CHECK_FALSE(second.listening);
  CHECK(second.error.find("cannot listen") != std::string::npos);
  CHECK(process_alive(lb.proc().pid()));
}

TEST_CASE("no endpoint: the request waits, then 503 naming the service") {
  lb_process lb;
  auto ack = lb.routes("chat", {}, lb::policy::least_load, 600);
  REQUIRE(ack.listening);
  const auto t0 = std::chrono::steady_clock::now();
  auto r = http_request(ack.port, "GET", "/v1/models");
  const double waited = ms_since(t0);
  CHECK(r.status == 503);
  CHECK(r.body.find("service chat") != std::string::npos);
  CHECK(r.body.find("skyctl serve status chat") != std::string::npos);
  CHECK(lb.report("chat").responses
        == std::map<std::string, uint64_t>{{"5xx", 1}});
  CHECK(waited > 550);
  CHECK(waited < 2000);
}

TEST_CASE("endpoints that arrive while a request waits answer it") {
  lb_process lb;
  backend a{"a"};
  auto ack = lb.routes("chat", {}, lb::policy::least_load, 10'000);
  http_result r;
  const auto t0 = std::chrono::steady_clock::now();
  std::thread client{[&] { r = http_request(ack.port, "GET", "/first"); }};
  std::this_thread::sleep_for(400ms);
  CHECK(lb.report("chat").queued == 1);
  lb.routes("chat", {a.endpoint()}, lb::policy::least_load, 10'000, ack.port,
            2);
  client.join();
  CHECK(r.status == 200);
  CHECK(r.body == "a GET /first\n");
  CHECK(ms_since(t0) < 2000);
}

TEST_CASE("a killed replica: retried elsewhere, ejected and reported") {
  lb_process lb{{"--readmit-ms", "60000"}};
  backend a{"a"}, b{"b"};
  auto ack
    = lb.routes("web", {a.endpoint(), b.endpoint()}, lb::policy::round_robin);
  for (int i = 0; i < 4; ++i)
    REQUIRE(http_request(ack.port, "GET", "/").status == 200);
  lb.settled_report("web"); // drain
  const std::string dead = a.endpoint();
  a.kill();
  // Every request succeeds: the refused connect goes to b at once.
  for (int i = 0; i < 6; ++i) {
    auto r = http_request(ack.port, "GET", "/after");
    REQUIRE(r.status == 200);
    CHECK(r.body == "b GET /after\n");
  }
  auto rep = lb.settled_report("web");
  REQUIRE(rep.ejected.size() == 1);
  CHECK(rep.ejected[0].endpoint == dead);
  CHECK(rep.ejected[0].reason.find("connect") != std::string::npos);
  CHECK(rep.ejected[0].at_ms > 0);
  CHECK(rep.in_flight == 0);
  CHECK(total(rep) == 6);
  // Reported once; the next report has no new ejection.
  CHECK(lb.report("web").ejected.empty());
}

TEST_CASE("all replicas dead: requests queue until a live one is routed") {
  lb_process lb{{"--readmit-ms", "60000"}};
  std::string dead;
  {
    backend gone{"gone"};
    dead = gone.endpoint();
    gone.kill();
  }
  auto ack = lb.routes("web", {dead}, lb::policy::least_load, 10'000);
  http_result r;
  std::thread client{[&] { r = http_request(ack.port, "GET", "/q"); }};
  std::this_thread::sleep_for(400ms);
  backend fresh{"fresh"};
  lb.routes("web", {fresh.endpoint()}, lb::policy::least_load, 10'000, ack.port,
            2);
  client.join();
  CHECK(r.status == 200);
  CHECK(r.body == "fresh GET /q\n");
}

TEST_CASE("report counts requests per second and in flight per endpoint") {
  lb_process lb;
  backend a{"a"};
  auto ack
    = lb.routes("web", {a.endpoint()}, lb::policy::least_load, 1000, 0, 5);
  http_connection conn{ack.port};
  for (int i = 0; i < 25; ++i)
    REQUIRE(conn.request("GET", "/").status == 200);
  auto rep = lb.settled_report("web");
  CHECK(rep.service == "web");
  CHECK(rep.generation == 5);
  CHECK(total(rep) == 25);
  for (const auto& [second, count] : rep.requests)
    CHECK(second > 1'700'000'000);
  CHECK(rep.responses == std::map<std::string, uint64_t>{{"2xx", 25}});
  REQUIRE(rep.endpoints.size() == 1);
  CHECK(rep.endpoints[0].endpoint == a.endpoint());
  CHECK(rep.endpoints[0].in_flight == 0);
  CHECK(total(lb.report("web")) == 0); // drained
}

TEST_CASE("remove closes the port") {
  lb_process lb;
  backend a{"a"};
  auto ack = lb.routes("web", {a.endpoint()});
  REQUIRE(http_request(ack.port, "GET", "/").status == 200);
  auto rm = lb.call(lb::remove_request{"web"});
  REQUIRE(std::holds_alternative<lb::remove_ack>(rm));
  CHECK(std::get<lb::remove_ack>(rm).removed);
  CHECK(http_request(ack.port, "GET", "/").status == 0);
  auto again = std::get<lb::remove_ack>(lb.call(lb::remove_request{"web"}));
  CHECK_FALSE(again.removed);
}

TEST_CASE("the load balancer keeps serving when its controller is gone") {
  lb_process lb;
  backend a{"a"};
  uint16_t port = 0;
  {
    // A controller process that pushes routes and dies (kill -9 of skyd).
    auto ack = lb.routes("web", {a.endpoint()});
    port = ack.port;
    auto half = lb.call(lb::report_request{}, 1ms); // asks, never reads
    (void) half;
  }
  for (int i = 0; i < 5; ++i)
    CHECK(http_request(port, "GET", "/").status == 200);
  // A new controller is served normally.
  auto h = lb.call(lb::hello_request{});
  REQUIRE(std::holds_alternative<lb::hello_reply>(h));
  CHECK(std::get<lb::hello_reply>(h).services.size() == 1);
}

TEST_CASE("SIGTERM exits cleanly and removes the control socket") {
  lb_process lb;
  backend a{"a"};
  auto ack = lb.routes("web", {a.endpoint()});
  REQUIRE(http_request(ack.port, "GET", "/").status == 200);
  const auto path = lb.control_endpoint().substr(6);
  lb.proc().signal(SIGTERM);
  auto code = lb.proc().wait(5s);
  REQUIRE(code);
  CHECK(*code == 0);
  CHECK_FALSE(std::filesystem::exists(path));
  CHECK(lb.log().find("stopping") != std::string::npos);
}

TEST_CASE("a client that goes away stops counting at once (least_load)") {
  lb_process lb;
  backend a{"a"};
  auto ack = lb.routes("web", {a.endpoint()});
  {
    http_connection impatient{ack.port};
    std::thread t{[&] { impatient.request("GET", "/slow?ms=3000"); }};
    std::this_thread::sleep_for(300ms);
    REQUIRE(lb.report("web").in_flight == 1);
    ::shutdown(impatient.native_handle(), SHUT_RDWR); // the client leaves
    t.join();
  }
  const auto t0 = std::chrono::steady_clock::now();
  uint64_t in_flight = 1;
  while (in_flight != 0 && ms_since(t0) < 2000) {
    std::this_thread::sleep_for(20ms);
    in_flight = lb.report("web").in_flight;
  }
  CHECK(in_flight == 0);
  CHECK(ms_since(t0) < 1000); // not when the replica answers after 3 s
  CHECK(lb.log().find("client went away") != std::string::npos);
  CHECK(http_request(ack.port, "GET", "/").status == 200);
}

TEST_CASE("an HTTP/1.0 client gets a streamed body without chunks") {
  lb_process lb;
  backend a{"a"};
  auto ack = lb.routes("web", {a.endpoint()});
  http_connection conn{ack.port};
  auto out = conn.raw("GET /stream?n=3&ms=10 HTTP/1.0\r\nHost: x\r\n\r\n");
  CHECK(out.rfind("HTTP/1.0 200", 0) == 0);
  CHECK(out.find("chunked") == std::string::npos);
  CHECK(out.substr(out.find("\r\n\r\n") + 4) == "token 0\ntoken 1\ntoken 2\n");
}

TEST_CASE("a killed replica's pooled connections are not used for a POST") {
  lb_process lb{{"--readmit-ms", "60000"}};
  backend a{"a"}, b{"b"};
  auto ack
    = lb.routes("web", {a.endpoint(), b.endpoint()}, lb::policy::round_robin);
  http_connection conn{ack.port};
  for (int i = 0; i < 4; ++i) // pooled connections to both
    REQUIRE(conn.request("GET", "/").status == 200);
  a.kill();
  std::this_thread::sleep_for(100ms);
  for (int i = 0; i < 4; ++i) {
    auto r = conn.request("POST", "/echo", "payload");
    INFO(r.body);
    CHECK(r.status == 200);
    CHECK(r.body == "payload");
  }
}

TEST_CASE("SIGTERM lets a request in flight finish, refusing new ones") {
  lb_process lb;
  backend a{"a"};
  auto ack = lb.routes("web", {a.endpoint()});
  http_result slow;
  std::thread client{
    [&] { slow = http_request(ack.port, "GET", "/slow?ms=800"); }};
  std::this_thread::sleep_for(300ms);
  lb.proc().signal(SIGTERM);
  std::this_thread::sleep_for(100ms);
  CHECK(http_request(ack.port, "GET", "/").status == 0); // port closed
  client.join();
  CHECK(slow.status == 200);
  auto code = lb.proc().wait(5s);
  REQUIRE(code);
  CHECK(*code == 0);
}
