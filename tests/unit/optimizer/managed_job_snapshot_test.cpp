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
