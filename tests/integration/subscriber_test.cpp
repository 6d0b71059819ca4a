// The Python subscriber example (docs/examples/subscriber.py) against a live
// skyd: every event exactly once, in order, across a kill -9 and restart.

#include <catch2/catch.hpp>

#include <filesystem>
#include <set>
#include <sstream>

#include <nlohmann/json.hpp>

#include "skyd_fixture.hpp"

using namespace sky;
using namespace sky::testing;
using nlohmann::json;

namespace {

// Debian's interpreter: python3-zmq and python3-msgpack are installed for it
// (scripts/setup), whatever python3 comes first on PATH.
const char* debian_python = "/usr/bin/python3";

} // namespace

TEST_CASE("the Python subscriber sees every event once, in order, across a "
          "kill -9 and restart of skyd") {
  if (!std::filesystem::exists(debian_python)) {
    WARN("no /usr/bin/python3: run scripts/setup (test skipped)");
    return;
  }
  skyd_home home;
  for (int i = 0; i < 20; ++i)
    REQUIRE(home.skyctl({"annotate", "first " + std::to_string(i)}).exit_code
            == 0);
  child sub{{debian_python,
             std::string{SKY_SOURCE_DIR} + "/docs/examples/subscriber.py",
             "--until-idle", "8", "--quiet-limit", "2"},
            home.env()};
  std::vector<json> seen;
  auto read_until = [&](size_t count) {
    while (seen.size() < count) {
      auto line = sub.read_line(std::chrono::seconds(20));
      if (!line)
        return false;
      seen.push_back(json::parse(*line));
    }
    return true;
  };
  // daemon.started and the 20 notes.
  REQUIRE(read_until(21));

  home.kill9();
  // The next command starts a new skyd on the same log; the subscriber
  // notices the silence, reconnects and resumes after its last seq.
  for (int i = 0; i < 20; ++i)
    REQUIRE(home.skyctl({"annotate", "second " + std::to_string(i)}).exit_code
            == 0);
  auto all = home.skyctl({"events", "--since", "0", "-o", "json"});
  REQUIRE(all.exit_code == 0);
  std::vector<json> expected;
  {
    std::istringstream in{all.out};
    std::string line;
    while (std::getline(in, line))
      expected.push_back(json::parse(line));
  }
  REQUIRE(expected.size() >= 42);
  REQUIRE(read_until(expected.size()));
  auto code = sub.wait(std::chrono::seconds(30));
  CHECK(code == 0);
  // Nothing more was printed: no duplicates after the last event.
  CHECK(sub.drain_output(std::chrono::milliseconds(200)).empty());
  CHECK(seen.size() == expected.size());
  for (size_t i = 0; i < std::min(seen.size(), expected.size()); ++i) {
    CHECK(seen[i]["seq"] == expected[i]["seq"]);
    CHECK(seen[i]["kind"] == expected[i]["kind"]);
    CHECK(seen[i]["entity"] == expected[i]["entity"]);
  }
  std::set<uint64_t> seqs;
  for (const auto& e : seen)
    seqs.insert(e["seq"].get<uint64_t>());
  CHECK(seqs.size() == seen.size());
  CHECK(seen.back()["fields"]["text"] == "second 19");
}
