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
