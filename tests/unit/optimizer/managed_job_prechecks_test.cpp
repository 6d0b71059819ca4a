#include <catch2/catch.hpp>

#include "optimizer/managed_job/managed_job_prechecks.hpp"

using namespace sky::optimizer;

namespace {

ranking with(std::vector<exclusion_kind> kinds, bool candidate = false) {
  ranking r;
  if (candidate)
    r.candidates.push_back({});
  size_t i = 0;
  for (auto k : kinds)
    r.exclusions.push_back(
      {"infra" + std::to_string(i), k, "reason " + std::to_string(i++), 0});
  return r;
}

} // namespace

TEST_CASE("prechecks: only reasons that last make a task never runnable") {
  using k = exclusion_kind;
  struct row {
    std::vector<k> kinds;
    bool candidate;
    bool never;
  };
  const std::vector<row> rows{
    // Something can run it: not a precheck matter, whatever was excluded.
    {{k::not_enabled}, true, false},
    {{}, true, false},
    // Nothing to name: keep the launch rounds rather than fail blind.
    {{}, false, false},
    {{k::not_enabled}, false, true},
    {{k::unknown_location}, false, true},
    {{k::no_match, k::no_price}, false, true},
    {{k::too_expensive, k::unsupported}, false, true},
    // A failover block or taken fixed capacity may pass: rounds decide.
    {{k::blocked}, false, false},
    {{k::no_free_capacity}, false, false},
    {{k::no_match, k::no_free_capacity}, false, false},
    {{k::blocked, k::not_enabled}, false, false},
  };
  for (const auto& r : rows) {
    CAPTURE(r.kinds.size(), r.candidate);
    CHECK(never_runnable(with(r.kinds, r.candidate)).has_value() == r.never);
  }
}

TEST_CASE("prechecks: the reason names every infra's refusal on one line") {
  auto reason = never_runnable(
    with({exclusion_kind::no_match, exclusion_kind::not_enabled}));
  REQUIRE(reason);
  CHECK(*reason == "no enabled infra can run the task: reason 0; reason 1");
}
