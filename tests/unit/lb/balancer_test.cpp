#include <catch2/catch.hpp>

#include <map>

#include "skyd/lb/balancer.hpp"

using namespace sky::lb;
using namespace std::chrono_literals;

namespace {

const auto any = [](const std::string&) { return true; };

} // namespace

TEST_CASE("round_robin cycles and skips unusable endpoints") {
  balancer b{policy::round_robin};
  b.set(policy::round_robin, {"a", "b", "c"});
  std::vector<std::string> got;
  for (int i = 0; i < 6; ++i)
    got.push_back(*b.pick(any));
  CHECK(got == std::vector<std::string>{"a", "b", "c", "a", "b", "c"});
  auto not_b = [](const std::string& e) { return e != "b"; };
  CHECK(*b.pick(not_b) == "a");
  CHECK(*b.pick(not_b) == "c");
  CHECK_FALSE(b.pick([](const std::string&) { return false; }));
}

TEST_CASE("least_load picks the fewest in flight, spreading ties") {
  balancer b;
  b.set(policy::least_load, {"a", "b", "c"});
  std::map<std::string, int> idle_picks;
  for (int i = 0; i < 9; ++i)
    ++idle_picks[*b.pick(any)];
  // Idle: ties rotate instead of always the first (SkyServe's list order).
  CHECK(idle_picks == std::map<std::string, int>{{"a", 3}, {"b", 3}, {"c", 3}});
  b.start("a");
  b.start("a");
  b.start("b");
  CHECK(*b.pick(any) == "c");
  b.start("c");
  CHECK(*b.pick(any) == "b");
  CHECK(b.total_in_flight() == 4);
}

TEST_CASE("counts stay right when requests fail or endpoints leave") {
  balancer b;
  b.set(policy::least_load, {"a", "b"});
  {
    flight f1{b, "a"};
    flight f2{b, "a"};
    CHECK(b.in_flight("a") == 2);
    // "a" leaves the set while two requests still run on it.
    b.set(policy::least_load, {"b"});
    auto loads = b.loads();
    REQUIRE(loads.size() == 2);
    CHECK(loads[1].endpoint == "a");
    CHECK(loads[1].in_flight == 2);
  } // both end (failed or finished: the same guard)
  CHECK(b.in_flight("a") == 0);
  CHECK(b.total_in_flight() == 0);
  CHECK(b.loads().size() == 1); // gone, not recreated at -1
  b.finish("a");                // a stray late finish changes nothing
  CHECK(b.in_flight("a") == 0);
  CHECK(b.total_in_flight() == 0);
}

TEST_CASE("a moved flight counts once") {
  balancer b;
  b.set(policy::least_load, {"a"});
  flight outer;
  {
    flight f{b, "a"};
    outer = std::move(f);
  }
  CHECK(b.in_flight("a") == 1);
  outer.release();
  CHECK(b.in_flight("a") == 0);
}

TEST_CASE("ejection lasts until readmit_after or the next routes") {
  ejections e{5s};
  const auto t0 = std::chrono::steady_clock::time_point{} + 100s;
  e.eject("a", "connect: refused", t0, 1000);
  CHECK(e.ejected("a", t0));
  CHECK(e.ejected("a", t0 + 4s));
  CHECK_FALSE(e.ejected("a", t0 + 5s));
  CHECK_FALSE(e.ejected("b", t0));
  // Ejected again while ejected: one event, the time extended.
  e.eject("a", "connect: refused", t0 + 1s, 2000);
  auto events = e.drain_events();
  REQUIRE(events.size() == 1);
  CHECK(events[0].endpoint == "a");
  CHECK(events[0].at_ms == 1000);
  CHECK(e.drain_events().empty());
  CHECK(e.ejected("a", t0 + 5s));
  e.readmit();
  CHECK_FALSE(e.ejected("a", t0 + 2s));
}
