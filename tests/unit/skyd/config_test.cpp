#include <catch2/catch.hpp>

#include <cstdlib>
#include <fstream>

#include "skyd/config.hpp"
#include "tests/support/test_support.hpp"

using namespace sky;
using namespace sky::daemon;

namespace {

result<config> load(const std::string& yaml,
                    std::vector<std::string> overrides = {}) {
  testing::temp_dir dir{"sky-cfg"};
  auto file = dir.path() / "config.yaml";
  std::ofstream{file} << yaml;
  return load_config(home_layout{dir.path()}, file, overrides);
}

std::string message_of(const result<config>& r) {
  REQUIRE_FALSE(r);
  return describe(r.error()).message;
}

} // namespace

TEST_CASE("a missing or empty config file means defaults") {
  testing::temp_dir dir{"sky-cfg"};
  auto cfg = load_config(home_layout{dir.path()}, dir.path() / "none.yaml", {});
  REQUIRE(cfg);
  CHECK(cfg->log_level == "info");
  CHECK(cfg->max_message_bytes == uint64_t{16} << 20);
  CHECK(cfg->events_sync);
  REQUIRE(load(""));
}

TEST_CASE("nested and dotted keys both work, flags override the file") {
  auto nested
    = load("log:\n  level: debug\nwire:\n  max_message_bytes: 65536\n");
  REQUIRE(nested);
  CHECK(nested->log_level == "debug");
  CHECK(nested->max_message_bytes == 65536);
  auto dotted = load("log.level: warn\n", {"log.level=error"});
  REQUIRE(dotted);
  CHECK(dotted->log_level == "error");
}

TEST_CASE("bad configuration names the key, the position and the fix") {
  CHECK(
    message_of(load("log:\n  levle: debug\n"))
      .find("config.yaml:2:10: unknown configuration key 'log.levle' (did you "
            "mean 'log.level'?)")
    != std::string::npos);
  auto bad_level = message_of(load("log: {level: loud}\n"));
  CHECK(bad_level.find("log.level must be one of") != std::string::npos);
  CHECK(message_of(load("wire: {max_message_bytes: 12}\n")).find("between 4096")
        != std::string::npos);
  CHECK(message_of(load("- a\n- b\n")).find("must be a YAML map")
        != std::string::npos);
  CHECK(message_of(load("log: [unclosed\n")).find("config.yaml:")
        != std::string::npos);
  CHECK(message_of(load("", {"log.level"})).find("expected key=value")
        != std::string::npos);
  CHECK(message_of(load("", {"nope=1"})).find("unknown configuration key")
        != std::string::npos);
}

TEST_CASE("sim.scenario expands ~ and sim.mode takes real or virtual") {
  auto cfg = load("sim:\n  clouds: [gcp]\n  scenario: ~/s.yaml\n  mode: "
                  "virtual\n");
  REQUIRE(cfg);
  const char* home = std::getenv("HOME");
  REQUIRE(home != nullptr);
  CHECK(cfg->sim_scenario == std::string{home} + "/s.yaml");
  CHECK(cfg->sim_mode == "virtual");
  auto plain = load("sim: {scenario: /tmp/x.yaml}\n");
  REQUIRE(plain);
  CHECK(plain->sim_scenario == "/tmp/x.yaml");
  CHECK(plain->sim_mode == "real");
  auto bad = message_of(load("sim:\n  mode: virtul\n"));
  CHECK(bad.find(":2:9: sim.mode must be real or virtual")
        != std::string::npos);
  CHECK(bad.find("did you mean 'virtual'") != std::string::npos);
  CHECK(message_of(load("sim: {scenario: ''}\n")).find("sim.scenario must")
        != std::string::npos);
}

TEST_CASE("jobs: launch rounds and retry gaps of managed jobs") {
  auto defaults = load("");
  REQUIRE(defaults);
  CHECK(defaults->jobs_launch_rounds == 3);
  CHECK(defaults->jobs_relaunch_rounds == 0);
  CHECK(defaults->jobs_retry_gap_ms == 60'000);
  CHECK(defaults->jobs_max_retry_gap_ms == 600'000);
  auto cfg = load("jobs:\n  launch_rounds: 1\n  relaunch_rounds: 5\n"
                  "  retry_gap_seconds: 0.2\n  max_retry_gap_seconds: 1.5\n");
  REQUIRE(cfg);
  CHECK(cfg->jobs_launch_rounds == 1);
  CHECK(cfg->jobs_relaunch_rounds == 5);
  CHECK(cfg->jobs_retry_gap_ms == 200);
  CHECK(cfg->jobs_max_retry_gap_ms == 1500);
  // 0 rounds = keep trying.
  auto forever = load("", {"jobs.launch_rounds=0"});
  REQUIRE(forever);
  CHECK(forever->jobs_launch_rounds == 0);
}

TEST_CASE("jobs: bad rounds and gaps name the key and the range") {
  CHECK(message_of(load("jobs: {launch_rounds: -1}\n"))
          .find("jobs.launch_rounds must be a number of rounds between 0")
        != std::string::npos);
  CHECK(message_of(load("jobs: {relaunch_rounds: often}\n"))
          .find("jobs.relaunch_rounds must be")
        != std::string::npos);
  CHECK(message_of(load("jobs: {retry_gap_seconds: 0}\n"))
          .find("jobs.retry_gap_seconds must be a number of seconds between "
                "0.001 and 86400")
        != std::string::npos);
  CHECK(message_of(load("jobs: {max_retry_gap_seconds: 1m}\n"))
          .find("jobs.max_retry_gap_seconds must be")
        != std::string::npos);
  // A gap above its maximum, in either order and from either source.
  auto above = message_of(load("jobs: {retry_gap_seconds: 900}\n"));
  CHECK(above.find("jobs.max_retry_gap_seconds (600) is below "
                   "jobs.retry_gap_seconds (900)")
        != std::string::npos);
  CHECK(message_of(load("jobs: {max_retry_gap_seconds: 0.5}\n",
                        {"jobs.retry_gap_seconds=2"}))
          .find("(0.5) is below jobs.retry_gap_seconds (2)")
        != std::string::npos);
  REQUIRE(load("jobs: {retry_gap_seconds: 900, max_retry_gap_seconds: 900}\n"));
}

TEST_CASE("ssh.loss_after_seconds sets when a silent SSH host is lost") {
  auto defaults = load("");
  REQUIRE(defaults);
  CHECK(defaults->ssh_loss_after_ms == 30'000);
  auto cfg = load("ssh:\n  loss_after_seconds: 5\n");
  REQUIRE(cfg);
  CHECK(cfg->ssh_loss_after_ms == 5'000);
  CHECK(message_of(load("ssh: {loss_after_seconds: soon}\n"))
          .find("ssh.loss_after_seconds must be a number of seconds")
        != std::string::npos);
}
