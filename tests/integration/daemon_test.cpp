#include <catch2/catch.hpp>

#include <sys/stat.h>

#include <nlohmann/json.hpp>

#include "skyd_fixture.hpp"

using namespace sky;
using namespace sky::testing;
using nlohmann::json;

namespace {

std::vector<json> json_lines(const std::string& text) {
  std::vector<json> out;
  std::istringstream in{text};
  std::string line;
  while (std::getline(in, line))
    if (!line.empty())
      out.push_back(json::parse(line));
  return out;
}

mode_t mode_of(const std::filesystem::path& p) {
  struct stat st {};
  ::stat(p.c_str(), &st);
  return st.st_mode & 0777;
}

} // namespace

TEST_CASE("skyctl starts skyd on first use and skyd answers") {
  skyd_home home;
  REQUIRE_FALSE(home.daemon_pid());
  auto ping = home.skyctl({"ping"});
  INFO(ping.err);
  REQUIRE(ping.exit_code == 0);
  CHECK(ping.out.find("pong from skyd") != std::string::npos);
  auto pid = home.daemon_pid();
  REQUIRE(pid);
  CHECK(process_alive(*pid));

  auto status = home.skyctl({"status"});
  CHECK(status.exit_code == 0);
  CHECK(status.out == "No existing clusters.\n");
  auto status_json = home.skyctl({"status", "-o", "json"});
  REQUIRE(status_json.exit_code == 0);
  CHECK(json::parse(status_json.out)["clusters"] == json::array());

  auto daemon = home.skyctl({"daemon", "status", "-o", "json"});
  REQUIRE(daemon.exit_code == 0);
  auto d = json::parse(daemon.out);
  CHECK(d["pid"] == *pid);
  CHECK(d["running"] == true);
  CHECK(d["last_seq"].get<uint64_t>() >= 1);

  // The control channel is private to the user.
  CHECK(mode_of(home.layout().run_dir()) == 0700);
  CHECK(mode_of(home.layout().control_socket()) == 0600);
  CHECK(mode_of(home.layout().events_socket()) == 0600);

  // The same daemon serves later commands: no second start.
  REQUIRE(home.skyctl({"ping"}).exit_code == 0);
  CHECK(home.daemon_pid() == pid);
}

TEST_CASE("one skyd per SKYD_HOME, with a clear message") {
  skyd_home home;
  REQUIRE(home.skyctl({"daemon", "start"}).exit_code == 0);
  auto pid = home.daemon_pid();
  REQUIRE(pid);
  auto second = home.skyd({});
  CHECK(second.exit_code != 0);
  CHECK(second.err.find("already running") != std::string::npos);
  CHECK(second.err.find(std::to_string(*pid)) != std::string::npos);
  auto again = home.skyctl({"daemon", "start"});
  CHECK(again.exit_code == 0);
  CHECK(again.out.find("already running") != std::string::npos);
  CHECK(home.daemon_pid() == pid);
}

TEST_CASE("skyctl with no-autostart refuses to start skyd and says so") {
  skyd_home home;
  auto r = home.skyctl({"--no-autostart", "status"});
  CHECK(r.exit_code == 3);
  CHECK(r.err.find("not running") != std::string::npos);
  CHECK_FALSE(home.daemon_pid());
  auto st = home.skyctl({"daemon", "status"});
  CHECK(st.exit_code == 3);
}

TEST_CASE("a skyd that cannot start is reported with its reason and log") {
  skyd_home home;
  SECTION("bad configuration") {
    home.write_config("log:\n  levle: debug\n");
    auto r = home.skyctl({"status"});
    CHECK(r.exit_code == 3);
    CHECK(r.err.find("log.levle") != std::string::npos);
    CHECK(r.err.find("did you mean 'log.level'") != std::string::npos);
    CHECK(r.err.find("config.yaml:2:") != std::string::npos);
  }
  SECTION("no skyd binary") {
    auto env = home.env();
    env["SKYD_BIN"] = "/nonexistent/skyd";
    auto r = run({built_binary("bin/skyctl"), "ping"}, env);
    CHECK(r.exit_code == 3);
    CHECK(r.err.find("cannot run /nonexistent/skyd") != std::string::npos);
  }
  CHECK_FALSE(home.daemon_pid());
}

TEST_CASE("unknown verbs and bad usage give errors, exit codes and hints") {
  skyd_home home;
  auto bad_flag = home.skyctl({"status", "--bogus"});
  CHECK(bad_flag.exit_code == 2);
  auto events_bad = home.skyctl({"events", "--since", "abc"});
  CHECK(events_bad.exit_code == 2);
  auto empty_note = home.skyctl({"annotate", ""});
  CHECK(empty_note.exit_code == 2);
  CHECK(empty_note.err.find("1 to 4096") != std::string::npos);
}

TEST_CASE("events are listed and followed without gaps") {
  skyd_home home;
  REQUIRE(home.skyctl({"annotate", "first"}).exit_code == 0);
  child follow{{built_binary("bin/skyctl"), "events", "--follow", "-o", "json",
                "--since", "0"},
               home.env()};
  std::vector<json> seen;
  auto next = [&] {
    auto line = follow.read_line(std::chrono::seconds(10));
    REQUIRE(line);
    seen.push_back(json::parse(*line));
    return seen.back();
  };
  CHECK(next()["kind"] == "daemon.started");
  CHECK(next()["fields"]["text"] == "first");
  for (int i = 0; i < 20; ++i)
    REQUIRE(home.skyctl({"annotate", "note " + std::to_string(i)}).exit_code
            == 0);
  for (int i = 0; i < 20; ++i)
    CHECK(next()["fields"]["text"] == "note " + std::to_string(i));
  for (size_t i = 0; i < seen.size(); ++i)
    CHECK(seen[i]["seq"] == i + 1);
  // Stopping skyd ends the follow with a resume hint, after daemon.stopped.
  REQUIRE(home.skyctl({"daemon", "stop"}).exit_code == 0);
  CHECK(next()["kind"] == "daemon.stopped");
  auto rc = follow.wait(std::chrono::seconds(10));
  REQUIRE(rc);
  CHECK(*rc == 3);

  auto topic = home.skyctl({"--no-autostart", "events"});
  CHECK(topic.exit_code == 3); // stopped, and not restarted by a listing
  auto listed = home.skyctl({"events", "--topic", "annotation", "-o", "json"});
  REQUIRE(listed.exit_code == 0);
  CHECK(json_lines(listed.out).size() == 21);
}

TEST_CASE("acknowledged events survive kill -9 of skyd") {
  skyd_home home;
  std::vector<uint64_t> acked;
  for (int i = 0; i < 30; ++i) {
    auto r = home.skyctl({"annotate", "before crash " + std::to_string(i)});
    REQUIRE(r.exit_code == 0);
    acked.push_back(std::stoull(r.out));
  }
  auto pid = home.daemon_pid();
  REQUIRE(pid);
  home.kill9();
  REQUIRE_FALSE(home.daemon_pid());
  // The next command starts a new skyd on the same log.
  auto listed = home.skyctl({"events", "--since", "0", "-o", "json"});
  REQUIRE(listed.exit_code == 0);
  CHECK(home.daemon_pid() != pid);
  auto events = json_lines(listed.out);
  REQUIRE_FALSE(events.empty());
  for (size_t i = 0; i < events.size(); ++i)
    CHECK(events[i]["seq"] == i + 1); // no gap, in order
  for (size_t i = 0; i < acked.size(); ++i) {
    auto& ev = events.at(acked[i] - 1);
    CHECK(ev["kind"] == "annotation");
    CHECK(ev["fields"]["text"] == "before crash " + std::to_string(i));
  }
  // No daemon.stopped for the killed daemon: its last event is a note.
  CHECK(events.at(acked.back())["kind"] == "daemon.started");
}

TEST_CASE("SIGTERM stops skyd cleanly and records it") {
  skyd_home home;
  REQUIRE(home.skyctl({"daemon", "start"}).exit_code == 0);
  auto pid = home.daemon_pid();
  REQUIRE(pid);
  ::kill(*pid, SIGTERM);
  for (int i = 0; i < 500 && home.daemon_pid(); ++i)
    std::this_thread::sleep_for(std::chrono::milliseconds(10));
  REQUIRE_FALSE(home.daemon_pid());
  CHECK_FALSE(std::filesystem::exists(home.layout().control_socket()));
  auto listed = home.skyctl({"events", "-o", "json"});
  REQUIRE(listed.exit_code == 0);
  auto events = json_lines(listed.out);
  REQUIRE(events.size() >= 3);
  CHECK(events[1]["kind"] == "daemon.stopped");
  CHECK(events[1]["fields"]["pid"] == *pid);
}
