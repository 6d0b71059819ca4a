#include <catch2/catch.hpp>

#include "optimizer/managed_job/managed_job_supervision.hpp"

using namespace sky::optimizer;

TEST_CASE("supervision: a dead supervisor is restarted within the budget, "
          "then the job is given up") {
  const supervisor_restart_policy p{3, 600'000};
  const int64_t now = 10'000'000;
  struct row {
    std::vector<int64_t> restarts;
    supervisor_verdict want;
  };
  const std::vector<row> rows{
    {{}, supervisor_verdict::restart},
    {{now - 1000}, supervisor_verdict::restart},
    {{now - 3000, now - 2000}, supervisor_verdict::restart},
    {{now - 3000, now - 2000, now - 1000}, supervisor_verdict::give_up},
    // Restarts older than the window are forgotten.
    {{now - 700'000, now - 2000, now - 1000}, supervisor_verdict::restart},
    {{now - 600'000, now - 2000, now - 1000}, supervisor_verdict::restart},
    {{now - 599'999, now - 2000, now - 1000}, supervisor_verdict::give_up},
    // Order does not matter.
    {{now - 1000, now - 900'000, now - 800'000, now - 2000},
     supervisor_verdict::restart},
  };
  for (const auto& r : rows) {
    CAPTURE(r.restarts);
    CHECK(after_supervisor_died(r.restarts, now, p) == r.want);
  }
}

TEST_CASE("supervision: a budget of 0 gives up at the first death") {
  CHECK(after_supervisor_died({}, 0, {0, 600'000})
        == supervisor_verdict::give_up);
}
