// skyctl's commands end to end in this process against a fake skyd: what
// each sends, what it prints, and its exit code.

#include <catch2/catch.hpp>

#include <fstream>

#include "cli_harness.hpp"
#include "messages/cluster_protocol.hpp"

using namespace sky;
using namespace sky::cli;
using sky::testing::cli_setup;
using sky::testing::fake_skyd;
using sky::testing::interactive;
using sky::testing::request_of;
using sky::testing::run_cli;

namespace {

std::string final_outcome(std::string cluster, uint64_t job, std::string status,
                          std::optional<int32_t> code = std::nullopt) {
  return sky::encode(protocol::job_outcome{cluster, job, status, code});
}

std::string log_frame(std::string data) {
  protocol::stream_item i;
  i.type = "log";
  i.job_id = 1;
  i.data = std::move(data);
  return sky::encode(i);
}

protocol::plan_reply plan_with(bool feasible) {
  protocol::task_plan t;
  t.num_nodes = 1;
  if (feasible) {
    protocol::candidate_row c;
    c.cloud = "local";
    c.instance_type = "local";
    c.cpus = 2;
    c.memory_gib = 4;
    c.chosen = true;
    t.candidates = {c};
  }
  t.excluded = {{"gcp", "no credentials"}};
  protocol::plan_reply p;
  p.tasks = {t};
  return p;
}

cluster_summary cluster(std::string name, std::string status) {
  cluster_summary c;
  c.name = std::move(name);
  c.status = std::move(status);
  c.placement.provider = "local";
  c.head_ip = "127.0.0.1";
  return c;
}

} // namespace

TEST_CASE("launch -- CMD sends the pipeline and the launch options") {
  fake_skyd skyd;
  skyd.on("launch", [](const fake_skyd::request&) {
    return std::vector<fake_skyd::reply>{
      fake_skyd::more(log_frame("hi there\n")),
      fake_skyd::ok(final_outcome("dev", 1, "SUCCEEDED", 0))};
  });
  auto r = run_cli(
    skyd, {"launch", "-c",    "dev",        "-d",     "--down",  "-i",
           "7",      "-r",    "--no-setup", "--gpus", "A100:2",  "--use-spot",
           "--env",  "A=1",   "--env",      "B=2",    "--ports", "8080",
           "-n",     "greet", "--",         "echo",   "hi",      "there"});
  INFO(r.err);
  CHECK(r.exit_code == 0);
  auto body = skyd.body_of("launch");
  REQUIRE(body);
  auto req = protocol::decode_launch_request(*body);
  REQUIRE(req);
  CHECK(req->cluster == "dev");
  CHECK(req->detach);
  CHECK(req->down);
  CHECK(req->idle_minutes == 7);
  CHECK(req->retry_until_up);
  CHECK(req->no_setup);
  REQUIRE(req->pipeline.tasks.size() == 1);
  const auto& t = req->pipeline.tasks.front();
  CHECK(t.run == "echo hi there");
  CHECK(t.name == "greet");
  CHECK(t.resources.use_spot == true);
  REQUIRE(t.resources.accelerators.size() == 1);
  CHECK(t.resources.accelerators.front().count == 2);
  REQUIRE(t.envs.size() == 2);
  CHECK(t.envs[1].name == "B");
  REQUIRE(t.resources.ports.size() == 1);
  CHECK(t.resources.ports.front().first == 8080);
  CHECK(r.out.find("hi there\n") != std::string::npos);
  CHECK(r.out.find("Job ID: 1") != std::string::npos);
}

TEST_CASE("launch defaults: no autostop change, no down, skyd names it") {
  fake_skyd skyd;
  skyd.on("launch", [](const fake_skyd::request&) {
    return std::vector<fake_skyd::reply>{
      fake_skyd::ok(final_outcome("sky-1", 1, "FAILED", 3))};
  });
  auto r = run_cli(skyd, {"launch", "--", "false"});
  CHECK(r.exit_code == 3);
  auto req = protocol::decode_launch_request(*skyd.body_of("launch"));
  REQUIRE(req);
  CHECK(req->cluster.empty());
  CHECK_FALSE(req->down);
  CHECK(req->idle_minutes == -1);
  CHECK_FALSE(req->detach);
  // No terminal, so no prompt and no optimize round trip.
  CHECK(skyd.count("optimize") == 0);
  CHECK(skyd.count("status") == 0);
}

TEST_CASE("launch task.yaml resolves paths from the current directory") {
  fake_skyd skyd;
  skyd.on("launch", [](const fake_skyd::request&) {
    return std::vector<fake_skyd::reply>{
      fake_skyd::ok(final_outcome("dev", 1, "SUCCEEDED"))};
  });
  sky::testing::temp_dir dir{"skyctl-yaml"};
  std::filesystem::create_directories(dir.path() / "src");
  std::ofstream{dir.path() / "task.yaml"} << "workdir: src\nrun: make\n";
  auto old = std::filesystem::current_path();
  std::filesystem::current_path(dir.path());
  auto r = run_cli(skyd, {"launch", "-c", "dev", "task.yaml"});
  std::filesystem::current_path(old);
  INFO(r.err);
  CHECK(r.exit_code == 0);
  auto req = protocol::decode_launch_request(*skyd.body_of("launch"));
  REQUIRE(req);
  CHECK(req->pipeline.tasks.front().workdir->path
        == (dir.path() / "src").string());
}

TEST_CASE("launch input errors exit 2 before skyd is asked") {
  fake_skyd skyd;
  auto missing = run_cli(skyd, {"launch", "nope.yaml"});
  CHECK(missing.exit_code == exit_usage);
  CHECK(missing.err.find("nope.yaml") != std::string::npos);
  auto bad_flag = run_cli(skyd, {"launch", "--memory", "lots", "--", "ls"});
  CHECK(bad_flag.exit_code == exit_usage);
  CHECK(bad_flag.err.find("--memory") != std::string::npos);
  auto bad_name = run_cli(skyd, {"launch", "-c", "-x-", "--", "ls"});
  CHECK(bad_name.exit_code == exit_usage);
  auto json = run_cli(skyd, {"launch", "-o", "json", "--", "ls"});
  CHECK(json.exit_code == exit_usage);
  CHECK(skyd.requests().empty());
}

TEST_CASE("launch --dryrun prints the plan and launches nothing") {
  fake_skyd skyd;
  skyd.reply_ok("optimize", sky::encode(plan_with(true)));
  auto r = run_cli(skyd, {"launch", "--dryrun", "--cpus", "2", "--", "ls"});
  CHECK(r.exit_code == 0);
  CHECK(r.out.rfind("Considered resources (1 node):\n", 0) == 0);
  CHECK(r.out.find("Not considered:\n  gcp: no credentials\n")
        != std::string::npos);
  CHECK(skyd.count("launch") == 0);
  auto req = protocol::decode_optimize_request(*skyd.body_of("optimize"));
  REQUIRE(req);
  CHECK(req->pipeline.tasks.front().resources.cpus->value == 2);

  auto j = run_cli(skyd, {"launch", "--dryrun", "-o", "json", "--", "ls"});
  CHECK(j.exit_code == 0);
  auto json = nlohmann::json::parse(j.out);
  CHECK(json["candidates"][0]["cloud"] == "local");
  CHECK(json["excluded"][0]["reason"] == "no credentials");
}

TEST_CASE("launch --dryrun exits 1 when nothing fits, with the reasons") {
  fake_skyd skyd;
  skyd.reply_ok("optimize", sky::encode(plan_with(false)));
  auto r = run_cli(skyd, {"launch", "--dryrun", "--gpus", "H100:8"});
  CHECK(r.exit_code == 1);
  CHECK(r.out.find("gcp: no credentials") != std::string::npos);
  CHECK(r.err.find("no infra can run the task") != std::string::npos);
}

TEST_CASE("launch on a terminal shows the plan and asks first") {
  fake_skyd skyd;
  skyd.reply_ok("status", sky::encode(protocol::status_reply{}));
  skyd.reply_ok("optimize", sky::encode(plan_with(true)));
  skyd.on("launch", [](const fake_skyd::request&) {
    protocol::stream_item plan;
    plan.type = "plan";
    plan.plan = plan_with(true);
    return std::vector<fake_skyd::reply>{
      fake_skyd::more(sky::encode(plan)),
      fake_skyd::ok(final_outcome("dev", 1, "SUCCEEDED"))};
  });
  SECTION("declined: nothing is launched") {
    auto r
      = run_cli(skyd, {"launch", "-c", "dev", "--", "ls"}, interactive("n\n"));
    CHECK(r.exit_code == 1);
    CHECK(r.err.find("Launching a new cluster 'dev'. Proceed? [Y/n]")
          != std::string::npos);
    CHECK(r.err.find("Aborted.") != std::string::npos);
    CHECK(skyd.count("launch") == 0);
  }
  SECTION("accepted: the plan is shown once") {
    auto r
      = run_cli(skyd, {"launch", "-c", "dev", "--", "ls"}, interactive("\n"));
    CHECK(r.exit_code == 0);
    CHECK(skyd.count("launch") == 1);
    auto first = r.err.find("Considered resources");
    REQUIRE(first != std::string::npos);
    CHECK(r.err.find("Considered resources", first + 1) == std::string::npos);
  }
  SECTION("-y skips the question") {
    auto r = run_cli(skyd, {"launch", "-y", "-c", "dev", "--", "ls"},
                     interactive(""));
    CHECK(r.exit_code == 0);
    CHECK(skyd.count("optimize") == 0);
  }
}

TEST_CASE("launch on an UP cluster reuses it without asking") {
  fake_skyd skyd;
  skyd.reply_ok("status",
                sky::encode(protocol::status_reply{{cluster("dev", "UP")}}));
  skyd.on("launch", [](const fake_skyd::request&) {
    return std::vector<fake_skyd::reply>{
      fake_skyd::ok(final_outcome("dev", 2, "SUCCEEDED"))};
  });
  auto r = run_cli(skyd, {"launch", "-c", "dev", "--", "ls"}, interactive(""));
  CHECK(r.exit_code == 0);
  CHECK(r.err.find("Proceed?") == std::string::npos);
  CHECK(skyd.count("optimize") == 0);
  auto status = request_of<protocol::clusters_request>(skyd, "status");
  CHECK(status.clusters == std::vector<std::string>{"dev"});
}

TEST_CASE("exec sends one task to the named cluster") {
  fake_skyd skyd;
  skyd.on("exec", [](const fake_skyd::request&) {
    return std::vector<fake_skyd::reply>{
      fake_skyd::more(log_frame("GPU 0\n")),
      fake_skyd::ok(final_outcome("dev", 4, "SUCCEEDED", 0))};
  });
  auto r = run_cli(skyd, {"exec", "dev", "--env", "X=1", "--num-nodes", "2",
                          "--", "nvidia-smi", "-L"});
  INFO(r.err);
  CHECK(r.exit_code == 0);
  CHECK(r.out == "GPU 0\n");
  auto req = protocol::decode_exec_request(*skyd.body_of("exec"));
  REQUIRE(req);
  CHECK(req->cluster == "dev");
  CHECK(req->task.run == "nvidia-smi -L");
  CHECK(req->task.num_nodes == 2);
  CHECK_FALSE(req->detach);
  // exec does not take launch-only flags.
  CHECK(run_cli(skyd, {"exec", "dev", "--infra", "gcp", "--", "ls"}).exit_code
        == exit_usage);
}

TEST_CASE("status prints the table, JSON with every field, or one IP") {
  fake_skyd skyd;
  auto up = cluster("dev", "UP");
  up.placement.hourly_price = 1.5;
  skyd.reply_ok("status", sky::encode(protocol::status_reply{
                            {up, cluster("old", "STOPPED")}}));
  auto table = run_cli(skyd, {"status"});
  CHECK(table.exit_code == 0);
  CHECK(table.out.rfind("NAME  INFRA  RESOURCES", 0) == 0);
  CHECK(table.out.find("$1.50") != std::string::npos);
  auto req = request_of<protocol::clusters_request>(skyd, "status");
  CHECK(req.all);

  auto json = run_cli(skyd, {"status", "-o", "json"});
  CHECK(json.exit_code == 0);
  auto j = nlohmann::json::parse(json.out);
  REQUIRE(j["clusters"].size() == 2);
  CHECK(j["clusters"][0]["placement"]["hourly_price"] == 1.5);
  CHECK(j["clusters"][1].contains("autostop_at_ms"));

  auto ip = run_cli(skyd, {"status", "--ip", "dev"});
  CHECK(ip.exit_code == 0);
  CHECK(ip.out == "127.0.0.1\n");

  auto missing = run_cli(skyd, {"status", "dev", "ghost"});
  CHECK(missing.exit_code == 1);
  CHECK(missing.err == "Cluster(s) not found: ghost.\n");
}

TEST_CASE("status hides managed job clusters unless -a or named") {
  fake_skyd skyd;
  auto job = cluster("train-7", "UP");
  job.owner = "managed_job.7";
  skyd.reply_ok(
    "status", sky::encode(protocol::status_reply{{cluster("dev", "UP"), job}}));
  auto plain = run_cli(skyd, {"status"});
  CHECK(plain.exit_code == 0);
  CHECK(plain.out.find("dev") != std::string::npos);
  CHECK(plain.out.find("train-7") == std::string::npos);
  CHECK(plain.out.find("1 managed job cluster hidden: skyctl status -a "
                       "shows it; skyctl jobs queue lists the jobs.\n")
        != std::string::npos);

  auto all = run_cli(skyd, {"status", "-a"});
  CHECK(all.exit_code == 0);
  CHECK(all.out.find("OWNER") != std::string::npos);
  CHECK(all.out.find("managed job 7") != std::string::npos);
  CHECK(all.out.find("hidden") == std::string::npos);

  // Asked for by name: shown (the fake answers with both rows).
  auto named = run_cli(skyd, {"status", "train-7"});
  CHECK(named.exit_code == 0);
  CHECK(named.out.find("managed job 7") != std::string::npos);

  auto json = run_cli(skyd, {"status", "-o", "json"});
  auto j = nlohmann::json::parse(json.out);
  REQUIRE(j["clusters"].size() == 1);
  CHECK(j["clusters"][0]["owner"] == "");
  auto json_all = run_cli(skyd, {"status", "-a", "-o", "json"});
  j = nlohmann::json::parse(json_all.out);
  REQUIRE(j["clusters"].size() == 2);
  CHECK(j["clusters"][1]["owner"] == "managed_job.7");
}

TEST_CASE("down -a on a terminal names only the user's clusters") {
  fake_skyd skyd;
  auto job = cluster("train-7", "UP");
  job.owner = "managed_job.7";
  skyd.reply_ok("status",
                sky::encode(protocol::status_reply{{cluster("a", "UP"), job}}));
  skyd.reply_ok("down",
                sky::encode(protocol::outcomes_reply{{{"a", true, "", ""}}}));
  auto yes = run_cli(skyd, {"down", "-a"}, interactive("y\n"));
  CHECK(yes.exit_code == 0);
  CHECK(yes.err.find("Tearing down cluster(s) a. Proceed? [Y/n]")
        != std::string::npos);
  auto req = request_of<protocol::clusters_request>(skyd, "down");
  CHECK(req.clusters == std::vector<std::string>{"a"});
}

TEST_CASE("status with no cluster and an old skyd's bare reply") {
  fake_skyd skyd;
  // What skyd answered before clusters existed: {clusters: []}.
  skyd.reply_ok("status",
                map_writer{1}.add("clusters", std::vector<int>{}).bytes());
  auto r = run_cli(skyd, {"status"});
  CHECK(r.exit_code == 0);
  CHECK(r.out == "No existing clusters.\n");
}

TEST_CASE("stop, start and down print one line per cluster") {
  fake_skyd skyd;
  skyd.on("down", [](const fake_skyd::request& req) {
    auto names = protocol::decode_as<protocol::clusters_request>(req.body, "");
    protocol::outcomes_reply reply;
    for (const auto& n : names->clusters)
      reply.results.push_back({n, n != "bad", "", n == "bad" ? "quota" : ""});
    return std::vector<fake_skyd::reply>{fake_skyd::ok(sky::encode(reply))};
  });
  auto ok = run_cli(skyd, {"down", "a", "b"});
  CHECK(ok.exit_code == 0);
  CHECK(ok.out == "Cluster a terminated.\nCluster b terminated.\n");
  auto failed = run_cli(skyd, {"down", "a", "bad"});
  CHECK(failed.exit_code == 1);
  CHECK(failed.err == "skyctl: cluster bad: quota\n");

  skyd.reply_ok("stop", sky::encode(protocol::outcomes_reply{}));
  auto none = run_cli(skyd, {"stop", "-a"});
  CHECK(none.exit_code == 0);
  CHECK(none.out == "No existing clusters.\n");
  CHECK(request_of<protocol::clusters_request>(skyd, "stop").all);

  skyd.reply_ok("start", std::string{wire::nil_body()});
  auto started = run_cli(skyd, {"start", "x"});
  CHECK(started.exit_code == 0);
  CHECK(started.out == "Cluster x started.\n");
  CHECK(run_cli(skyd, {"start", "-a"}).exit_code == exit_usage);
}

TEST_CASE("down on a terminal asks, and -a names what it will tear down") {
  fake_skyd skyd;
  skyd.reply_ok("status", sky::encode(protocol::status_reply{
                            {cluster("a", "UP"), cluster("b", "STOPPED")}}));
  skyd.reply_ok("down", sky::encode(protocol::outcomes_reply{
                          {{"a", true, "", ""}, {"b", true, "", ""}}}));
  auto no = run_cli(skyd, {"down", "-a"}, interactive("n\n"));
  CHECK(no.exit_code == 1);
  CHECK(no.err.find("Tearing down cluster(s) a, b. Proceed? [Y/n]")
        != std::string::npos);
  CHECK(skyd.count("down") == 0);
  auto yes = run_cli(skyd, {"down", "-a"}, interactive("y\n"));
  CHECK(yes.exit_code == 0);
  auto req = request_of<protocol::clusters_request>(skyd, "down");
  CHECK(req.clusters == std::vector<std::string>{"a", "b"});
  CHECK_FALSE(req.all);

  fake_skyd empty;
  empty.reply_ok("status", sky::encode(protocol::status_reply{}));
  auto nothing = run_cli(empty, {"down", "-a"}, interactive(""));
  CHECK(nothing.exit_code == 0);
  CHECK(nothing.out == "No existing clusters.\n");
  CHECK(empty.count("down") == 0);
}

TEST_CASE("autostop sends the setting and prints it") {
  fake_skyd skyd;
  skyd.reply_ok("autostop", std::string{wire::nil_body()});
  auto r = run_cli(skyd, {"autostop", "dev", "-i", "10", "--down"});
  CHECK(r.exit_code == 0);
  CHECK(r.out == "Cluster dev will be torn down after 10 idle minutes.\n");
  auto req = request_of<protocol::autostop_request>(skyd, "autostop");
  CHECK(req.idle_minutes == 10);
  CHECK(req.down);
  CHECK_FALSE(req.cancel);

  fake_skyd other;
  other.reply_ok("autostop",
                 sky::encode(protocol::cluster_outcome{
                   "dev", false, "UP", "autostop needs an idle timer"}));
  auto bad = run_cli(other, {"autostop", "dev", "--cancel"});
  CHECK(bad.exit_code == 1);
  CHECK(bad.err == "skyctl: cluster dev: autostop needs an idle timer\n");
  CHECK(request_of<protocol::autostop_request>(other, "autostop").cancel);
}

TEST_CASE("queue prints tables and JSON") {
  fake_skyd skyd;
  job_summary j;
  j.cluster = "dev";
  j.job_id = 1;
  j.status = "SUCCEEDED";
  j.submitted_at_ms = 1'000;
  j.exit_code = 0;
  skyd.reply_ok("queue", sky::encode(protocol::queue_reply{{j}}));
  auto r = run_cli(skyd, {"queue", "dev"});
  CHECK(r.exit_code == 0);
  CHECK(r.out.rfind("Job queue of cluster dev\nID", 0) == 0);
  CHECK(request_of<protocol::queue_request>(skyd, "queue").clusters
        == std::vector<std::string>{"dev"});
  auto json = run_cli(skyd, {"queue", "-o", "json"});
  auto parsed = nlohmann::json::parse(json.out);
  CHECK(parsed["jobs"][0]["submitted_at"] == 1000);
  CHECK(parsed["jobs"][0]["exit_code"] == 0);
}

TEST_CASE("logs streams the output and exits with the job's code") {
  fake_skyd skyd;
  skyd.on("logs", [](const fake_skyd::request&) {
    return std::vector<fake_skyd::reply>{
      fake_skyd::more(log_frame("epoch 1\n")),
      fake_skyd::ok(final_outcome("dev", 3, "FAILED", 2))};
  });
  auto r = run_cli(skyd, {"logs", "dev", "3", "--no-follow"});
  CHECK(r.exit_code == 2);
  CHECK(r.out == "epoch 1\n");
  auto req = request_of<protocol::logs_request>(skyd, "logs");
  CHECK(req.cluster == "dev");
  CHECK(req.job_id == 3);
  CHECK_FALSE(req.follow);
  CHECK_FALSE(req.status_only);

  fake_skyd latest;
  latest.reply_ok("logs", final_outcome("dev", 8, "RUNNING"));
  auto s = run_cli(latest, {"logs", "dev", "--status"});
  CHECK(s.exit_code == 0);
  CHECK(s.out == "Job 8: RUNNING\n");
  auto sreq = request_of<protocol::logs_request>(latest, "logs");
  CHECK(sreq.job_id == 0);
  CHECK(sreq.status_only);
}

TEST_CASE("cancel sends job ids or all") {
  fake_skyd skyd;
  skyd.reply_ok("cancel", std::string{wire::nil_body()});
  auto r = run_cli(skyd, {"cancel", "dev", "2", "3"});
  CHECK(r.exit_code == 0);
  CHECK(r.out == "Cancelled job(s) 2, 3 on cluster dev.\n");
  auto req = request_of<protocol::cancel_request>(skyd, "cancel");
  CHECK(req.job_ids == std::vector<uint64_t>{2, 3});
  CHECK_FALSE(req.all);
  CHECK(run_cli(skyd, {"cancel", "dev"}).exit_code == exit_usage);
  CHECK(run_cli(skyd, {"cancel", "dev", "1", "-a"}).exit_code == exit_usage);
  auto declined = run_cli(skyd, {"cancel", "dev", "-a"}, interactive("n\n"));
  CHECK(declined.exit_code == 1);
  CHECK(declined.err.find("Cancelling all jobs on cluster dev. Proceed?")
        != std::string::npos);
  CHECK(skyd.count("cancel") == 1);
}

TEST_CASE("show-gpus and gpus list ask skyd the same question") {
  fake_skyd skyd;
  protocol::gpu_row g;
  g.name = "A100";
  g.counts = {1, 8};
  skyd.reply_ok("show_gpus", sky::encode(protocol::show_gpus_reply{{g}}));
  auto a = run_cli(skyd, {"show-gpus", "--infra", "gcp"});
  CHECK(a.exit_code == 0);
  CHECK(a.out == "GPU   QTY   MEMORY\nA100  1, 8  -\n");
  auto b = run_cli(skyd, {"gpus", "list", "A100:8", "-o", "json"});
  CHECK(b.exit_code == 0);
  CHECK(nlohmann::json::parse(b.out)["accelerators"][0]["name"] == "A100");
  auto reqs = skyd.requests();
  REQUIRE(reqs.size() == 2);
  auto first
    = protocol::decode_as<protocol::show_gpus_request>(reqs[0].body, "");
  auto second
    = protocol::decode_as<protocol::show_gpus_request>(reqs[1].body, "");
  CHECK(first->infra == "gcp");
  CHECK(second->filter == "A100:8");

  fake_skyd none;
  none.reply_ok("show_gpus", sky::encode(protocol::show_gpus_reply{}));
  auto missing = run_cli(none, {"show-gpus", "Z9000"});
  CHECK(missing.exit_code == 1);
  CHECK(missing.err.find("no accelerator matches 'Z9000'")
        != std::string::npos);
}

TEST_CASE("a skyd without the verb yet answers unknown_verb: exit 1") {
  fake_skyd skyd;
  auto r = run_cli(skyd, {"queue"});
  CHECK(r.exit_code == 1);
  CHECK(r.err.find("skyd does not know the verb 'queue'") != std::string::npos);
}
