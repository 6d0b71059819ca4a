#include <catch2/catch.hpp>

#include "messages/task/parse_task.hpp"
#include "optimizer/managed_job/managed_job_model.hpp"

using namespace sky;
using namespace sky::optimizer;

namespace {

task::pipeline_spec parse(std::string_view yaml) {
  auto p = task::parse_task_yaml(yaml, "t.yaml");
  REQUIRE(p);
  return *p;
}

std::string message(const caf::error& err) {
  return describe(err).message;
}

} // namespace

TEST_CASE("managed job states: SkyPilot's names, round trip, terminal") {
  struct row {
    managed_job_state state;
    std::string_view name;
    bool terminal;
  };
  const std::vector<row> rows{
    {managed_job_state::pending, "PENDING", false},
    {managed_job_state::starting, "STARTING", false},
    {managed_job_state::running, "RUNNING", false},
    {managed_job_state::recovering, "RECOVERING", false},
    {managed_job_state::cancelling, "CANCELLING", false},
    {managed_job_state::succeeded, "SUCCEEDED", true},
    {managed_job_state::cancelled, "CANCELLED", true},
    {managed_job_state::failed, "FAILED", true},
    {managed_job_state::failed_setup, "FAILED_SETUP", true},
    {managed_job_state::failed_prechecks, "FAILED_PRECHECKS", true},
    {managed_job_state::failed_no_resource, "FAILED_NO_RESOURCE", true},
    {managed_job_state::failed_controller, "FAILED_CONTROLLER", true},
  };
  for (const auto& r : rows) {
    CAPTURE(r.name);
    CHECK(to_string(r.state) == r.name);
    CHECK(parse_managed_job_state(r.name) == r.state);
    CHECK(is_terminal(r.state) == r.terminal);
  }
  CHECK(parse_managed_job_state("failed_no_resource")
        == managed_job_state::failed_no_resource);
  CHECK_FALSE(parse_managed_job_state("PREEMPTED"));
  CHECK_FALSE(parse_managed_job_state(""));
}

TEST_CASE("recovery strategy names, as --job-recovery takes them") {
  CHECK(parse_recovery_strategy("failover") == recovery_strategy::failover);
  CHECK(parse_recovery_strategy("EAGER_NEXT_REGION")
        == recovery_strategy::eager_next_region);
  auto bad = parse_recovery_strategy("EAGER");
  REQUIRE_FALSE(bad);
  CHECK(message(bad.error()) == "unknown job recovery strategy 'EAGER'");
  CHECK(to_string(recovery_strategy::failover) == "FAILOVER");
  CHECK(to_string(recovery_strategy::eager_next_region) == "EAGER_NEXT_REGION");
}

TEST_CASE("recovery settings come from the parsed job_recovery") {
  struct row {
    std::string yaml;
    recovery_settings want;
  };
  const std::vector<row> rows{
    {"run: x\n", {}},
    {"resources:\n  job_recovery: failover\n",
     {recovery_strategy::failover, 0, {}}},
    {"resources:\n  job_recovery: none\n", {}},
    {"resources:\n  job_recovery:\n    max_restarts_on_errors: 3\n"
     "    recover_on_exit_codes: [33, 34]\n",
     {recovery_strategy::eager_next_region, 3, {33, 34}}},
    {"resources:\n  job_recovery:\n    strategy: FAILOVER\n"
     "    recover_on_exit_codes: 7\n",
     {recovery_strategy::failover, 0, {7}}},
  };
  for (const auto& r : rows) {
    CAPTURE(r.yaml);
    auto p = parse(r.yaml);
    auto s = recovery_settings_for_task(p.tasks.at(0));
    REQUIRE(s);
    CHECK(*s == r.want);
  }
  task::job_recovery_spec odd{"SOMETIMES", 0, {}};
  CHECK_FALSE(to_recovery_settings(odd));
}

TEST_CASE("alternatives inherit job_recovery and may not change it") {
  auto inherit = parse("resources:\n  job_recovery: failover\n"
                       "  any_of:\n    - infra: aws\n    - infra: gcp\n");
  auto s = recovery_settings_for_task(inherit.tasks.at(0));
  REQUIRE(s);
  CHECK(s->strategy == recovery_strategy::failover);

  auto same = parse("resources:\n  job_recovery: failover\n"
                    "  ordered:\n    - infra: aws\n      job_recovery: "
                    "FAILOVER\n");
  CHECK(recovery_settings_for_task(same.tasks.at(0)));

  auto differ = parse("resources:\n  any_of:\n    - infra: aws\n"
                      "      job_recovery: failover\n    - infra: gcp\n");
  auto bad = recovery_settings_for_task(differ.tasks.at(0));
  REQUIRE_FALSE(bad);
  CHECK(message(bad.error())
        == "resources alternatives set different "
           "job_recovery");
}

TEST_CASE("new_managed_job: one row per job, a task per pipeline stage") {
  auto p = parse("name: pipe\n---\nname: prep\nrun: a\n---\nname: train\n"
                 "resources:\n  job_recovery:\n    max_restarts_on_errors: "
                 "2\nrun: b\n---\nrun: c\n");
  auto job = new_managed_job(7, "", p, 1'000);
  REQUIRE(job);
  CHECK(job->id == 7);
  CHECK(job->name == "pipe");
  CHECK(job->state == managed_job_state::pending);
  CHECK(job->submitted_at_ms == 1'000);
  CHECK(job->state_since_ms == 1'000);
  REQUIRE(job->tasks.size() == 3);
  CHECK(job->tasks[0].name == "prep");
  CHECK(job->tasks[1].recovery.max_restarts_on_errors == 2);
  CHECK(job->tasks[2].name.empty());
  CHECK(job->task_index == 0);
  CHECK(job->recovery_count == 0);

  auto named = new_managed_job(8, "mine", p, 0, recovery_strategy::failover);
  REQUIRE(named);
  CHECK(named->name == "mine");
  for (const auto& t : named->tasks)
    CHECK(t.recovery.strategy == recovery_strategy::failover);
  // The flag replaces the strategy only, not the restart settings.
  CHECK(named->tasks[1].recovery.max_restarts_on_errors == 2);

  auto single = new_managed_job(9, "", parse("name: solo\nrun: x\n"), 0);
  REQUIRE(single);
  CHECK(single->name == "solo");

  CHECK_FALSE(new_managed_job(10, "x", task::pipeline_spec{}, 0));
  auto bad = parse("run: a\n---\nresources:\n  any_of:\n    - infra: aws\n"
                   "      job_recovery: failover\n    - infra: gcp\nrun: b\n");
  auto refused = new_managed_job(11, "", bad, 0);
  REQUIRE_FALSE(refused);
  CHECK(message(refused.error()).starts_with("task 2: "));
}

TEST_CASE("pin_to_place narrows the task and its alternatives") {
  auto p = parse("resources:\n  infra: aws/us-west-2\n  any_of:\n"
                 "    - accelerators: A100\n    - infra: gcp\n"
                 "      accelerators: L4\n");
  auto pinned = pin_to_place(p.tasks.at(0),
                             launch_place{"aws", "us-east-1", "us-east-1a"});
  const task::infra_spec want{"aws", "us-east-1", ""};
  CHECK(pinned.resources.infra == want);
  REQUIRE(pinned.resources.any_of.size() == 2);
  CHECK(pinned.resources.any_of[0].infra == want);
  CHECK(pinned.resources.any_of[1].infra == want);
  // Everything else is as written.
  CHECK(pinned.resources.any_of[1].accelerators
        == p.tasks[0].resources.any_of[1].accelerators);
  CHECK(launch_place{"aws", "us-east-1", "us-east-1a"}.text()
        == "aws/us-east-1/us-east-1a");
  CHECK(launch_place{"local", "", ""}.text() == "local");
}
