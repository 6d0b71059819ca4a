// `skyctl jobs ...` end to end in this process against a fake skyd: what
// each subcommand sends, what it prints, and its exit code.

#include <catch2/catch.hpp>

#include "cli_harness.hpp"
#include "messages/cluster_protocol.hpp"
#include "messages/managed_job_protocol.hpp"

using namespace sky;
using namespace sky::cli;
using sky::testing::cli_setup;
using sky::testing::fake_skyd;
using sky::testing::interactive;
using sky::testing::request_of;
using sky::testing::run_cli;

namespace {

std::string outcome(uint64_t job, std::string status,
                    std::optional<int32_t> code = std::nullopt) {
  return sky::encode(protocol::job_outcome{"", job, std::move(status), code});
}

std::string log_frame(uint64_t job, std::string data) {
  protocol::stream_item i;
  i.type = "log";
  i.job_id = job;
  i.data = std::move(data);
  return sky::encode(i);
}

protocol::managed_job_row row(uint64_t id, std::string name,
                              std::string status) {
  protocol::managed_job_row r;
  r.job_id = id;
  r.name = std::move(name);
  r.status = std::move(status);
  r.submitted_at_ms = 1'000;
  return r;
}

} // namespace

TEST_CASE("jobs launch -d sends the pipeline and options, prints the id") {
  fake_skyd skyd;
  skyd.reply_ok("jobs.launch", outcome(5, "PENDING"));
  auto r = run_cli(skyd, {"jobs", "launch", "-y", "-d", "-n", "train",
                          "--job-recovery", "failover", "--cpus", "2", "--",
                          "python", "train.py"});
  INFO(r.err);
  CHECK(r.exit_code == 0);
  CHECK(r.out
        == "Managed job ID: 5\nTo follow its output: skyctl jobs logs 5\n"
           "To see managed jobs:  skyctl jobs queue\n");
  auto body = skyd.body_of("jobs.launch");
  REQUIRE(body);
  auto req = protocol::decode_jobs_launch_request(*body);
  REQUIRE(req);
  CHECK(req->detach);
  CHECK(req->job_recovery == "failover");
  REQUIRE(req->pipeline.tasks.size() == 1);
  const auto& task = req->pipeline.tasks[0];
  CHECK(task.name == std::optional<std::string>{"train"});
  CHECK(task.run == std::optional<std::string>{"python train.py"});
  REQUIRE(task.resources.cpus);
  CHECK(task.resources.cpus->value == 2);
}

TEST_CASE("jobs launch follows the output and exits with the job's end") {
  fake_skyd skyd;
  skyd.on("jobs.launch", [](const fake_skyd::request&) {
    return std::vector<fake_skyd::reply>{
      fake_skyd::more(log_frame(9, "step 1\n")),
      fake_skyd::more(log_frame(9, "step 2\n")),
      fake_skyd::ok(outcome(9, "SUCCEEDED", 0))};
  });
  auto ok = run_cli(skyd, {"jobs", "launch", "-y", "--", "echo", "hi"});
  CHECK(ok.exit_code == 0);
  CHECK(ok.out == "step 1\nstep 2\n");
  auto req = protocol::decode_jobs_launch_request(*skyd.body_of("jobs.launch"));
  REQUIRE(req);
  CHECK_FALSE(req->detach);

  fake_skyd failing;
  failing.reply_ok("jobs.launch", outcome(10, "FAILED", 3));
  auto failed = run_cli(failing, {"jobs", "launch", "-y", "--", "false"});
  CHECK(failed.exit_code == 3);
  CHECK(failed.err.find("Job 10 finished (status: FAILED, exit code 3)")
        != std::string::npos);

  fake_skyd refusing;
  refusing.on("jobs.launch", [](const fake_skyd::request&) {
    return std::vector<fake_skyd::reply>{fake_skyd::error(
      errc::invalid_argument, "the task file has no task", "give a run")};
  });
  auto refused = run_cli(refusing, {"jobs", "launch", "-y", "--", "true"});
  CHECK(refused.exit_code == exit_usage); // skyd's invalid_argument
  CHECK(refused.err.find("the task file has no task") != std::string::npos);
}

TEST_CASE("jobs launch input errors exit 2 before skyd is asked") {
  fake_skyd skyd;
  auto bad = run_cli(
    skyd, {"jobs", "launch", "-y", "--job-recovery", "EAGER", "--", "true"});
  CHECK(bad.exit_code == exit_usage);
  CHECK(bad.err.find("--job-recovery: unknown strategy 'EAGER'")
        != std::string::npos);
  CHECK(bad.err.find("EAGER_NEXT_REGION") != std::string::npos);
  auto none = run_cli(skyd, {"jobs", "launch", "-y", "--cpus", "2"});
  CHECK(none.exit_code == exit_usage);
  CHECK(none.err.find("jobs launch needs a task to run") != std::string::npos);
  auto missing = run_cli(skyd, {"jobs", "launch", "-y", "no-such-file.yaml"});
  CHECK(missing.exit_code == exit_usage);
  CHECK(skyd.count("jobs.launch") == 0);
}

TEST_CASE("jobs launch on a terminal asks first") {
  fake_skyd skyd;
  skyd.reply_ok("jobs.launch", outcome(1, "PENDING"));
  auto declined
    = run_cli(skyd, {"jobs", "launch", "-d", "--", "true"}, interactive("n\n"));
  CHECK(declined.exit_code == 1);
  CHECK(declined.err.find("Launching a managed job (a task) on a new cluster "
                          "of its own. Proceed?")
        != std::string::npos);
  CHECK(skyd.count("jobs.launch") == 0);
  auto accepted
    = run_cli(skyd, {"jobs", "launch", "-d", "--", "true"}, interactive("y\n"));
  CHECK(accepted.exit_code == 0);
  CHECK(skyd.count("jobs.launch") == 1);
}

TEST_CASE("jobs queue prints the table or JSON, -s skips ended jobs") {
  fake_skyd skyd;
  auto running = row(2, "train", "RUNNING");
  running.cluster = "train-2";
  running.infra = "aws/us-east-1";
  running.recoveries = 1;
  running.reason = "preempted in aws/us-east-1/us-east-1a";
  auto done = row(1, "", "SUCCEEDED");
  done.ended_at_ms = 61'000;
  skyd.reply_ok("jobs.queue",
                sky::encode(protocol::jobs_queue_reply{{running, done}}));
  auto r = run_cli(skyd, {"jobs", "queue"});
  CHECK(r.exit_code == 0);
  CHECK(r.out.rfind("ID  NAME   SUBMITTED", 0) == 0);
  CHECK(r.out.find("train-2") != std::string::npos);
  CHECK(r.out.find("aws/us-east-1") != std::string::npos);
  CHECK(r.out.find("preempted in aws/us-east-1/us-east-1a")
        != std::string::npos);
  CHECK(r.out.find("1m") != std::string::npos); // the ended job's duration
  CHECK(request_of<protocol::jobs_queue_request>(skyd, "jobs.queue").all);

  auto json = run_cli(skyd, {"jobs", "queue", "-o", "json"});
  CHECK(json.exit_code == 0);
  auto parsed = nlohmann::json::parse(json.out);
  REQUIRE(parsed["jobs"].size() == 2);
  CHECK(parsed["jobs"][0]["job_id"] == 2);
  CHECK(parsed["jobs"][0]["recoveries"] == 1);
  CHECK(parsed["jobs"][0]["ended_at"].is_null());
  CHECK(parsed["jobs"][1]["duration_s"] == 60);

  fake_skyd empty;
  empty.reply_ok("jobs.queue", sky::encode(protocol::jobs_queue_reply{}));
  auto e = run_cli(empty, {"jobs", "queue", "-s"});
  CHECK(e.exit_code == 0);
  CHECK(e.out == "No managed jobs.\n");
  CHECK_FALSE(
    request_of<protocol::jobs_queue_request>(empty, "jobs.queue").all);
}

TEST_CASE("jobs queue shows a pipeline's task column") {
  fake_skyd skyd;
  auto p = row(4, "pipe", "RUNNING");
  p.task = 2;
  p.tasks = 3;
  skyd.reply_ok("jobs.queue", sky::encode(protocol::jobs_queue_reply{{p}}));
  auto r = run_cli(skyd, {"jobs", "queue"});
  CHECK(r.out.rfind("ID  TASK  NAME", 0) == 0);
  CHECK(r.out.find("2/3") != std::string::npos);
}

TEST_CASE("jobs cancel sends ids, a name or all, and reports each job") {
  fake_skyd skyd;
  protocol::jobs_cancel_reply reply;
  reply.results = {{3, true, "CANCELLED", ""},
                   {4, true, "CANCELLING", ""},
                   {5, false, "SUCCEEDED", "already SUCCEEDED"}};
  skyd.reply_ok("jobs.cancel", sky::encode(reply));
  auto r = run_cli(skyd, {"jobs", "cancel", "-y", "3", "4", "5"});
  CHECK(r.exit_code == 1);
  CHECK(r.out
        == "Managed job 3 cancelled.\nManaged job 4 is CANCELLING; its "
           "cluster is being torn down.\n");
  CHECK(r.err == "Managed job 5: already SUCCEEDED\n");
  auto req = request_of<protocol::jobs_cancel_request>(skyd, "jobs.cancel");
  CHECK(req.job_ids == std::vector<uint64_t>{3, 4, 5});
  CHECK(req.name.empty());
  CHECK_FALSE(req.all);

  fake_skyd named;
  named.reply_ok("jobs.cancel", sky::encode(protocol::jobs_cancel_reply{}));
  auto n = run_cli(named, {"jobs", "cancel", "-y", "-n", "train"});
  CHECK(n.exit_code == 0);
  CHECK(n.out == "No live managed job to cancel.\n");
  CHECK(request_of<protocol::jobs_cancel_request>(named, "jobs.cancel").name
        == "train");

  fake_skyd all;
  all.reply_ok("jobs.cancel", sky::encode(protocol::jobs_cancel_reply{}));
  CHECK(run_cli(all, {"jobs", "cancel", "-y", "-a"}).exit_code == 0);
  CHECK(request_of<protocol::jobs_cancel_request>(all, "jobs.cancel").all);
}

TEST_CASE("jobs cancel needs exactly one target and asks on a terminal") {
  fake_skyd skyd;
  auto none = run_cli(skyd, {"jobs", "cancel", "-y"});
  CHECK(none.exit_code == exit_usage);
  CHECK(none.err.find("jobs cancel needs job IDs, -n NAME or -a")
        != std::string::npos);
  auto two = run_cli(skyd, {"jobs", "cancel", "-y", "3", "-a"});
  CHECK(two.exit_code == exit_usage);
  CHECK(two.err.find("give only one of") != std::string::npos);
  auto declined = run_cli(skyd, {"jobs", "cancel", "-a"}, interactive("n\n"));
  CHECK(declined.exit_code == 1);
  CHECK(declined.err.find("Cancelling all managed jobs. Proceed?")
        != std::string::npos);
  auto ids = run_cli(skyd, {"jobs", "cancel", "3", "4"}, interactive("n\n"));
  CHECK(ids.err.find("Cancelling managed job(s) 3, 4. Proceed?")
        != std::string::npos);
  CHECK(skyd.count("jobs.cancel") == 0);
}

TEST_CASE("jobs logs asks for a job or the latest, follows or not") {
  fake_skyd skyd;
  skyd.on("jobs.logs", [](const fake_skyd::request&) {
    return std::vector<fake_skyd::reply>{
      fake_skyd::more(log_frame(7, "--- managed job 7, attempt 1 ---\n")),
      fake_skyd::more(log_frame(7, "loss 0.1\n")),
      fake_skyd::ok(outcome(7, "FAILED", 4))};
  });
  auto r = run_cli(skyd, {"jobs", "logs", "7", "--no-follow"});
  CHECK(r.exit_code == 4);
  CHECK(r.out == "--- managed job 7, attempt 1 ---\nloss 0.1\n");
  auto req = request_of<protocol::jobs_logs_request>(skyd, "jobs.logs");
  CHECK(req.job_id == 7);
  CHECK_FALSE(req.follow);

  fake_skyd latest;
  latest.reply_ok("jobs.logs", outcome(8, "RUNNING"));
  auto l = run_cli(latest, {"jobs", "logs"});
  CHECK(l.exit_code == 0);
  CHECK(l.err.find("follow it with: skyctl jobs logs 8") != std::string::npos);
  auto lreq = request_of<protocol::jobs_logs_request>(latest, "jobs.logs");
  CHECK(lreq.job_id == 0);
  CHECK(lreq.follow);

  fake_skyd missing;
  missing.on("jobs.logs", [](const fake_skyd::request&) {
    return std::vector<fake_skyd::reply>{
      fake_skyd::error(errc::not_found, "managed job 99 does not exist",
                       "see skyctl jobs queue")};
  });
  auto m = run_cli(missing, {"jobs", "logs", "99"});
  CHECK(m.exit_code == 1);
  CHECK(m.err.find("managed job 99 does not exist") != std::string::npos);
  CHECK(m.err.find("see skyctl jobs queue") != std::string::npos);
}
