// Good task YAMLs: every field and every form of SPEC.md's "Task YAML",
// each checked for the exact values the parser must produce.

#include "task_test_util.hpp"

using namespace sky;
using namespace sky::task;
using sky::task::testing::parse_ok;
using sky::task::testing::parse_one;

namespace {

accelerator_spec acc(std::string name, double count) {
  accelerator_spec a;
  a.name = std::move(name);
  a.count = count;
  return a;
}

infra_spec infra(std::string provider, std::string region = {},
                 std::string zone = {}) {
  return infra_spec{std::move(provider), std::move(region), std::move(zone)};
}

} // namespace

TEST_CASE("a task with only run parses and names nothing else") {
  auto p = parse_ok("run: echo hello\n");
  REQUIRE(p.tasks.size() == 1);
  const auto& t = p.tasks[0];
  CHECK(t.run == std::string{"echo hello"});
  CHECK_FALSE(t.name);
  CHECK_FALSE(p.name);
  CHECK_FALSE(t.num_nodes);
  CHECK(t.resources == resources_spec{});
  CHECK(t.envs.empty());
  CHECK(t.position == source_position{"t.yaml", 1, 1});
}

TEST_CASE("top-level fields keep their values") {
  auto t = parse_one(R"(name: train
workdir: ~/code
num_nodes: 4
setup: |
  pip install -r requirements.txt
run: |
  python train.py
  echo done
)");
  CHECK(t.name == std::string{"train"});
  REQUIRE(t.workdir);
  CHECK(t.workdir->path == "~/code");
  CHECK(t.workdir->git_url.empty());
  CHECK(t.num_nodes == 4);
  CHECK(t.setup == std::string{"pip install -r requirements.txt\n"});
  CHECK(t.run == std::string{"python train.py\necho done\n"});
}

TEST_CASE("a single document names the pipeline after its task") {
  auto p = parse_ok("name: solo\nrun: x\n");
  CHECK(p.name == std::string{"solo"});
  auto only_name = parse_ok("name: just-a-name\n");
  REQUIRE(only_name.tasks.size() == 1);
  CHECK(only_name.tasks[0].name == std::string{"just-a-name"});
  CHECK(only_name.name == std::string{"just-a-name"});
}

TEST_CASE("workdir may be a git repository") {
  auto t = parse_one(
    "workdir:\n  url: https://github.com/org/repo.git\n  ref: v1.2\n");
  REQUIRE(t.workdir);
  CHECK(t.workdir->path.empty());
  CHECK(t.workdir->git_url == "https://github.com/org/repo.git");
  CHECK(t.workdir->git_ref == "v1.2");
  auto no_ref = parse_one("workdir: {url: https://x/y}\n");
  CHECK(no_ref.workdir->git_ref.empty());
}

TEST_CASE("infra forms") {
  struct row {
    const char* text;
    infra_spec want;
  };
  const row rows[] = {
    {"aws", infra("aws")},
    {"AWS/us-east-1", infra("aws", "us-east-1")},
    {"aws/us-east-1/us-east-1a", infra("aws", "us-east-1", "us-east-1a")},
    {"aws/*/us-east-1a", infra("aws", "", "us-east-1a")},
    {"'*'", infra("")},
    {"'*/us-east-1'", infra("", "us-east-1")},
    {"'*/*/us-east-1a'", infra("", "", "us-east-1a")},
    {"k8s", infra("k8s")},
    {"kubernetes/my-ctx", infra("k8s", "my-ctx")},
    {"k8s/arn:aws:eks:us-east-1:1234:cluster/my-cluster",
     infra("k8s", "arn:aws:eks:us-east-1:1234:cluster/my-cluster")},
    {"ssh/my-pool", infra("ssh", "my-pool")},
    {"slurm/hpc", infra("slurm", "hpc")},
    {"slurm/hpc/gpu-partition", infra("slurm", "hpc", "gpu-partition")},
    {"local", infra("local")},
    {"lambda/us-east-1", infra("lambda", "us-east-1")},
  };
  for (const auto& r : rows) {
    DYNAMIC_SECTION(r.text) {
      auto t = parse_one(std::string{"resources:\n  infra: "} + r.text + "\n");
      REQUIRE(t.resources.infra);
      CHECK(*t.resources.infra == r.want);
    }
  }
}

TEST_CASE("legacy cloud, region and zone fill infra") {
  auto t = parse_one(
    "resources:\n  cloud: GCP\n  region: us-central1\n  zone: us-central1-a\n");
  REQUIRE(t.resources.infra);
  CHECK(*t.resources.infra == infra("gcp", "us-central1", "us-central1-a"));
  auto k = parse_one("resources:\n  cloud: kubernetes\n");
  CHECK(*k.resources.infra == infra("k8s"));
  auto r = parse_one("resources:\n  region: us-east-1\n");
  CHECK(*r.resources.infra == infra("", "us-east-1"));
}

TEST_CASE("cpus and memory forms") {
  auto t = parse_one("resources:\n  cpus: 4+\n  memory: 32\n");
  CHECK(t.resources.cpus == cpus_spec{4, true});
  CHECK(t.resources.memory == memory_spec{32, memory_spec::kind::exact});
  struct row {
    const char* text;
    memory_spec want;
  };
  const row rows[] = {
    {"16+", {16, memory_spec::kind::at_least}},
    {"4x", {4, memory_spec::kind::per_cpu}},
    {"'0.5'", {0.5, memory_spec::kind::exact}},
    {"64GB", {64, memory_spec::kind::exact}},
    {"64gb+", {64, memory_spec::kind::at_least}},
    {"512MB", {0.5, memory_spec::kind::exact}},
    {"1TB", {1024, memory_spec::kind::exact}},
    {"2Ti", {2048, memory_spec::kind::exact}},
    {"16Gi", {16, memory_spec::kind::exact}},
  };
  for (const auto& r : rows) {
    DYNAMIC_SECTION(r.text) {
      auto m = parse_one(std::string{"resources:\n  memory: "} + r.text + "\n");
      CHECK(m.resources.memory == r.want);
    }
  }
  auto fractional = parse_one("resources:\n  cpus: 0.5\n");
  CHECK(fractional.resources.cpus == cpus_spec{0.5, false});
  auto quoted = parse_one("resources:\n  cpus: '8'\n");
  CHECK(quoted.resources.cpus == cpus_spec{8, false});
}

TEST_CASE("accelerators: single, fractional, set, list, by memory") {
  auto single = parse_one("resources:\n  accelerators: A100:8\n");
  CHECK(single.resources.accelerators
        == std::vector<accelerator_spec>{acc("A100", 8)});
  CHECK(single.resources.accelerator_order == choice_order::single);

  auto bare = parse_one("resources:\n  accelerators: H100\n");
  CHECK(bare.resources.accelerators
        == std::vector<accelerator_spec>{acc("H100", 1)});

  auto frac = parse_one("resources:\n  accelerators: A10:0.5\n");
  CHECK(frac.resources.accelerators[0].count == 0.5);

  auto as_written = parse_one("resources:\n  accelerators: a100-80gb:2\n");
  CHECK(as_written.resources.accelerators[0].name == "a100-80gb");

  auto set = parse_one("resources:\n  accelerators: {A100: 8, H100: 8}\n");
  CHECK(set.resources.accelerators
        == std::vector<accelerator_spec>{acc("A100", 8), acc("H100", 8)});
  CHECK(set.resources.accelerator_order == choice_order::any);

  // `{A100:1, V100:1}` is a flow map whose keys carry the counts.
  auto set_keys = parse_one("resources:\n  accelerators: {A100:1, V100:2}\n");
  CHECK(set_keys.resources.accelerators
        == std::vector<accelerator_spec>{acc("A100", 1), acc("V100", 2)});
  CHECK(set_keys.resources.accelerator_order == choice_order::any);

  auto list = parse_one("resources:\n  accelerators:\n    - H100:8\n    - "
                        "A100:8\n    - L4\n");
  CHECK(list.resources.accelerators
        == std::vector<accelerator_spec>{acc("H100", 8), acc("A100", 8),
                                         acc("L4", 1)});
  CHECK(list.resources.accelerator_order == choice_order::ordered);

  // The classic one-entry dict is a single choice.
  auto classic = parse_one("resources:\n  accelerators:\n    V100: 4\n");
  CHECK(classic.resources.accelerators
        == std::vector<accelerator_spec>{acc("V100", 4)});
  CHECK(classic.resources.accelerator_order == choice_order::single);

  auto by_mem = parse_one("resources:\n  accelerators: 80GB+:8\n");
  REQUIRE(by_mem.resources.accelerators.size() == 1);
  const auto& m = by_mem.resources.accelerators[0];
  CHECK(m.name.empty());
  CHECK(m.count == 8);
  CHECK(m.min_memory_gib == 80.0);
  CHECK_FALSE(m.memory_exact);
  CHECK(m.manufacturer.empty());

  auto exact = parse_one("resources:\n  accelerators: 48GB:2\n");
  CHECK(exact.resources.accelerators[0].min_memory_gib == 48.0);
  CHECK(exact.resources.accelerators[0].memory_exact);
  CHECK(exact.resources.accelerators[0].count == 2);

  auto vendor = parse_one("resources:\n  accelerators: NVIDIA:40GB+:4\n");
  CHECK(vendor.resources.accelerators[0].manufacturer == "NVIDIA");
  CHECK(vendor.resources.accelerators[0].min_memory_gib == 40.0);
  CHECK(vendor.resources.accelerators[0].count == 4);

  auto spaced = parse_one("resources:\n  accelerators: 'Gaudi HL-205:8'\n");
  CHECK(spaced.resources.accelerators[0] == acc("Gaudi HL-205", 8));
}

TEST_CASE("sizes, tiers, spot, instance type, cost, priority, labels") {
  auto t = parse_one(R"(resources:
  instance_type: p3.8xlarge
  use_spot: yes
  disk_size: 256GB
  disk_tier: HIGH
  network_tier: best
  max_hourly_cost: 10.5
  priority: -10
  labels:
    project: vision
    team: "42"
  accelerator_args:
    runtime_version: tpu-vm-base
    tpu_vm: true
)");
  const auto& r = t.resources;
  CHECK(r.instance_type == std::string{"p3.8xlarge"});
  CHECK(r.use_spot == true);
  CHECK(r.disk_size_gb == 256);
  CHECK(r.disk_tier == std::string{"high"});
  CHECK(r.network_tier == std::string{"best"});
  CHECK(r.max_hourly_cost == 10.5);
  CHECK(r.priority == -10);
  CHECK(r.labels
        == std::map<std::string, std::string>{{"project", "vision"},
                                              {"team", "42"}});
  CHECK(r.accelerator_args
        == std::map<std::string, std::string>{
          {"runtime_version", "tpu-vm-base"}, {"tpu_vm", "true"}});
  CHECK(parse_one("resources:\n  disk_size: 100\n").resources.disk_size_gb
        == 100);
  CHECK(parse_one("resources:\n  disk_size: 1TB\n").resources.disk_size_gb
        == 1024);
  // Units round down to whole GB, as SkyPilot does.
  CHECK(parse_one("resources:\n  disk_size: 1500MB\n").resources.disk_size_gb
        == 1);
  CHECK(parse_one("resources:\n  priority: 1000\n").resources.priority == 1000);
}

TEST_CASE("ports: int, range, list of both") {
  auto one = parse_one("resources:\n  ports: 8080\n");
  CHECK(one.resources.ports == std::vector<port_range>{{8080, 8080}});
  auto range = parse_one("resources:\n  ports: 10052-10100\n");
  CHECK(range.resources.ports == std::vector<port_range>{{10052, 10100}});
  auto list
    = parse_one("resources:\n  ports:\n    - 8080\n    - 10022-10040\n    - "
                "'65535'\n");
  CHECK(
    list.resources.ports
    == std::vector<port_range>{{8080, 8080}, {10022, 10040}, {65535, 65535}});
}

TEST_CASE("image_id: one image or per region") {
  auto one = parse_one("resources:\n  image_id: docker:ubuntu:22.04\n");
  CHECK(one.resources.image_id == std::string{"docker:ubuntu:22.04"});
  CHECK(one.resources.image_id_by_region.empty());
  auto map = parse_one("resources:\n  image_id:\n    us-east-1: ami-123\n    "
                       "us-west-2: ami-456\n");
  CHECK_FALSE(map.resources.image_id);
  CHECK(map.resources.image_id_by_region
        == std::map<std::string, std::string>{{"us-east-1", "ami-123"},
                                              {"us-west-2", "ami-456"}});
}

TEST_CASE("job_recovery: name, map, none, legacy spot_recovery") {
  auto name = parse_one("resources:\n  job_recovery: failover\n");
  REQUIRE(name.resources.job_recovery);
  CHECK(name.resources.job_recovery->strategy == "FAILOVER");
  CHECK(name.resources.job_recovery->max_restarts_on_errors == 0);

  auto map = parse_one(R"(resources:
  job_recovery:
    strategy: EAGER_NEXT_REGION
    max_restarts_on_errors: 3
    recover_on_exit_codes: [33, 34]
)");
  REQUIRE(map.resources.job_recovery);
  CHECK(*map.resources.job_recovery
        == job_recovery_spec{"EAGER_NEXT_REGION", 3, {33, 34}});

  auto single_code
    = parse_one("resources:\n  job_recovery:\n    recover_on_exit_codes: 42\n");
  CHECK(single_code.resources.job_recovery->recover_on_exit_codes
        == std::vector<int>{42});
  CHECK(single_code.resources.job_recovery->strategy == "EAGER_NEXT_REGION");

  auto none = parse_one("resources:\n  job_recovery: none\n");
  CHECK_FALSE(none.resources.job_recovery);

  auto legacy = parse_one("resources:\n  spot_recovery: FAILOVER\n");
  REQUIRE(legacy.resources.job_recovery);
  CHECK(legacy.resources.job_recovery->strategy == "FAILOVER");
}

TEST_CASE("autostop: bool, minutes, with unit, map") {
  auto on = parse_one("resources:\n  autostop: true\n");
  CHECK(on.resources.autostop == autostop_spec{true, 5, false, std::nullopt});
  auto off = parse_one("resources:\n  autostop: false\n");
  CHECK(off.resources.autostop->enabled == false);
  auto minutes = parse_one("resources:\n  autostop: 10\n");
  CHECK(minutes.resources.autostop
        == autostop_spec{true, 10, false, std::nullopt});
  auto hours = parse_one("resources:\n  autostop: 2h\n");
  CHECK(hours.resources.autostop->idle_minutes == 120);
  auto days = parse_one("resources:\n  autostop: 1d\n");
  CHECK(days.resources.autostop->idle_minutes == 1440);
  auto map = parse_one("resources:\n  autostop:\n    idle_minutes: 30\n    "
                       "down: true\n    wait_for: JOBS\n");
  CHECK(map.resources.autostop == autostop_spec{true, 30, true, "jobs"});
}

TEST_CASE("any_of and ordered keep alternatives as written") {
  auto t = parse_one(R"(resources:
  accelerators: H100:8
  use_spot: true
  any_of:
    - infra: aws/us-west-2
    - infra: gcp
      use_spot: false
      labels: {tier: gold}
)");
  const auto& r = t.resources;
  CHECK(r.accelerators == std::vector<accelerator_spec>{acc("H100", 8)});
  CHECK(r.use_spot == true);
  REQUIRE(r.any_of.size() == 2);
  CHECK(r.ordered.empty());
  CHECK(r.any_of[0].infra == infra("aws", "us-west-2"));
  // Not merged: the parent's fields stay on the parent.
  CHECK(r.any_of[0].accelerators.empty());
  CHECK_FALSE(r.any_of[0].use_spot);
  CHECK(r.any_of[1].infra == infra("gcp"));
  CHECK(r.any_of[1].use_spot == false);
  CHECK(r.any_of[1].labels.at("tier") == "gold");

  auto o = parse_one(R"(resources:
  ordered:
    - accelerators: H100:8
    - accelerators: A100:8
      cpus: 32+
)");
  REQUIRE(o.resources.ordered.size() == 2);
  CHECK(o.resources.any_of.empty());
  CHECK(o.resources.ordered[0].accelerators
        == std::vector<accelerator_spec>{acc("H100", 8)});
  CHECK(o.resources.ordered[1].cpus == cpus_spec{32, true});

  // A set of accelerators may go with any_of, as in SkyPilot.
  auto set_with_any = parse_one(
    "resources:\n  accelerators: {A100: 1, L4: 1}\n  any_of:\n    - infra: "
    "aws\n");
  CHECK(set_with_any.resources.accelerators.size() == 2);
}

TEST_CASE("envs and secrets keep order, text as written, and null") {
  auto t = parse_one(R"(envs:
  ZED: last-alphabetically
  EPOCHS: 10
  LR: 1e-4
  DEBUG: true
  EMPTY: ""
  REQUIRED:
  ALSO_REQUIRED: null
  QUOTED_NULL: "null"
secrets:
  HF_TOKEN: hf_abc
  WANDB_KEY: ~
)");
  const std::vector<variable_spec> envs{{"ZED", "last-alphabetically"},
                                        {"EPOCHS", "10"},
                                        {"LR", "1e-4"},
                                        {"DEBUG", "true"},
                                        {"EMPTY", ""},
                                        {"REQUIRED", std::nullopt},
                                        {"ALSO_REQUIRED", std::nullopt},
                                        {"QUOTED_NULL", "null"}};
  CHECK(t.envs == envs);
  CHECK(t.secrets
        == std::vector<variable_spec>{{"HF_TOKEN", "hf_abc"},
                                      {"WANDB_KEY", std::nullopt}});
}

TEST_CASE("file_mounts: paths, buckets and storage maps") {
  auto t = parse_one(R"(file_mounts:
  /remote/dir: ./local
  /datasets: s3://my-dataset
  /checkpoints:
    name: ckpt-bucket
    source: ~/ckpts
    store: GCS
    persistent: false
    mode: mount_cached
)");
  REQUIRE(t.file_mounts.size() == 3);
  CHECK(t.file_mounts[0]
        == file_mount_spec{"/remote/dir", "./local", "", "", "", std::nullopt});
  CHECK(t.file_mounts[1].source == "s3://my-dataset");
  CHECK(t.file_mounts[2]
        == file_mount_spec{"/checkpoints", "~/ckpts", "MOUNT_CACHED",
                           "ckpt-bucket", "gcs", false});
}

TEST_CASE("service: probe map, replica policy, balancing, port") {
  auto t = parse_one(R"(service:
  readiness_probe:
    path: /v1/models
    post_data: {model: llama, max_tokens: 1, stream: false, note: "a \"q\""}
    initial_delay_seconds: 600
    timeout_seconds: 10
    consecutive_failure_threshold_timeout: 300
    headers:
      Authorization: Bearer x
  replica_policy:
    min_replicas: 2
    max_replicas: 5
    target_qps_per_replica: 2.5
    upscale_delay_seconds: 60
    downscale_delay_seconds: 600
    num_overprovision: 1
    base_ondemand_fallback_replicas: 1
    dynamic_ondemand_fallback: true
  load_balancing_policy: ROUND_ROBIN
  ports: 8081
run: serve
)");
  REQUIRE(t.service);
  const auto& s = *t.service;
  CHECK(s.readiness_probe.path == "/v1/models");
  CHECK(
    s.readiness_probe.post_data
    == std::string{
      R"({"model":"llama","max_tokens":1,"stream":false,"note":"a \"q\""})"});
  CHECK(s.readiness_probe.initial_delay_seconds == 600);
  CHECK(s.readiness_probe.timeout_seconds == 10);
  CHECK(s.readiness_probe.headers.at("Authorization") == "Bearer x");
  CHECK(s.consecutive_failure_threshold_timeout_seconds == 300);
  const replica_policy_spec want{2, 5, 2.5, 60, 600, 1, 1, true};
  CHECK(s.replica_policy == want);
  CHECK(s.load_balancing_policy == "round_robin");
  CHECK(s.port == uint16_t{8081});
}

TEST_CASE("service: path-only probe and fixed replicas keep defaults") {
  auto t = parse_one("service:\n  readiness_probe: /health\n  replicas: 3\n");
  REQUIRE(t.service);
  CHECK(t.service->readiness_probe.path == "/health");
  CHECK(t.service->readiness_probe.initial_delay_seconds == 1200);
  CHECK(t.service->readiness_probe.timeout_seconds == 15);
  CHECK_FALSE(t.service->readiness_probe.post_data);
  CHECK(t.service->replica_policy.min_replicas == 3);
  CHECK(t.service->replica_policy.max_replicas == 3);
  CHECK(t.service->load_balancing_policy == "least_load");
  auto post = parse_one("service:\n  readiness_probe:\n    path: /p\n    "
                        "post_data: '{\"a\": 1}'\n");
  CHECK(post.service->readiness_probe.post_data == std::string{"{\"a\": 1}"});
}

TEST_CASE("config is flattened to dotted keys") {
  auto t = parse_one(R"(config:
  kubernetes:
    provision_timeout: 600
    pod_config:
      spec:
        containers:
          - image: a
          - image: b
        tolerations: []
  docker:
    run_options: {}
  nvidia_gpus:
    disable_ecc: true
  active_workspace: ~
)");
  const std::map<std::string, std::string> want{
    {"kubernetes.provision_timeout", "600"},
    {"kubernetes.pod_config.spec.containers.0.image", "a"},
    {"kubernetes.pod_config.spec.containers.1.image", "b"},
    {"kubernetes.pod_config.spec.tolerations", "[]"},
    {"docker.run_options", "{}"},
    {"nvidia_gpus.disable_ecc", "true"},
    {"active_workspace", "null"}};
  CHECK(t.config == want);
}

TEST_CASE("pipelines: name document, tasks in order, positions") {
  auto p = parse_ok(R"(name: chain
---
name: a
run: echo a
---
name: b
run: echo b
)");
  CHECK(p.name == std::string{"chain"});
  REQUIRE(p.tasks.size() == 2);
  CHECK(p.tasks[0].name == std::string{"a"});
  CHECK(p.tasks[1].name == std::string{"b"});
  CHECK(p.tasks[0].position == source_position{"t.yaml", 3, 1});
  CHECK(p.tasks[1].position == source_position{"t.yaml", 6, 1});

  auto unnamed = parse_ok("run: a\n---\nrun: b\n");
  CHECK_FALSE(unnamed.name);
  CHECK(unnamed.tasks.size() == 2);

  // A trailing `---` adds nothing.
  auto trailing = parse_ok("run: a\n---\n");
  CHECK(trailing.tasks.size() == 1);
}

TEST_CASE("null sections count as not given") {
  auto t = parse_one("resources:\nenvs:\nrun: x\nsetup:\n");
  CHECK(t.resources == resources_spec{});
  CHECK(t.envs.empty());
  CHECK_FALSE(t.setup);
}

TEST_CASE("merge keys and anchors work as PyYAML reads them") {
  auto t = parse_one(R"(resources:
  any_of:
    - &base
      infra: aws
      accelerators: A100:8
      use_spot: true
    - <<: *base
      infra: gcp
      use_spot: false
    - *base
run: x
)");
  const auto& alts = t.resources.any_of;
  REQUIRE(alts.size() == 3);
  CHECK(alts[0].infra == infra("aws"));
  CHECK(alts[1].infra == infra("gcp")); // explicit keys win over merged ones
  CHECK(alts[1].use_spot == false);
  CHECK(alts[1].accelerators == std::vector<accelerator_spec>{acc("A100", 8)});
  CHECK(alts[2] == alts[0]);
  // Anchors do not cross documents (YAML's rule), so a pipeline cannot
  // share them.
  auto err = sky::task::testing::parse_error(
    "resources: &r {cpus: 2}\n---\nresources: *r\n");
  CHECK_THAT(err.message, Catch::StartsWith("t.yaml:3:12: invalid YAML: "));
}
