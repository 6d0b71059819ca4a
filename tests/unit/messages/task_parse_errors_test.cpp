// Bad task YAMLs: each must fail with `file:line:col: field: what` and a
// hint, never an exception. The table pins the exact location and field.

#include "task_test_util.hpp"

#include "messages/suggest.hpp"

using namespace sky;
using namespace sky::task;
using sky::task::testing::parse_error;

namespace {

struct bad_case {
  const char* yaml;
  // The message must start with this ("t.yaml:L:C: field.path:").
  const char* prefix;
  // ...and contain this.
  const char* says;
};

const bad_case bad_cases[] = {
  // Unknown and misplaced keys, with "did you mean".
  {"resources:\n  acelerators: A100\n", "t.yaml:2:3: resources.acelerators: ",
   "unknown field in resources (did you mean 'accelerators'?)"},
  {"rnu: echo\n",
   "t.yaml:1:1: rnu: ", "unknown field at the top level (did you mean 'run'?)"},
  {"run: x\nenv:\n  A: 1\n", "t.yaml:2:1: env: ", "(did you mean 'envs'?)"},
  {"resources:\n  memroy: 4\n",
   "t.yaml:2:3: resources.memroy: ", "(did you mean 'memory'?)"},
  {"service:\n  replica_polcy:\n    min_replicas: 1\n",
   "t.yaml:2:3: service.replica_polcy: ", "(did you mean 'replica_policy'?)"},
  {"service:\n  readiness_probe:\n    path: /x\n    intial_delay_seconds: 3\n",
   "t.yaml:4:5: service.readiness_probe.intial_delay_seconds: ",
   "(did you mean 'initial_delay_seconds'?)"},
  {"resources:\n  autostop:\n    idle_minute: 3\n",
   "t.yaml:3:5: resources.autostop.idle_minute: ",
   "(did you mean 'idle_minutes'?)"},
  {"resources:\n  job_recovery:\n    max_restart_on_errors: 3\n",
   "t.yaml:3:5: resources.job_recovery.max_restart_on_errors: ",
   "(did you mean 'max_restarts_on_errors'?)"},
  {"accelerators: A100\n",
   "t.yaml:1:1: accelerators: ", "belongs under 'resources:'"},
  {"gpus: A100:8\n", "t.yaml:1:1: gpus: ", "GPUs are 'accelerators'"},
  {"totally_unknown: 1\n",
   "t.yaml:1:1: totally_unknown: ", "unknown field at the top level"},
  {"volumes:\n  x: y\n",
   "t.yaml:1:1: volumes: ", "SkyPilot field that skyd does not support yet"},
  {"resources:\n  _requires_fuse: true\n",
   "t.yaml:2:3: resources._requires_fuse: ", "internal to SkyPilot"},
  {"resources:\n  accelerator_args:\n    tpu_nmae: x\n",
   "t.yaml:3:5: resources.accelerator_args.tpu_nmae: ",
   "(did you mean 'tpu_name'?)"},
  // Placement.
  {"resources:\n  infra: aws\n  region: us-east-1\n",
   "t.yaml:3:11: resources.region: ", "cannot be used together with 'infra'"},
  {"resources:\n  infra: asw/us-east-1\n", "t.yaml:2:10: resources.infra: ",
   "unknown cloud 'asw' (did you mean 'aws'?)"},
  {"resources:\n  infra: aws/a/b/c\n",
   "t.yaml:2:10: resources.infra: ", "too many parts"},
  {"resources:\n  infra: aws//z\n",
   "t.yaml:2:10: resources.infra: ", "empty part"},
  {"resources:\n  infra: local/x\n",
   "t.yaml:2:10: resources.infra: ", "too many parts"},
  {"resources:\n  cloud: gpc\n",
   "t.yaml:2:10: resources.cloud: ", "(did you mean 'gcp'?)"},
  // Sizes.
  {"resources:\n  cpus: four\n",
   "t.yaml:2:9: resources.cpus: ", "'four' is not a number of vCPUs"},
  {"resources:\n  cpus: 0\n", "t.yaml:2:9: resources.cpus: ", "not positive"},
  {"resources:\n  cpus: -2+\n", "t.yaml:2:9: resources.cpus: ", "not positive"},
  {"resources:\n  memory: 32XB\n",
   "t.yaml:2:11: resources.memory: ", "not a memory size"},
  {"resources:\n  memory: [1]\n",
   "t.yaml:2:11: resources.memory: ", "expected text, got a list"},
  {"resources:\n  disk_size: 10.5\n",
   "t.yaml:2:14: resources.disk_size: ", "not a disk size"},
  {"resources:\n  disk_size: 0\n",
   "t.yaml:2:14: resources.disk_size: ", "less than 1 GB"},
  {"resources:\n  disk_size: 100MB\n",
   "t.yaml:2:14: resources.disk_size: ", "less than 1 GB"},
  {"resources:\n  disk_tier: fast\n",
   "t.yaml:2:14: resources.disk_tier: ", "'fast' is not a valid value"},
  {"resources:\n  disk_tier: hihg\n",
   "t.yaml:2:14: resources.disk_tier: ", "(did you mean 'high'?)"},
  {"resources:\n  network_tier: premium\n",
   "t.yaml:2:17: resources.network_tier: ", "not a valid value"},
  // Accelerators.
  {"resources:\n  accelerators: A100:x\n",
   "t.yaml:2:17: resources.accelerators: ", "count 'x'"},
  {"resources:\n  accelerators: A100:0\n",
   "t.yaml:2:17: resources.accelerators: ", "not a positive number"},
  {"resources:\n  accelerators: A100:1:2:3\n",
   "t.yaml:2:17: resources.accelerators: ", "too many ':'"},
  {"resources:\n  accelerators: 'A100:8, V100:8'\n",
   "t.yaml:2:17: resources.accelerators: ", "several accelerators in one"},
  {"resources:\n  accelerators: 8\n",
   "t.yaml:2:17: resources.accelerators: ", "is a number, not an accelerator"},
  {"resources:\n  accelerators: []\n",
   "t.yaml:2:17: resources.accelerators: ", "is empty"},
  {"resources:\n  accelerators: {A100: -1}\n",
   "t.yaml:2:24: resources.accelerators.A100: ", "greater than 0"},
  {"resources:\n  accelerators: {A100:2: 4}\n",
   "t.yaml:2:26: resources.accelerators.A100:2: ", "both in the key"},
  {"resources:\n  accelerators:\n    - {A100: 1}\n",
   "t.yaml:3:7: resources.accelerators[0]: ", "expected text, got a map"},
  {"resources:\n  accelerators: [A100:8, V100:8]\n  ordered:\n    - cpus: 4\n",
   "t.yaml:2:17: resources.accelerators: ", "together with 'ordered'"},
  {"resources:\n  accelerators: [A100:8, V100:8]\n  any_of:\n    - cpus: 4\n",
   "t.yaml:2:17: resources.accelerators: ", "together with 'any_of'"},
  // Ports.
  {"resources:\n  ports: 70000\n",
   "t.yaml:2:10: resources.ports: ", "out of range"},
  {"resources:\n  ports: 0\n",
   "t.yaml:2:10: resources.ports: ", "out of range"},
  {"resources:\n  ports: 9000-8000\n",
   "t.yaml:2:10: resources.ports: ", "ends before it starts"},
  {"resources:\n  ports: [8080, http]\n",
   "t.yaml:2:17: resources.ports[1]: ", "not a port"},
  // Other resources fields.
  {"resources:\n  use_spot: maybe\n",
   "t.yaml:2:13: resources.use_spot: ", "expected true or false"},
  {"resources:\n  max_hourly_cost: 0\n",
   "t.yaml:2:20: resources.max_hourly_cost: ", "greater than 0"},
  {"resources:\n  priority: 1001\n",
   "t.yaml:2:13: resources.priority: ", "out of range"},
  {"resources:\n  priority: 1.5\n",
   "t.yaml:2:13: resources.priority: ", "not a whole number"},
  {"resources:\n  job_recovery: EAGER\n",
   "t.yaml:2:17: resources.job_recovery: ", "not a valid value"},
  {"resources:\n  job_recovery: FAILOVR\n",
   "t.yaml:2:17: resources.job_recovery: ", "(did you mean 'FAILOVER'?)"},
  {"resources:\n  job_recovery: failover\n  spot_recovery: failover\n",
   "t.yaml:3:18: resources.spot_recovery: ", "together with 'job_recovery'"},
  {"resources:\n  job_recovery:\n    recover_on_exit_codes: [1, 256]\n",
   "t.yaml:3:32: resources.job_recovery.recover_on_exit_codes[1]: ",
   "out of range"},
  {"resources:\n  job_recovery:\n    recover_on_exit_codes: [3, 3]\n",
   "t.yaml:3:32: resources.job_recovery.recover_on_exit_codes[1]: ", "twice"},
  {"resources:\n  autostop: soon\n",
   "t.yaml:2:13: resources.autostop: ", "unknown time unit"},
  {"resources:\n  autostop:\n    wait_for: forever\n",
   "t.yaml:3:15: resources.autostop.wait_for: ", "not a valid value"},
  {"resources:\n  image_id: {}\n",
   "t.yaml:2:13: resources.image_id: ", "is empty"},
  {"resources:\n  labels: [a]\n",
   "t.yaml:2:11: resources.labels: ", "expected a map, got a list"},
  // Alternatives.
  {"resources:\n  any_of: [{infra: aws}]\n  ordered: [{infra: gcp}]\n",
   "t.yaml:3:12: resources.ordered: ", "together with 'any_of'"},
  {"resources:\n  any_of:\n    - infra: aws\n      any_of: []\n",
   "t.yaml:4:15: resources.any_of[0].any_of: ", "cannot be nested"},
  {"resources:\n  any_of:\n    - infra: aws\n    - cpus: lots\n",
   "t.yaml:4:13: resources.any_of[1].cpus: ", "not a number of vCPUs"},
  {"resources:\n  any_of: []\n", "t.yaml:2:11: resources.any_of: ", "is empty"},
  {"resources:\n  ordered: aws\n",
   "t.yaml:2:12: resources.ordered: ", "expected a list"},
  {"resources:\n  any_of:\n    - aws\n",
   "t.yaml:3:7: resources.any_of[0]: ", "expected a map"},
  // Top-level fields.
  {"num_nodes: 0\n", "t.yaml:1:12: num_nodes: ", "out of range"},
  {"num_nodes: two\n", "t.yaml:1:12: num_nodes: ", "not a number"},
  {"name: [a, b]\n", "t.yaml:1:7: name: ", "expected text, got a list"},
  {"run:\n  - echo a\n", "t.yaml:2:3: run: ", "expected text, got a list"},
  {"workdir: {ref: main}\n", "t.yaml:1:10: workdir: ", "has no 'url'"},
  {"workdir: {url: x, branch: main}\n",
   "t.yaml:1:19: workdir.branch: ", "unknown field in workdir"},
  {"envs:\n  1BAD: x\n",
   "t.yaml:2:3: envs.1BAD: ", "not a valid variable name"},
  {"envs:\n  MY-VAR: x\n",
   "t.yaml:2:3: envs.MY-VAR: ", "not a valid variable name"},
  {"envs:\n  A: {b: c}\n", "t.yaml:2:6: envs.A: ", "got a map"},
  {"envs: [A, B]\n", "t.yaml:1:7: envs: ", "expected a map, got a list"},
  {"secrets: [A]\n", "t.yaml:1:10: secrets: ", "as a list"},
  {"envs:\n  A: 1\n  A: 2\n", "t.yaml:3:3: envs.A: ", "appears twice"},
  {"file_mounts:\n  /data:\n",
   "t.yaml:2:3: file_mounts./data: ", "has no source"},
  {"file_mounts:\n  /data: {mode: MOUNT}\n",
   "t.yaml:2:10: file_mounts./data: ", "neither 'name' nor 'source'"},
  {"file_mounts:\n  /data: {source: s3://b, mode: LINK}\n",
   "t.yaml:2:33: file_mounts./data.mode: ", "not a valid value"},
  {"file_mounts:\n  /data: {source: s3://b, sorce: x}\n",
   "t.yaml:2:27: file_mounts./data.sorce: ", "(did you mean 'source'?)"},
  {"config: 3\n", "t.yaml:1:9: config: ", "expected a map"},
  // Service.
  {"service:\n  readiness_probe: health\n",
   "t.yaml:2:20: service.readiness_probe: ", "starting with '/'"},
  {"service:\n  readiness_probe:\n    timeout_seconds: 3\n",
   "t.yaml:3:5: service.readiness_probe: ", "has no 'path'"},
  {"service:\n  readiness_probe: {path: /, initial_delay_seconds: 1.5}\n",
   "t.yaml:2:53: service.readiness_probe.initial_delay_seconds: ",
   "whole number of seconds"},
  {"service:\n  replicas: 2\n  replica_policy: {min_replicas: 1}\n",
   "t.yaml:2:13: service.replicas: ", "together with 'replica_policy'"},
  {"service:\n  replica_policy: {max_replicas: 3}\n",
   "t.yaml:2:19: service.replica_policy: ", "has no 'min_replicas'"},
  {"service:\n  replica_policy: {min_replicas: 3, max_replicas: 2}\n",
   "t.yaml:2:51: service.replica_policy.max_replicas: ",
   "smaller than min_replicas"},
  {"service:\n  replica_policy: {min_replicas: 1, max_replicas: 4}\n",
   "t.yaml:2:51: service.replica_policy.max_replicas: ",
   "no target_qps_per_replica"},
  {"service:\n  replicas: -1\n",
   "t.yaml:2:13: service.replicas: ", "out of range"},
  {"service:\n  load_balancing_policy: least_laod\n",
   "t.yaml:2:26: service.load_balancing_policy: ",
   "(did you mean 'least_load'?)"},
  {"service:\n  ports: 99999\n",
   "t.yaml:2:10: service.ports: ", "out of range"},
  {"service:\n  tls: {keyfile: a, certfile: b}\n",
   "t.yaml:2:3: service.tls: ", "does not support yet"},
  // Documents and syntax.
  {"", "t.yaml:1:1: ", "the file is empty"},
  {"# only a comment\n", "t.yaml:1:1: ", "the file is empty"},
  {"just text\n", "t.yaml:1:1: ", "expected a map of task fields"},
  {"- run: a\n", "t.yaml:1:1: ", "expected a map of task fields, got a list"},
  {"run: a\n---\n---\nrun: b\n", "t.yaml:3:1: ", "document 2 is empty"},
  {"run: [a\n", "t.yaml:2:1: ", "invalid YAML: end of sequence flow not found"},
  {"resources:\n  cpus: 4\n cpus: 5\n", "t.yaml:3:2: ", "invalid YAML"},
  {"run: a\n\tsetup: b\n", "t.yaml:", "invalid YAML"},
  // yaml-cpp 0.7 would loop forever on these (see yaml_precheck.hpp).
  {",", "t.yaml:1:1: ", "invalid YAML: ',' cannot start a value here"},
  {"- a\n,\n", "t.yaml:2:1: ", "invalid YAML: ',' cannot start a value"},
  {"run: x\n---\n, y\n", "t.yaml:3:1: ", "',' cannot start a value"},
  {"a: *nope\n", "t.yaml:1:4: ",
   "invalid YAML: the referenced anchor is not "
   "defined"},
};

} // namespace

TEST_CASE("bad task YAMLs fail with location, field and hint") {
  for (const auto& c : bad_cases) {
    DYNAMIC_SECTION(c.yaml) {
      auto err = parse_error(c.yaml);
      CHECK_THAT(err.message, Catch::StartsWith(c.prefix));
      CHECK_THAT(err.message, Catch::Contains(c.says));
      CHECK(err.code == errc::invalid_argument);
      CHECK_FALSE(err.hint.empty());
    }
  }
}

TEST_CASE("hints say how to fix the value") {
  auto bad_acc = parse_error("resources:\n  accelerators: A100:x\n");
  CHECK_THAT(bad_acc.hint, Catch::Contains("A100:8"));
  auto unknown = parse_error("resources:\n  foo: 1\n");
  CHECK_THAT(unknown.hint, Catch::Contains("valid fields here: infra, cloud"));
  auto misplaced = parse_error("cpus: 4\n");
  CHECK_THAT(misplaced.hint, Catch::Contains("resources:\n  cpus: ..."));
  auto missing = parse_error("envs:\n  A: 1\n  A: 2\n");
  CHECK_THAT(missing.hint, Catch::Contains("keep one"));
}

TEST_CASE("the file name given is the one in messages") {
  auto r = parse_task_yaml("resources:\n  cpus: x\n", "jobs/train.yaml");
  REQUIRE_FALSE(r);
  CHECK_THAT(describe(r.error()).message,
             Catch::StartsWith("jobs/train.yaml:2:9: resources.cpus: "));
}

TEST_CASE("pathological inputs are errors, not crashes") {
  SECTION("deep flow nesting") {
    std::string deep(100000, '[');
    auto err = parse_error("run: " + deep);
    CHECK_THAT(err.message, Catch::StartsWith("t.yaml:"));
  }
  SECTION("deep block nesting inside config") {
    std::string yaml = "config:\n";
    std::string indent = "  ";
    for (int i = 0; i < 40; ++i) {
      yaml += indent + "k" + std::to_string(i) + ":\n";
      indent += "  ";
    }
    yaml += indent + "leaf: 1\n";
    auto err = parse_error(yaml);
    CHECK_THAT(err.message, Catch::Contains("nested more than 32 levels"));
  }
  SECTION("deep block nesting anywhere") {
    std::string yaml = "run: x\nresources:\n";
    std::string indent = "  ";
    for (int i = 0; i < 100; ++i) {
      yaml += indent + "- k:\n";
      indent += "    ";
    }
    auto err = parse_error(yaml);
    CHECK_THAT(err.message, Catch::Contains("nested more than 64 levels"));
  }
  SECTION("alias amplification is bounded") {
    // Each level doubles the nodes a walk visits: 2^40 without a budget.
    std::string yaml = "config:\n  l0: &l0 [x, x]\n";
    for (int i = 1; i <= 40; ++i)
      yaml += "  l" + std::to_string(i) + ": &l" + std::to_string(i) + " [*l"
              + std::to_string(i - 1) + ", *l" + std::to_string(i - 1) + "]\n";
    auto err = parse_error(yaml);
    CHECK_THAT(err.message, Catch::Contains("nested more than")
                              || Catch::Contains("too complex"));
  }
  SECTION("too large") {
    std::string yaml = "run: " + std::string(max_task_yaml_bytes, 'x');
    auto err = parse_error(yaml);
    CHECK_THAT(err.message, Catch::Contains("too large"));
  }
  SECTION("binary garbage") {
    std::string junk{"\x00\xff\xfe{[:\x01\x02", 9};
    auto r = parse_task_yaml(junk, "t.yaml");
    if (!r)
      CHECK_THAT(describe(r.error()).message, Catch::StartsWith("t.yaml:"));
  }
}
