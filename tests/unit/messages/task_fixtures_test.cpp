// SkyPilot-shaped task files under tests/unit/messages/data, read through
// parse_task_file, and the file-level errors.

#include "task_test_util.hpp"

#include <filesystem>
#include <fstream>

#include "messages/task/overrides.hpp"
#include "messages/task/task_codec.hpp"
#include "tests/support/test_support.hpp"

using namespace sky;
using namespace sky::task;

namespace {

std::filesystem::path data_dir() {
  return std::filesystem::path{SKY_SOURCE_DIR} / "tests" / "unit" / "messages"
         / "data";
}

pipeline_spec load(const std::string& name) {
  auto r = parse_task_file(data_dir() / name);
  if (!r) {
    FAIL_CHECK(name << ": " << describe(r.error()).message);
    return {};
  }
  return *r;
}

} // namespace

TEST_CASE("every fixture parses and round-trips through the codec") {
  size_t count = 0;
  for (const auto& entry : std::filesystem::directory_iterator{data_dir()}) {
    if (entry.path().extension() != ".yaml")
      continue;
    ++count;
    DYNAMIC_SECTION(entry.path().filename().string()) {
      auto p = load(entry.path().filename().string());
      REQUIRE_FALSE(p.tasks.empty());
      CHECK(p.tasks[0].position.file == entry.path().string());
      auto back = decode_pipeline(encode_pipeline(p));
      REQUIRE(back);
      CHECK(*back == p);
    }
  }
  CHECK(count >= 8);
}

TEST_CASE("fixture: minimal") {
  auto p = load("minimal.yaml");
  REQUIRE(p.tasks.size() == 1);
  CHECK(p.tasks[0].run == std::string{"echo \"Hello, SkyPilot!\""});
  CHECK(p.tasks[0].position.line == 2);
}

TEST_CASE("fixture: distributed training") {
  auto t = load("distributed_training.yaml").tasks.at(0);
  CHECK(t.name == std::string{"resnet-distributed"});
  CHECK(t.num_nodes == 2);
  CHECK(t.resources.accelerators.at(0).name == "A100");
  CHECK(t.resources.accelerators.at(0).count == 8);
  CHECK(t.resources.use_spot == true);
  CHECK(t.workdir->path == ".");
  CHECK_THAT(*t.run, Catch::Contains("--node_rank=$SKYPILOT_NODE_RANK"));
}

TEST_CASE("fixture: envs that must be supplied") {
  auto t = load("envs_required.yaml").tasks.at(0);
  CHECK(t.envs.at(1) == variable_spec{"EPOCHS", "3"});
  CHECK(t.envs.at(3) == variable_spec{"USE_LORA", "true"});
  CHECK(t.envs.at(4) == variable_spec{"DATA_BUCKET", std::nullopt});
  CHECK(t.secrets.at(0) == variable_spec{"HF_TOKEN", std::nullopt});
  CHECK(t.resources.accelerator_order == choice_order::any);
  CHECK(t.resources.accelerators.size() == 3);
  auto missing = check_required_variables(t);
  REQUIRE_FALSE(missing);
  CHECK_THAT(describe(missing.error()).message,
             Catch::Contains("envs DATA_BUCKET and secrets HF_TOKEN"));
}

TEST_CASE("fixture: any_of and ordered") {
  auto a = load("any_of.yaml").tasks.at(0).resources;
  REQUIRE(a.any_of.size() == 3);
  CHECK(a.disk_size_gb == 512);
  CHECK(a.any_of[2].infra == infra_spec{"k8s", "my-h100-cluster-context", ""});
  auto o = load("ordered.yaml").tasks.at(0).resources;
  REQUIRE(o.ordered.size() == 3);
  CHECK(o.ordered[1].accelerators.at(0).name == "A100-80GB");
  CHECK(o.ordered[2].infra == infra_spec{"gcp", "us-central1", ""});
}

TEST_CASE("fixture: services") {
  auto s = load("service.yaml").tasks.at(0);
  REQUIRE(s.service);
  CHECK(s.service->readiness_probe.post_data
        == std::string{
          R"({"model":"meta-llama/Llama-3.1-8B-Instruct","max_tokens":1})"});
  CHECK(s.service->replica_policy.max_replicas == 4);
  CHECK(s.service->load_balancing_policy == "round_robin");
  CHECK(s.resources.ports == std::vector<port_range>{{8000, 8000}});
  auto r = load("service_replicas.yaml").tasks.at(0);
  CHECK(r.service->replica_policy.min_replicas == 2);
  CHECK(r.service->port == uint16_t{8080});
}

TEST_CASE("fixture: pipeline") {
  auto p = load("pipeline.yaml");
  CHECK(p.name == std::string{"train-then-eval"});
  REQUIRE(p.tasks.size() == 2);
  CHECK(p.tasks[0].file_mounts.at(0)
        == file_mount_spec{"/ckpt", "", "MOUNT", "my-ckpt-bucket", "s3",
                           std::nullopt});
  CHECK(p.tasks[1].resources.accelerators.at(0).name == "T4");
}

TEST_CASE("file errors name the path") {
  auto missing = parse_task_file("/nonexistent/dir/task.yaml");
  REQUIRE_FALSE(missing);
  auto info = describe(missing.error());
  CHECK(info.code == errc::not_found);
  CHECK(info.message == "/nonexistent/dir/task.yaml: no such file");

  auto dir = parse_task_file(data_dir());
  REQUIRE_FALSE(dir);
  CHECK_THAT(describe(dir.error()).message, Catch::Contains("is a directory"));

  sky::testing::temp_dir tmp;
  const auto bad = tmp.path() / "bad.yaml";
  std::ofstream{bad} << "run: x\nresources:\n  gpus: A100\n";
  auto r = parse_task_file(bad);
  REQUIRE_FALSE(r);
  CHECK(describe(r.error()).message
        == bad.string()
             + ":3:3: resources.gpus: is not a field of resources (GPUs are "
               "'accelerators')");
  const auto empty = tmp.path() / "empty.yaml";
  std::ofstream{empty}.flush();
  auto e = parse_task_file(empty);
  REQUIRE_FALSE(e);
  CHECK_THAT(describe(e.error()).message,
             Catch::StartsWith(empty.string() + ":1:1: the file is empty"));
}
