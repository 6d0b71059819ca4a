// Event retention end to end: a skyd with a tiny events.keep_events trims
// history when it starts, keeps every cluster and job (snapshots are never
// trimmed), and tells a subscriber asking for trimmed history about the gap.

#include <catch2/catch.hpp>

#include <nlohmann/json.hpp>

#include "skyd_fixture.hpp"

using namespace sky;
using namespace sky::testing;
using nlohmann::json;

TEST_CASE("retention trims old events at start; state and service stay "
          "whole") {
  skyd_home home;
  home.write_config("events:\n  sync: false\n  keep_events: 5\n");
  auto r = home.skyctl({"launch", "-y", "-c", "kept", "--", "echo first"});
  INFO(r.err);
  REQUIRE(r.exit_code == 0);
  auto before
    = json::parse(home.skyctl({"daemon", "status", "-o", "json"}).out);
  // Retention runs at start and every 10 minutes: nothing went yet.
  CHECK(before["first_seq"] == 1);
  REQUIRE(before["last_seq"].get<uint64_t>() >= 10);

  REQUIRE(home.skyctl({"daemon", "stop"}).exit_code == 0);
  REQUIRE(home.skyctl({"daemon", "start"}).exit_code == 0);
  auto after = json::parse(home.skyctl({"daemon", "status", "-o", "json"}).out);
  auto first = after["first_seq"].get<uint64_t>();
  auto last = after["last_seq"].get<uint64_t>();
  CHECK(first > 1);
  CHECK(last - first + 1 <= 5 + 2); // the new daemon's own events may follow

  // History before the cut is gone, and a subscriber is told so.
  auto old = home.skyctl({"events", "--since", "1"});
  CHECK(old.exit_code != 0);
  CHECK(old.err.find("were removed by retention") != std::string::npos);
  auto kept = home.skyctl({"events", "--since", std::to_string(first - 1)});
  CHECK(kept.exit_code == 0);

  // The cluster and its job are whole: they live in snapshots.
  auto status = json::parse(home.skyctl({"status", "-o", "json"}).out);
  REQUIRE(status["clusters"].size() == 1);
  CHECK(status["clusters"][0]["name"] == "kept");
  CHECK(status["clusters"][0]["status"] == "UP");
  auto queue = json::parse(home.skyctl({"queue", "kept", "-o", "json"}).out);
  REQUIRE(queue["jobs"].size() == 1);
  CHECK(queue["jobs"][0]["status"] == "SUCCEEDED");
  auto again = home.skyctl({"exec", "kept", "--", "echo again"});
  INFO(again.err);
  CHECK(again.exit_code == 0);
  CHECK(again.out == "again\n");
  // daemon status counts what a restart brings back.
  auto counts
    = json::parse(home.skyctl({"daemon", "status", "-o", "json"}).out);
  CHECK(counts["clusters"] == 1);
  CHECK(counts["jobs"] == 2);
  CHECK(counts["managed_jobs"] == 0);
  // The start-up reconciliation found the cluster at its provider and no
  // orphan.
  CHECK(counts["reconciled_at"].get<int64_t>() > 0);
  CHECK(counts["provider_clusters"] == 1);
  CHECK(counts["orphans"] == "");
  auto text = home.skyctl({"daemon", "status"}).out;
  CHECK(text.find("state:      1 clusters, 2 jobs, 0 managed jobs")
        != std::string::npos);
  CHECK(text.find("1 clusters at the providers, no orphan")
        != std::string::npos);
  home.skyctl({"down", "-y", "kept"});
}

TEST_CASE("bad retention settings are refused with the key and the fix") {
  skyd_home home;
  home.write_config("events:\n  keep_days: -3\n");
  auto r = home.skyctl({"status"});
  CHECK(r.exit_code != 0);
  CHECK(r.err.find("events.keep_days") != std::string::npos);
  CHECK(r.err.find("between 0 (keep all) and 36500") != std::string::npos);
}
