#include <catch2/catch.hpp>

#include <deque>

#include "optimizer/managed_job/managed_job_admission.hpp"
#include "optimizer/managed_job/managed_job_recovery.hpp"

using namespace sky::optimizer;
using ids = std::vector<uint64_t>;

TEST_CASE("admission: first come first served up to the launch slots") {
  struct row {
    ids pending;
    uint32_t launching;
    uint32_t max;
    ids want;
  };
  const std::vector<row> rows{
    {{}, 0, 4, {}},
    {{1, 2, 3}, 0, 4, {1, 2, 3}},
    {{1, 2, 3, 4, 5}, 0, 4, {1, 2, 3, 4}},
    {{5, 6, 7}, 2, 4, {5, 6}},
    {{5, 6, 7}, 4, 4, {}},
    // More launching than allowed (the limit was lowered): none start.
    {{5, 6, 7}, 9, 4, {}},
    // Submission order is the caller's, not the ids'.
    {{9, 3, 7}, 1, 3, {9, 3}},
    // 0 slots would starve every job: it counts as 1.
    {{1, 2}, 0, 0, {1}},
    {{1, 2}, 1, 0, {}},
  };
  for (const auto& r : rows) {
    CAPTURE(r.pending, r.launching, r.max);
    CHECK(admit_pending_jobs(r.pending, r.launching, r.max) == r.want);
  }
}

// 10 jobs through 3 launch slots, each decided by decide_managed_job as
// the supervisor will: launches never exceed the bound, all run in the end,
// and jobs start in submission order.
TEST_CASE("admission with the job decisions: bounded, in order, complete") {
  managed_job_limits limits;
  std::vector<managed_job> jobs(10);
  for (size_t i = 0; i < jobs.size(); ++i) {
    jobs[i].id = i + 1;
    jobs[i].tasks.push_back({"t", {}});
  }
  ids started;
  int64_t now = 0;
  for (int tick = 0; tick < 20; ++tick) {
    ids pending;
    uint32_t launching = 0;
    for (const auto& j : jobs) {
      if (j.state == managed_job_state::pending)
        pending.push_back(j.id);
      if (j.state == managed_job_state::starting)
        ++launching;
    }
    for (auto id : admit_pending_jobs(pending, launching, 3)) {
      auto& j = jobs[id - 1];
      auto d = decide_managed_job(j, mj_event::admitted{}, limits, ++now);
      REQUIRE(d.action == managed_job_action::launch);
      j = d.job;
      started.push_back(id);
    }
    uint32_t now_launching = 0;
    for (const auto& j : jobs)
      now_launching += j.state == managed_job_state::starting;
    REQUIRE(now_launching <= 3);
    // One launch completes per tick.
    for (auto& j : jobs) {
      if (j.state == managed_job_state::starting) {
        j = decide_managed_job(
              j, mj_event::cluster_launched{{"aws", "us-east-1", ""}}, limits,
              ++now)
              .job;
        break;
      }
    }
  }
  CHECK(started == ids{1, 2, 3, 4, 5, 6, 7, 8, 9, 10});
  for (const auto& j : jobs)
    CHECK(j.state == managed_job_state::running);
}
