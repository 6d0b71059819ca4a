#include <catch2/catch.hpp>

#include "optimizer/managed_job/managed_job_snapshot.hpp"
#include "messages/cluster.hpp"

using namespace sky;
using namespace sky::optimizer;

namespace {

optimizer::managed_job_snapshot sample() {
  task::pipeline_spec p;
  p.name = "Train Model!";
  task::task_spec t;
  t.name = "step";
  t.run = "echo hi";
  p.tasks = {t, t};
  auto job = optimizer::new_managed_job(7, "", p, 1000);
  REQUIRE(job);
  optimizer::managed_job_snapshot s;
  s.job = std::move(*job);
  s.job.state = optimizer::managed_job_state::recovering;
  s.job.recovery_count = 2;
  s.job.place = optimizer::launch_place{"aws", "us-east-1", "use1-az1"};
  optimizer::managed_job_launch order;
  order.task_index = 1;
  order.kind = optimizer::launch_kind::recovery;
  order.tear_down_first = true;
  order.delay_ms = 60000;
  optimizer::block_entry b;
  b.scope = optimizer::block_scope::region;
  b.cloud = "aws";
  b.region = "us-east-1";
  b.source = "preemption";
  order.blocked.entries.push_back(b);
  order.only_in = optimizer::launch_place{"gcp", "us-central1", ""};
  order.narrowed = true;
  s.job.launch = order;
  s.tasks = p.tasks;
  s.cluster = "x-7-2";
  s.cluster_job = 3;
  s.attempts = 4;
  s.cluster_left = true;
  s.infra = "aws/us-east-1";
  return s;
}

} // namespace

TEST_CASE("managed job snapshots round-trip through the codec") {
  auto s = sample();
  auto back = optimizer::decode_managed_job_snapshot(encode(s));
  REQUIRE(back);
  CHECK(back->job == s.job);
  CHECK(back->tasks == s.tasks);
  CHECK(back->cluster == s.cluster);
  CHECK(back->cluster_job == 3);
  CHECK(back->attempts == 4);
  CHECK(back->cluster_left);
  CHECK(back->infra == s.infra);
  CHECK_FALSE(optimizer::decode_managed_job_snapshot("garbage"));
}

TEST_CASE("managed job clusters and task ids are named after the job") {
  auto s = sample();
  CHECK(optimizer::managed_cluster_name(s.job, 0) == "train-model-7-1");
  CHECK(optimizer::managed_cluster_name(s.job, 1) == "train-model-7-2");
  CHECK(static_cast<bool>(
    validate_cluster_name(optimizer::managed_cluster_name(s.job, 1))));
  s.job.tasks.resize(1);
  s.job.name = "42 !!";
  CHECK(optimizer::managed_cluster_name(s.job, 0) == "job-7");
  s.job.name = std::string(100, 'a');
  CHECK(static_cast<bool>(
    validate_cluster_name(optimizer::managed_cluster_name(s.job, 0))));
  CHECK(optimizer::managed_task_id(s.job, 0).rfind("sky-managed-1000_", 0)
        == 0);
  auto row = row_of(sample());
  CHECK(row.status == "RECOVERING");
  CHECK(row.task == 1);
  CHECK(row.tasks == 2);
  CHECK(row.recoveries == 2);
}

TEST_CASE("managed job snapshot: what each decision records beside the "
          "record") {
  auto s = sample();
  s.cluster_job = 0;
  s.infra.clear();
  s.cluster_left = false;
  managed_job_decision d;
  d.job = s.job;
  d.job.state = managed_job_state::running;
  SECTION("a launch that succeeded records its cluster job and infra") {
    auto next = next_snapshot(s, d, launch_facts{12, "aws/us-east-1"});
    CHECK(next.job.state == managed_job_state::running);
    CHECK(next.cluster_job == 12);
    CHECK(next.infra == "aws/us-east-1");
    CHECK(next.tasks.size() == 2);
    CHECK_FALSE(next.cluster_left);
    auto unread = next_snapshot(next, d, launch_facts{13, ""});
    CHECK(unread.cluster_job == 13);
    CHECK(unread.infra == "aws/us-east-1"); // kept when not read
  }
  SECTION("any other decision changes only the record") {
    auto next = next_snapshot(s, d, std::nullopt);
    CHECK(next.cluster_job == s.cluster_job);
    CHECK(next.cluster == s.cluster);
    CHECK(next.job == d.job);
  }
  SECTION("a final job drops its tasks and says whether a cluster is left") {
    d.job.state = managed_job_state::failed;
    d.tear_down = true;
    auto next = next_snapshot(s, d, std::nullopt);
    CHECK(next.tasks.empty());
    CHECK(next.cluster_left);
    d.tear_down = false;
    CHECK_FALSE(next_snapshot(s, d, std::nullopt).cluster_left);
    auto gone = cleaned_up(next);
    CHECK_FALSE(gone.cluster_left);
    CHECK(gone.job == next.job);
  }
  SECTION("a launch about to start names its cluster first") {
    s.cluster_job = 5;
    s.infra = "gcp";
    s.attempts = 3;
    auto next = begin_launch(s, 1);
    CHECK(next.attempts == 4);
    CHECK(next.cluster == managed_cluster_name(s.job, 1));
    CHECK(next.cluster_job == 0);
    CHECK(next.infra.empty());
    CHECK(next.job == s.job);
  }
}
