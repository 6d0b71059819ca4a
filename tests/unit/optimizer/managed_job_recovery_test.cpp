#include <catch2/catch.hpp>

#include <random>

#include "optimizer/managed_job/managed_job_recovery.hpp"

using namespace sky;
using namespace sky::optimizer;
namespace ev = sky::optimizer::mj_event;
using st = managed_job_state;
using act = managed_job_action;

namespace {

const launch_place east{"aws", "us-east-1", "us-east-1a"};
const launch_place west{"aws", "us-west-2", "us-west-2b"};

managed_job job_of(std::vector<recovery_settings> tasks) {
  managed_job j;
  j.id = 1;
  j.name = "train";
  for (auto& s : tasks)
    j.tasks.push_back({"", std::move(s)});
  return j;
}

managed_job job_with(recovery_strategy s, uint32_t max_restarts = 0,
                     std::vector<int> free_codes = {}) {
  return job_of({{s, max_restarts, std::move(free_codes)}});
}

// Applies events one by one the way the supervisor will, checking that no
// event is ignored on the way; returns the last decision.
struct driver {
  explicit driver(managed_job j) : job(std::move(j)) {}

  managed_job job;
  managed_job_limits limits;
  int64_t now = 1'000;
  managed_job_decision last;

  managed_job_decision feed(managed_job_event e) {
    now += 1'000;
    last = decide_managed_job(job, e, limits, now);
    job = last.job;
    return last;
  }

  void apply(managed_job_event e) {
    feed(std::move(e));
    INFO(last.ignored);
    REQUIRE(last.ignored.empty());
  }

  // PENDING -> RUNNING at `where`.
  void start(const launch_place& where = east) {
    apply(ev::admitted{});
    apply(ev::cluster_launched{where});
    REQUIRE(job.state == st::running);
  }
};

driver running(managed_job j, const launch_place& where = east) {
  driver d{std::move(j)};
  d.start(where);
  return d;
}

std::optional<std::string> blocked_region(const managed_job_launch& o) {
  if (o.blocked.entries.empty())
    return std::nullopt;
  REQUIRE(o.blocked.entries.size() == 1);
  const auto& e = o.blocked.entries[0];
  CHECK(e.scope == block_scope::region);
  CHECK(e.source == "preemption");
  return e.cloud + "/" + e.region;
}

std::optional<std::string> only_in(const managed_job_launch& o) {
  if (!o.only_in)
    return std::nullopt;
  return o.only_in->text();
}

} // namespace

TEST_CASE("admission launches task 0 anywhere; launched means RUNNING") {
  driver d{job_with(recovery_strategy::eager_next_region)};
  auto a = d.feed(ev::admitted{});
  CHECK(a.action == act::launch);
  CHECK_FALSE(a.tear_down);
  CHECK(d.job.state == st::starting);
  REQUIRE(d.job.launch);
  CHECK(d.job.launch->task_index == 0);
  CHECK(d.job.launch->kind == launch_kind::first);
  CHECK(d.job.launch->blocked.entries.empty());
  CHECK_FALSE(d.job.launch->only_in);
  CHECK(d.job.launch->delay_ms == 0);

  auto l = d.feed(ev::cluster_launched{east});
  CHECK(l.action == act::none);
  CHECK(d.job.state == st::running);
  CHECK(d.job.place == east);
  CHECK_FALSE(d.job.launch);
  CHECK(d.job.reason == "running on aws/us-east-1/us-east-1a");
  CHECK(d.job.started_at_ms == d.now);
}

// Every strategy against every event, from a job RUNNING in aws/us-east-1
// with one restart left and exit code 33 free.
TEST_CASE("strategy x event from RUNNING") {
  struct row {
    recovery_strategy strategy;
    std::string event_name;
    managed_job_event event;
    st want_state;
    act want_action;
    bool want_tear_down;
    std::optional<std::string> want_blocked;
    std::optional<std::string> want_only_in;
    uint32_t want_recoveries;
  };
  const auto eager = recovery_strategy::eager_next_region;
  const auto failover = recovery_strategy::failover;
  const std::vector<row> rows{
    // A lost cluster: EAGER blocks its region, FAILOVER tries only there.
    {eager, "preempted", ev::cluster_lost{}, st::recovering, act::launch, true,
     "aws/us-east-1", std::nullopt, 1},
    {failover, "preempted", ev::cluster_lost{}, st::recovering, act::launch,
     true, std::nullopt, "aws/us-east-1", 1},
    {eager, "node lost elsewhere", ev::cluster_lost{"node 2 lost", west},
     st::recovering, act::launch, true, "aws/us-west-2", std::nullopt, 1},
    // A user-code failure blames no region.
    {eager, "run failed", ev::task_failed{{1}}, st::recovering, act::launch,
     true, std::nullopt, std::nullopt, 1},
    {failover, "run failed", ev::task_failed{{1}}, st::recovering, act::launch,
     true, std::nullopt, "aws/us-east-1", 1},
    {eager, "setup failed", ev::setup_failed{{2}}, st::recovering, act::launch,
     true, std::nullopt, std::nullopt, 1},
    {failover, "free exit code", ev::task_failed{{33}}, st::recovering,
     act::launch, true, std::nullopt, "aws/us-east-1", 1},
    // Success of the only task.
    {eager, "succeeded", ev::task_succeeded{}, st::succeeded, act::finish, true,
     std::nullopt, std::nullopt, 0},
    {failover, "succeeded", ev::task_succeeded{}, st::succeeded, act::finish,
     true, std::nullopt, std::nullopt, 0},
    // Cancel, and events that do not apply while RUNNING.
    {eager, "cancel", ev::cancel_requested{}, st::cancelling, act::tear_down,
     true, std::nullopt, std::nullopt, 0},
    {failover, "cancel", ev::cancel_requested{}, st::cancelling, act::tear_down,
     true, std::nullopt, std::nullopt, 0},
    {eager, "controller failed", ev::controller_failed{"lost record"},
     st::failed_controller, act::finish, true, std::nullopt, std::nullopt, 0},
    {eager, "late no-resources", ev::launch_found_no_resources{}, st::running,
     act::none, false, std::nullopt, std::nullopt, 0},
    {eager, "late launch report", ev::cluster_launched{west}, st::running,
     act::none, false, std::nullopt, std::nullopt, 0},
    {eager, "late prechecks", ev::prechecks_failed{"x"}, st::running, act::none,
     false, std::nullopt, std::nullopt, 0},
    {eager, "stray tear down", ev::cluster_torn_down{}, st::running, act::none,
     false, std::nullopt, std::nullopt, 0},
    {eager, "admitted twice", ev::admitted{}, st::running, act::none, false,
     std::nullopt, std::nullopt, 0},
  };
  for (const auto& r : rows) {
    CAPTURE(to_string(r.strategy), r.event_name);
    auto d = running(job_with(r.strategy, 1, {33}));
    auto before = d.job;
    auto out = d.feed(r.event);
    CHECK(d.job.state == r.want_state);
    CHECK(out.action == r.want_action);
    CHECK(out.tear_down == r.want_tear_down);
    CHECK(d.job.recovery_count == r.want_recoveries);
    if (r.want_action == act::none)
      CHECK(d.job == before); // ignored: the record is untouched
    if (r.want_action != act::launch) {
      CHECK_FALSE(d.job.launch);
      continue;
    }
    REQUIRE(d.job.launch);
    const auto& o = *d.job.launch;
    CHECK(o.task_index == 0);
    CHECK(o.tear_down_first);
    CHECK(o.delay_ms == 0);
    CHECK(blocked_region(o) == r.want_blocked);
    CHECK(only_in(o) == r.want_only_in);
    CHECK(o.narrowed == (r.want_blocked || r.want_only_in));
  }
}

TEST_CASE("after the narrowed first try: anywhere at once, no round spent") {
  for (auto s :
       {recovery_strategy::eager_next_region, recovery_strategy::failover}) {
    CAPTURE(to_string(s));
    auto d = running(job_with(s));
    d.apply(ev::cluster_lost{});
    REQUIRE(d.job.launch->narrowed);
    auto wide = d.feed(ev::launch_found_no_resources{});
    CHECK(wide.action == act::launch);
    CHECK(d.job.state == st::recovering);
    CHECK(d.job.rounds_without_capacity == 0);
    const auto& o = *d.job.launch;
    CHECK_FALSE(o.narrowed);
    CHECK(o.blocked.entries.empty());
    CHECK_FALSE(o.only_in);
    CHECK(o.delay_ms == 0);
    CHECK(o.kind == launch_kind::recovery);
    // Then a cluster anywhere, e.g. back in the lost region.
    d.apply(ev::cluster_launched{east});
    CHECK(d.job.state == st::running);
    CHECK(d.job.recovery_count == 1);
  }
}

TEST_CASE("EAGER: a second preemption blocks the new region, not the old") {
  auto d = running(job_with(recovery_strategy::eager_next_region));
  d.apply(ev::cluster_lost{});
  d.apply(ev::cluster_launched{west});
  d.apply(ev::cluster_lost{});
  CHECK(blocked_region(*d.job.launch) == "aws/us-west-2");
  CHECK(d.job.recovery_count == 2);
  CHECK(d.job.reason
        == "preempted in aws/us-west-2/us-west-2b; relaunching outside "
           "aws/us-west-2 first (recovery 2)");
  // The block names its cause for the optimizer's exclusion list.
  CHECK(block_reason(d.job.launch->blocked.entries[0])
        == "blocked: preempted in aws/us-west-2 (preemption)");
}

TEST_CASE("a cluster lost while STARTING or RECOVERING is relaunched") {
  driver d{job_with(recovery_strategy::eager_next_region)};
  d.apply(ev::admitted{});
  // Lost during the launch (before it reported): the event says where.
  d.apply(ev::cluster_lost{"preempted during setup", east});
  CHECK(d.job.state == st::recovering);
  CHECK(blocked_region(*d.job.launch) == "aws/us-east-1");
  d.apply(ev::cluster_lost{"preempted again", west});
  CHECK(d.job.recovery_count == 2);
  CHECK(blocked_region(*d.job.launch) == "aws/us-west-2");
  // Without any known place nothing can be blocked: anywhere.
  driver fresh{job_with(recovery_strategy::failover)};
  fresh.apply(ev::admitted{});
  fresh.apply(ev::cluster_lost{});
  CHECK_FALSE(fresh.job.launch->narrowed);
  CHECK_FALSE(fresh.job.launch->only_in);
}

TEST_CASE("max_restarts_on_errors: restarts until spent, then FAILED") {
  auto d = running(job_with(recovery_strategy::eager_next_region, 2));
  d.apply(ev::task_failed{{1}});
  CHECK(d.job.state == st::recovering);
  CHECK(d.job.reason
        == "run failed with exit code 1; restart 1 of 2; "
           "relaunching anywhere");
  CHECK(d.job.launch->kind == launch_kind::restart);
  d.apply(ev::cluster_launched{west});
  d.apply(ev::setup_failed{{1, 1}});
  CHECK(d.job.state == st::recovering);
  CHECK(d.job.restarts_on_errors == 2);
  d.apply(ev::cluster_launched{east});
  auto end = d.feed(ev::task_failed{{3}});
  CHECK(end.action == act::finish);
  CHECK(end.tear_down);
  CHECK(d.job.state == st::failed);
  CHECK(d.job.reason == "run failed with exit code 3; all 2 restarts used");
  CHECK(d.job.recovery_count == 2);
  CHECK(d.job.ended_at_ms == d.now);
}

TEST_CASE("no restart budget: the first failure is final") {
  struct row {
    managed_job_event event;
    st want;
    std::string reason;
  };
  const std::vector<row> rows{
    {ev::task_failed{{1}}, st::failed, "run failed with exit code 1"},
    {ev::setup_failed{{127}}, st::failed_setup,
     "setup failed with exit code 127"},
    {ev::task_failed{{}}, st::failed, "run failed with an unknown exit code"},
    {ev::task_failed{{1, 2}}, st::failed, "run failed with exit codes 1, 2"},
  };
  for (const auto& r : rows) {
    CAPTURE(r.reason);
    auto d = running(job_with(recovery_strategy::failover));
    auto out = d.feed(r.event);
    CHECK(out.action == act::finish);
    CHECK(d.job.state == r.want);
    CHECK(d.job.reason == r.reason);
    CHECK(d.job.recovery_count == 0);
  }
}

TEST_CASE("recover_on_exit_codes recover without spending the budget") {
  struct row {
    std::vector<int> free_codes;
    uint32_t budget;
    std::vector<int> exit_codes;
    st want;
    uint32_t want_spent;
  };
  const std::vector<row> rows{
    {{33}, 0, {33}, st::recovering, 0},
    {{33, 34}, 0, {34}, st::recovering, 0},
    // Multi-node: one node exiting with a listed code is enough.
    {{33}, 0, {1, 33}, st::recovering, 0},
    {{33}, 0, {1}, st::failed, 0},
    {{33}, 1, {1}, st::recovering, 1},
    {{33}, 1, {33}, st::recovering, 0},
    {{}, 0, {33}, st::failed, 0},
    {{0}, 0, {}, st::failed, 0},
  };
  for (const auto& r : rows) {
    CAPTURE(r.free_codes, r.budget, r.exit_codes);
    auto d = running(
      job_with(recovery_strategy::eager_next_region, r.budget, r.free_codes));
    d.feed(ev::task_failed{r.exit_codes});
    CHECK(d.job.state == r.want);
    CHECK(d.job.restarts_on_errors == r.want_spent);
  }
  // Many free recoveries leave the budget whole.
  auto d = running(job_with(recovery_strategy::eager_next_region, 1, {33}));
  for (int i = 0; i < 5; ++i) {
    d.apply(ev::task_failed{{33}});
    d.apply(ev::cluster_launched{east});
  }
  CHECK(d.job.recovery_count == 5);
  CHECK(d.job.restarts_on_errors == 0);
  d.apply(ev::task_failed{{1}});
  CHECK(d.job.state == st::recovering);
  d.apply(ev::cluster_launched{east});
  d.apply(ev::task_failed{{1}});
  CHECK(d.job.state == st::failed);
}

TEST_CASE("preemptions never spend the restart budget") {
  auto d = running(job_with(recovery_strategy::eager_next_region, 1));
  for (int i = 0; i < 4; ++i) {
    d.apply(ev::cluster_lost{});
    d.apply(ev::cluster_launched{i % 2 ? east : west});
  }
  CHECK(d.job.recovery_count == 4);
  CHECK(d.job.restarts_on_errors == 0);
}

TEST_CASE("cancel wins in every state") {
  struct row {
    std::string name;
    std::vector<managed_job_event> to_reach;
    st from;
    st want;
    act want_action;
    bool want_tear_down;
  };
  const std::vector<row> rows{
    {"pending", {}, st::pending, st::cancelled, act::finish, false},
    {"starting",
     {ev::admitted{}},
     st::starting,
     st::cancelling,
     act::tear_down,
     true},
    {"running",
     {ev::admitted{}, ev::cluster_launched{east}},
     st::running,
     st::cancelling,
     act::tear_down,
     true},
    {"recovering",
     {ev::admitted{}, ev::cluster_launched{east}, ev::cluster_lost{}},
     st::recovering,
     st::cancelling,
     act::tear_down,
     true},
    {"starting, waiting to retry",
     {ev::admitted{}, ev::launch_found_no_resources{}},
     st::starting,
     st::cancelling,
     act::tear_down,
     true},
    {"cancelling",
     {ev::admitted{}, ev::cancel_requested{}},
     st::cancelling,
     st::cancelling,
     act::none,
     false},
    {"succeeded",
     {ev::admitted{}, ev::cluster_launched{east}, ev::task_succeeded{}},
     st::succeeded,
     st::succeeded,
     act::none,
     false},
    {"failed",
     {ev::admitted{}, ev::cluster_launched{east}, ev::task_failed{{1}}},
     st::failed,
     st::failed,
     act::none,
     false},
    {"cancelled",
     {ev::cancel_requested{}},
     st::cancelled,
     st::cancelled,
     act::none,
     false},
  };
  for (const auto& r : rows) {
    CAPTURE(r.name);
    driver d{job_with(recovery_strategy::eager_next_region)};
    for (const auto& e : r.to_reach)
      d.apply(e);
    REQUIRE(d.job.state == r.from);
    auto out = d.feed(ev::cancel_requested{});
    CHECK(d.job.state == r.want);
    CHECK(out.action == r.want_action);
    CHECK(out.tear_down == r.want_tear_down);
    if (r.want == st::cancelling) {
      // Any pending launch is dropped; only the tear down's outcome counts.
      CHECK_FALSE(d.job.launch);
      for (managed_job_event late :
           {managed_job_event{ev::task_succeeded{}},
            managed_job_event{ev::task_failed{{1}}},
            managed_job_event{ev::cluster_lost{}},
            managed_job_event{ev::launch_found_no_resources{}},
            managed_job_event{ev::controller_failed{"x"}},
            managed_job_event{ev::prechecks_failed{"x"}}}) {
        auto ignored = d.feed(late);
        CHECK(ignored.action == act::none);
        CHECK(d.job.state == st::cancelling);
      }
      auto done = d.feed(ev::cluster_torn_down{});
      CHECK(done.action == act::finish);
      CHECK_FALSE(done.tear_down);
      CHECK(d.job.state == st::cancelled);
    }
  }
}

TEST_CASE("a cluster that comes up while cancelling is torn down too") {
  driver d{job_with(recovery_strategy::eager_next_region)};
  d.apply(ev::admitted{});
  d.apply(ev::cancel_requested{});
  auto out = d.feed(ev::cluster_launched{east});
  CHECK(out.action == act::tear_down);
  CHECK(out.tear_down);
  CHECK(d.job.state == st::cancelling);
  d.apply(ev::cluster_torn_down{});
  CHECK(d.job.state == st::cancelled);
  CHECK(d.job.reason == "cancelled");
}

TEST_CASE("no resources on the first launch: back off, then give up") {
  driver d{job_with(recovery_strategy::eager_next_region)};
  d.limits.max_rounds_first_launch = 3;
  d.limits.retry_gap_ms = 10'000;
  d.limits.max_retry_gap_ms = 60'000;
  d.apply(ev::admitted{});
  auto r1 = d.feed(ev::launch_found_no_resources{"no capacity"});
  CHECK(r1.action == act::launch);
  CHECK(d.job.state == st::starting);
  CHECK(d.job.launch->delay_ms == 10'000);
  CHECK(d.job.launch->tear_down_first);
  CHECK(d.job.reason == "no capacity (round 1); retrying in 10 s");
  d.apply(ev::launch_found_no_resources{"no capacity"});
  CHECK(d.job.launch->delay_ms == 20'000);
  auto end = d.feed(ev::launch_found_no_resources{"no capacity"});
  CHECK(end.action == act::finish);
  CHECK(end.tear_down);
  CHECK(d.job.state == st::failed_no_resource);
  CHECK(d.job.reason == "no capacity after 3 launch rounds");
  CHECK_FALSE(d.job.launch);
}

TEST_CASE("no resources with rounds = 0: keep trying, backoff capped") {
  driver d{job_with(recovery_strategy::failover)};
  d.limits.max_rounds_first_launch = 0;
  d.limits.retry_gap_ms = 10'000;
  d.limits.max_retry_gap_ms = 60'000;
  d.apply(ev::admitted{});
  std::vector<int64_t> delays;
  for (int i = 0; i < 6; ++i) {
    d.apply(ev::launch_found_no_resources{});
    delays.push_back(d.job.launch->delay_ms);
  }
  CHECK(
    delays
    == std::vector<int64_t>{10'000, 20'000, 40'000, 60'000, 60'000, 60'000});
  CHECK(d.job.state == st::starting);
  // Capacity comes back: the count starts again.
  d.apply(ev::cluster_launched{east});
  CHECK(d.job.rounds_without_capacity == 0);
}

TEST_CASE("relaunch rounds follow their own limit (default: forever)") {
  auto d = running(job_with(recovery_strategy::eager_next_region));
  d.apply(ev::cluster_lost{});
  d.apply(ev::launch_found_no_resources{}); // narrowed try -> anywhere
  for (int i = 0; i < 50; ++i)
    d.apply(ev::launch_found_no_resources{});
  CHECK(d.job.state == st::recovering);
  CHECK(d.job.rounds_without_capacity == 50);
  CHECK(d.job.launch->delay_ms == d.limits.max_retry_gap_ms);

  auto bounded = running(job_with(recovery_strategy::eager_next_region));
  bounded.limits.max_rounds_relaunch = 2;
  bounded.apply(ev::cluster_lost{});
  bounded.apply(ev::launch_found_no_resources{});
  bounded.apply(ev::launch_found_no_resources{});
  bounded.feed(ev::launch_found_no_resources{});
  CHECK(bounded.job.state == st::failed_no_resource);
  CHECK(bounded.job.recovery_count == 1);
}

TEST_CASE("retry_delay_ms doubles up to its cap") {
  managed_job_limits l;
  l.retry_gap_ms = 1'000;
  l.max_retry_gap_ms = 5'000;
  CHECK(retry_delay_ms(l, 0) == 0);
  CHECK(retry_delay_ms(l, 1) == 1'000);
  CHECK(retry_delay_ms(l, 2) == 2'000);
  CHECK(retry_delay_ms(l, 3) == 4'000);
  CHECK(retry_delay_ms(l, 4) == 5'000);
  CHECK(retry_delay_ms(l, 4'000'000'000u) == 5'000);
  l.max_retry_gap_ms = 0; // a cap below the gap means the gap
  CHECK(retry_delay_ms(l, 3) == 1'000);
  l.retry_gap_ms = 0;
  CHECK(retry_delay_ms(l, 3) == 0);
}

TEST_CASE("pipeline of 3 with a preemption in task 2") {
  // Task 2 has its own strategy and restart budget.
  driver d{job_of({{recovery_strategy::eager_next_region, 1, {}},
                   {recovery_strategy::failover, 1, {}},
                   {recovery_strategy::eager_next_region, 0, {}}})};
  d.start(east);
  d.apply(ev::task_failed{{1}}); // spends task 1's restart
  d.apply(ev::cluster_launched{east});
  CHECK(d.job.restarts_on_errors == 1);

  auto next = d.feed(ev::task_succeeded{});
  CHECK(next.action == act::launch);
  CHECK(next.tear_down); // task 1's cluster goes
  CHECK(d.job.state == st::starting);
  CHECK(d.job.task_index == 1);
  CHECK(d.job.launch->task_index == 1);
  CHECK(d.job.launch->kind == launch_kind::first);
  CHECK(d.job.restarts_on_errors == 0);
  CHECK_FALSE(d.job.place);
  CHECK(d.job.reason == "task 1 succeeded; launching task 2 of 3");

  d.apply(ev::cluster_launched{west});
  d.apply(ev::cluster_lost{});
  CHECK(d.job.state == st::recovering);
  CHECK(d.job.task_index == 1);
  CHECK(d.job.launch->task_index == 1);
  CHECK(only_in(*d.job.launch) == "aws/us-west-2"); // task 2 is FAILOVER
  d.apply(ev::cluster_launched{west});
  d.apply(ev::task_failed{{1}}); // task 2's own budget
  CHECK(d.job.state == st::recovering);
  d.apply(ev::cluster_launched{west});

  d.apply(ev::task_succeeded{});
  CHECK(d.job.task_index == 2);
  d.apply(ev::cluster_launched{east});
  auto done = d.feed(ev::task_succeeded{});
  CHECK(done.action == act::finish);
  CHECK(done.tear_down);
  CHECK(d.job.state == st::succeeded);
  CHECK(d.job.reason == "all 3 tasks succeeded");
  CHECK(d.job.recovery_count == 3);
}

TEST_CASE("pipeline: a failure in the last task fails the whole job") {
  driver d{job_of({{}, {}})};
  d.start();
  d.apply(ev::task_succeeded{});
  d.apply(ev::cluster_launched{east});
  d.apply(ev::setup_failed{{1}});
  CHECK(d.job.state == st::failed_setup);
  CHECK(d.job.task_index == 1);
}

TEST_CASE("prechecks fail before RUNNING; the controller can fail any time") {
  driver pending{job_with(recovery_strategy::eager_next_region)};
  auto p = pending.feed(ev::prechecks_failed{"no enabled infra offers H100"});
  CHECK(pending.job.state == st::failed_prechecks);
  CHECK(p.action == act::finish);
  CHECK_FALSE(p.tear_down);
  CHECK(pending.job.reason == "no enabled infra offers H100");

  driver starting{job_with(recovery_strategy::eager_next_region)};
  starting.apply(ev::admitted{});
  CHECK(starting.feed(ev::prechecks_failed{"x"}).tear_down);
  CHECK(starting.job.state == st::failed_prechecks);

  driver idle{job_with(recovery_strategy::eager_next_region)};
  auto c = idle.feed(ev::controller_failed{"record lost"});
  CHECK(idle.job.state == st::failed_controller);
  CHECK_FALSE(c.tear_down);
}

TEST_CASE("terminal states ignore every event and keep their record") {
  const std::vector<managed_job_event> all{ev::admitted{},
                                           ev::cluster_launched{east},
                                           ev::task_succeeded{},
                                           ev::task_failed{{1}},
                                           ev::setup_failed{{1}},
                                           ev::cluster_lost{},
                                           ev::launch_found_no_resources{},
                                           ev::prechecks_failed{"x"},
                                           ev::cancel_requested{},
                                           ev::cluster_torn_down{},
                                           ev::controller_failed{"x"}};
  auto d = running(job_with(recovery_strategy::eager_next_region));
  d.apply(ev::task_succeeded{});
  for (const auto& e : all) {
    auto before = d.job;
    auto out = d.feed(e);
    CHECK(out.action == act::none);
    CHECK_FALSE(out.ignored.empty());
    CHECK(d.job == before);
  }
}

TEST_CASE("times: started once, state_since on changes, ended when done") {
  driver d{job_with(recovery_strategy::eager_next_region)};
  d.job.submitted_at_ms = 500;
  d.apply(ev::admitted{}); // now = 2000
  CHECK(d.job.state_since_ms == 2'000);
  d.apply(ev::cluster_launched{east}); // 3000
  CHECK(d.job.started_at_ms == 3'000);
  d.apply(ev::cluster_lost{});         // 4000
  d.apply(ev::cluster_launched{west}); // 5000
  CHECK(d.job.started_at_ms == 3'000);
  CHECK(d.job.state_since_ms == 5'000);
  d.apply(ev::task_succeeded{}); // 6000
  CHECK(d.job.ended_at_ms == 6'000);
  CHECK(d.job.submitted_at_ms == 500);
}

TEST_CASE("a corrupt record is refused, not indexed") {
  managed_job empty;
  auto out = decide_managed_job(empty, ev::admitted{}, {}, 0);
  CHECK(out.action == act::none);
  CHECK_FALSE(out.ignored.empty());
  auto past = job_with(recovery_strategy::eager_next_region);
  past.task_index = 1;
  CHECK(decide_managed_job(past, ev::task_failed{{1}}, {}, 0).action
        == act::none);
}

// Random event streams: whatever arrives, terminal states are absorbing,
// counters only grow, and a cancel followed by the tear down's report
// always ends CANCELLED unless the job had already ended.
TEST_CASE("random event streams keep the invariants") {
  std::mt19937 rng(7);
  const std::vector<managed_job_event> all{ev::admitted{},
                                           ev::cluster_launched{east},
                                           ev::cluster_launched{west},
                                           ev::task_succeeded{},
                                           ev::task_failed{{1}},
                                           ev::task_failed{{33}},
                                           ev::setup_failed{{2}},
                                           ev::cluster_lost{},
                                           ev::launch_found_no_resources{},
                                           ev::prechecks_failed{"x"},
                                           ev::controller_failed{"x"}};
  for (int run = 0; run < 300; ++run) {
    driver d{job_of({{recovery_strategy::eager_next_region, 2, {33}},
                     {recovery_strategy::failover, 1, {}}})};
    d.limits.max_rounds_first_launch = 2;
    d.limits.max_rounds_relaunch = 4;
    size_t steps = rng() % 40;
    for (size_t i = 0; i < steps; ++i) {
      auto before = d.job;
      d.feed(all[rng() % all.size()]);
      if (is_terminal(before.state))
        REQUIRE(d.job == before);
      REQUIRE(d.job.recovery_count >= before.recovery_count);
      REQUIRE(d.job.task_index >= before.task_index);
      REQUIRE(d.job.task_index < d.job.tasks.size());
      REQUIRE(d.job.restarts_on_errors
              <= d.job.tasks[d.job.task_index].recovery.max_restarts_on_errors);
      // A live launching job always knows its launch.
      if (d.job.state == st::starting || d.job.state == st::recovering)
        REQUIRE(d.job.launch);
    }
    bool ended = is_terminal(d.job.state);
    auto final_state = d.job.state;
    d.feed(ev::cancel_requested{});
    d.feed(ev::cluster_torn_down{});
    CHECK(d.job.state == (ended ? final_state : st::cancelled));
  }
}
