// Services end to end on the local infra (docs/SERVICES.md): real skyd,
// skyctl and skyd-lb processes, real HTTP replicas (tests/support/
// lb_backend started by each replica's job), kill -9 of skyd and of
// replicas. Timings are shortened through serve.* config keys.

#include <catch2/catch.hpp>

#include <atomic>
#include <csignal>
#include <fstream>
#include <random>
#include <thread>

#include <nlohmann/json.hpp>

#include "lb_fixture.hpp"
#include "skyd_fixture.hpp"

using namespace sky;
using namespace sky::testing;
using nlohmann::json;
using namespace std::chrono_literals;

namespace {

// Each test's own port ranges: tests run in parallel, and each skyd's pools
// only know their own ports.
uint16_t port_base() {
  std::random_device rd;
  return static_cast<uint16_t>(34000 + (rd() % 300) * 100);
}

struct serve_home {
  skyd_home home;
  uint16_t base = port_base();
  std::string token = std::to_string(::getpid()) + "x" + std::to_string(base);

  serve_home() {
    home.write_config("serve:\n"
                      "  probe_interval_seconds: 0.2\n"
                      "  decision_interval_seconds: 0.2\n"
                      "  drain_seconds: 0.5\n"
                      "  provision_retry_seconds: 0.5\n"
                      "  qps_window_seconds: 5\n"
                      "  lb_ports: "
                      + std::to_string(base) + "-" + std::to_string(base + 9)
                      + "\n  replica_ports: " + std::to_string(base + 10) + "-"
                      + std::to_string(base + 99) + "\n");
  }
  ~serve_home() {
    // Whatever the test did, no replica or load balancer survives it.
    home.skyctl({"serve", "down", "-a", "-y"}, 60s);
    home.skyctl({"daemon", "stop"});
    std::system(
      ("pkill -9 -f 'lb_backend --name [0-9]*-" + token + "'").c_str());
    std::system(
      ("pkill -9 -f 'skyd-lb --control ipc://" + home.path().string() + "'")
        .c_str());
  }

  /// A service YAML whose replicas run lb_backend named "<id>-<token>".
  std::string yaml(const std::string& file, const std::string& service,
                   const std::string& extra_top = "") {
    auto path = home.path() / file;
    std::ofstream{path} << extra_top << "service:\n"
                        << service << "run: exec "
                        << built_binary("tests/support/lb_backend")
                        << " --name ${SKYPILOT_SERVE_REPLICA_ID}-" << token
                        << " --port $SKYD_REPLICA_PORT\n";
    return path.string();
  }

  json status() {
    auto r = home.skyctl({"serve", "status", "-o", "json"});
    INFO(r.out << r.err);
    REQUIRE(r.exit_code == 0);
    return json::parse(r.out);
  }

  json service(const std::string& name) {
    auto st = status(); // kept: a range-for over a temporary's member dangles
    for (auto& s : st["services"])
      if (s["name"] == name)
        return s;
    return json{};
  }

  std::vector<json> replicas(const std::string& name) {
    std::vector<json> out;
    auto st = status();
    for (auto& r : st["replicas"])
      if (r["service"] == name)
        out.push_back(r);
    return out;
  }

  /// Waits until `ok(status)` holds; returns the last status.
  json wait_for(const std::function<bool(const json&)>& ok,
                std::chrono::seconds limit = 60s) {
    json st;
    auto deadline = std::chrono::steady_clock::now() + limit;
    while (std::chrono::steady_clock::now() < deadline) {
      st = status();
      if (ok(st))
        return st;
      std::this_thread::sleep_for(100ms);
    }
    FAIL("timed out; last status: " << st.dump(1));
    return st;
  }

  uint16_t lb_port(const std::string& name) {
    auto endpoint = service(name)["endpoint"].get<std::string>();
    return static_cast<uint16_t>(
      std::stoi(endpoint.substr(endpoint.rfind(':') + 1)));
  }
};

size_t count_status(const json& st, const std::string& service,
                    const std::string& status) {
  size_t n = 0;
  for (const auto& r : st["replicas"])
    n += r["service"] == service && r["status"] == status;
  return n;
}

std::string run_out(const std::string& cmd) {
  std::string out;
  if (FILE* p = ::popen(cmd.c_str(), "r")) {
    char buf[256];
    while (std::fgets(buf, sizeof buf, p))
      out += buf;
    ::pclose(p);
  }
  return out;
}

/// Sends requests through the endpoint on a thread and counts every
/// answer, until stopped.
struct traffic {
  uint16_t port;
  std::atomic<bool> stop{false};
  std::atomic<uint64_t> ok{0}, failed{0};
  std::string last_failure;
  std::thread thread;

  explicit traffic(uint16_t p) : port(p) {
    thread = std::thread{[this] {
      while (!stop) {
        auto r = http_request(port, "GET", "/");
        if (r.status == 200) {
          ++ok;
        } else {
          ++failed;
          last_failure
            = std::to_string(r.status) + " " + r.error + " " + r.body;
        }
        std::this_thread::sleep_for(5ms);
      }
    }};
  }
  void finish() {
    stop = true;
    if (thread.joinable())
      thread.join();
  }
  ~traffic() { finish(); }
};

} // namespace

TEST_CASE("serve up: two replicas become READY and answer through the "
          "load balancer; serve down leaves nothing behind") {
  serve_home h;
  auto yaml = h.yaml("svc.yaml", "  readiness_probe: /health\n"
                                 "  replicas: 2\n");
  auto up = h.home.skyctl({"serve", "up", "-y", "-n", "web", yaml}, 60s);
  INFO(up.out << up.err);
  REQUIRE(up.exit_code == 0);
  CHECK(up.out.find("http://127.0.0.1:") != std::string::npos);

  auto st = h.wait_for(
    [](const json& s) { return count_status(s, "web", "READY") == 2; });
  auto svc = h.service("web");
  CHECK(svc["status"] == "READY");
  CHECK(svc["version"] == 1);
  auto port = h.lb_port("web");
  CHECK(port >= h.base);
  CHECK(port < h.base + 10);
  // Each replica has a port of its own, and the app saw its replica id.
  std::set<std::string> bodies;
  for (int i = 0; i < 20; ++i) {
    auto r = http_request(port, "GET", "/");
    REQUIRE(r.status == 200);
    bodies.insert(r.body.substr(0, r.body.find(' ')));
  }
  CHECK(bodies == std::set<std::string>{"1-" + h.token, "2-" + h.token});
  auto reps = h.replicas("web");
  REQUIRE(reps.size() == 2);
  CHECK(reps[0]["port"] != reps[1]["port"]);
  CHECK(reps[0]["cluster"] == "web-1");
  CHECK(reps[0]["infra"] == "local");

  // The replicas' clusters belong to the service: hidden from status,
  // refused to the user's down.
  auto plain = h.home.skyctl({"status", "-o", "json"});
  CHECK(plain.out.find("web-1") == std::string::npos);
  auto refused = h.home.skyctl({"down", "-y", "web-1"});
  CHECK(refused.exit_code != 0);
  CHECK((refused.out + refused.err).find("service web") != std::string::npos);

  // A second serve up of the name is refused.
  auto again = h.home.skyctl({"serve", "up", "-y", "-n", "web", yaml});
  CHECK(again.exit_code != 0);
  CHECK((again.out + again.err).find("serve update") != std::string::npos);

  auto down = h.home.skyctl({"serve", "down", "-y", "web"}, 60s);
  INFO(down.out << down.err);
  REQUIRE(down.exit_code == 0);
  CHECK(h.status()["services"].empty());
  auto all = h.home.skyctl({"status", "-a", "-o", "json"});
  CHECK(all.out.find("web-") == std::string::npos);
  CHECK(http_request(port, "GET", "/").status == 0); // the port is closed
  CHECK(run_out("pgrep -f 'lb_backend --name [0-9]*-" + h.token + "'").empty());
  // The last service gone: no load balancer process either.
  for (int i = 0; i < 50; ++i) {
    if (run_out("pgrep -f '[s]kyd-lb --control ipc://" + h.home.path().string()
                + "'")
          .empty())
      break;
    std::this_thread::sleep_for(100ms);
  }
  CHECK(run_out("pgrep -f '[s]kyd-lb --control ipc://" + h.home.path().string()
                + "'")
          .empty());
}

TEST_CASE("serve: a killed replica leaves the rotation and is replaced; no "
          "request fails") {
  serve_home h;
  auto yaml = h.yaml("svc.yaml", "  readiness_probe: /\n  replicas: 2\n");
  REQUIRE(
    h.home.skyctl({"serve", "up", "-y", "-n", "kill", yaml}, 60s).exit_code
    == 0);
  h.wait_for(
    [](const json& s) { return count_status(s, "kill", "READY") == 2; });
  auto port = h.lb_port("kill");
  traffic t{port};
  std::this_thread::sleep_for(300ms);
  std::system(("pkill -9 -f 'lb_backend --name 1-" + h.token + " '").c_str());
  auto st = h.wait_for([](const json& s) {
    bool third_ready = false;
    for (const auto& r : s["replicas"])
      third_ready = third_ready || (r["id"] == 3 && r["status"] == "READY");
    return third_ready && count_status(s, "kill", "READY") == 2;
  });
  t.finish();
  INFO(st.dump(1));
  CHECK(t.ok > 0);
  INFO(t.last_failure);
  CHECK(t.failed == 0);
  // The failed replica's record stays for debugging.
  bool failed_kept = false;
  for (const auto& r : st["replicas"])
    failed_kept = failed_kept || (r["id"] == 1 && r["status"] == "FAILED");
  CHECK(failed_kept);
}

TEST_CASE("serve: a replica that never answers ends FAILED_INITIAL_DELAY") {
  serve_home h;
  auto path = h.home.path() / "never.yaml";
  std::ofstream{path} << "service:\n"
                         "  readiness_probe:\n"
                         "    path: /\n"
                         "    initial_delay_seconds: 2\n"
                         "  replicas: 1\n"
                         "run: sleep 600\n";
  REQUIRE(
    h.home.skyctl({"serve", "up", "-y", "-n", "never", path.string()}, 60s)
      .exit_code
    == 0);
  auto st = h.wait_for([](const json& s) {
    return count_status(s, "never", "FAILED_INITIAL_DELAY") >= 1;
  });
  auto reps = h.replicas("never");
  REQUIRE(!reps.empty());
  CHECK(reps[0]["reason"].get<std::string>().find("initial_delay_seconds")
        != std::string::npos);
  // No version ever served: the service says so instead of relaunching
  // forever.
  h.wait_for(
    [&](const json&) { return h.service("never")["status"] == "FAILED"; });
}

TEST_CASE("serve: kill -9 of skyd while traffic flows: no request fails, "
          "the same replicas carry on") {
  serve_home h;
  auto yaml = h.yaml("svc.yaml", "  readiness_probe: /\n  replicas: 2\n");
  REQUIRE(
    h.home.skyctl({"serve", "up", "-y", "-n", "crash", yaml}, 60s).exit_code
    == 0);
  h.wait_for(
    [](const json& s) { return count_status(s, "crash", "READY") == 2; });
  auto port = h.lb_port("crash");
  traffic t{port};
  std::this_thread::sleep_for(300ms);
  h.home.kill9();
  std::this_thread::sleep_for(1s); // traffic keeps flowing meanwhile
  auto during = t.ok.load();
  // skyctl starts skyd again.
  auto st = h.wait_for(
    [](const json& s) { return count_status(s, "crash", "READY") == 2; });
  std::this_thread::sleep_for(1s);
  t.finish();
  CHECK(t.ok > during);
  INFO(t.last_failure);
  CHECK(t.failed == 0);
  std::set<int> ids;
  for (const auto& r : st["replicas"])
    ids.insert(r["id"].get<int>());
  CHECK(ids == std::set<int>{1, 2}); // none launched twice, none orphaned
  CHECK(h.lb_port("crash") == port);
}

TEST_CASE("serve update: a rolling update replaces every replica with no "
          "failed request") {
  serve_home h;
  auto v1 = h.yaml("v1.yaml", "  readiness_probe: /\n  replicas: 2\n");
  REQUIRE(h.home.skyctl({"serve", "up", "-y", "-n", "roll", v1}, 60s).exit_code
          == 0);
  h.wait_for(
    [](const json& s) { return count_status(s, "roll", "READY") == 2; });
  traffic t{h.lb_port("roll")};
  auto v2 = h.yaml("v2.yaml", "  readiness_probe: /\n  replicas: 2\n",
                   "envs:\n  VERSION: two\n");
  auto upd = h.home.skyctl({"serve", "update", "-y", "roll", v2}, 60s);
  INFO(upd.out << upd.err);
  REQUIRE(upd.exit_code == 0);
  auto st = h.wait_for([](const json& s) {
    size_t v2_ready = 0, others = 0;
    for (const auto& r : s["replicas"]) {
      if (r["version"] == 2 && r["status"] == "READY")
        ++v2_ready;
      else if (r["version"] == 1)
        ++others;
    }
    return v2_ready == 2 && others == 0;
  });
  t.finish();
  CHECK(h.service("roll")["version"] == 2);
  CHECK(t.ok > 0);
  INFO(t.last_failure);
  CHECK(t.failed == 0);
}

TEST_CASE("serve: bad input is refused with the field and the fix") {
  serve_home h;
  auto plain = h.home.path() / "plain.yaml";
  std::ofstream{plain} << "run: echo hi\n";
  auto r = h.home.skyctl({"serve", "up", "-y", plain.string()});
  CHECK(r.exit_code != 0);
  CHECK((r.out + r.err).find("service:") != std::string::npos);

  auto bad = h.home.path() / "bad.yaml";
  std::ofstream{bad} << "service:\n  readiness_probe: health\nrun: x\n";
  r = h.home.skyctl({"serve", "up", "-y", bad.string()});
  CHECK(r.exit_code != 0);
  CHECK((r.out + r.err).find("readiness_probe") != std::string::npos);

  auto ok = h.yaml("ok.yaml", "  readiness_probe: /\n");
  r = h.home.skyctl({"serve", "update", "-y", "missing", ok});
  CHECK(r.exit_code != 0);
  CHECK((r.out + r.err).find("no service named 'missing'")
        != std::string::npos);
}
