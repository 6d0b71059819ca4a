// CLI overrides, --env-file (dotenv), required variables and redaction.

#include "task_test_util.hpp"

#include <fstream>
#include <map>

#include "messages/task/overrides.hpp"
#include "messages/task/redact.hpp"
#include "tests/support/test_support.hpp"

using namespace sky;
using namespace sky::task;
using sky::task::testing::parse_ok;
using sky::task::testing::parse_one;

namespace {

env_lookup fake_env(std::map<std::string, std::string> vars) {
  return [vars = std::move(vars)](
           std::string_view name) -> std::optional<std::string> {
    auto it = vars.find(std::string{name});
    if (it == vars.end())
      return std::nullopt;
    return it->second;
  };
}

error_info apply_error(task_spec& t, const task_overrides& f,
                       const env_lookup& env = fake_env({})) {
  auto r = apply_overrides(t, f, env);
  if (r) {
    FAIL_CHECK("expected apply_overrides to fail");
    return {};
  }
  return describe(r.error());
}

const char* base_yaml = R"(name: base
num_nodes: 1
resources:
  infra: aws/us-east-1/us-east-1a
  accelerators: A100:8
  cpus: 8
  use_spot: false
  any_of:
    - infra: gcp/us-central1
      accelerators: H100:8
    - disk_size: 100
envs:
  A: from-yaml
  REQUIRED:
secrets:
  TOKEN:
run: x
)";

} // namespace

TEST_CASE("resource flags parse like the YAML and win everywhere") {
  auto t = parse_one(base_yaml);
  task_overrides f;
  f.gpus = "V100:4";
  f.cpus = "16+";
  f.memory = "64GB+";
  f.instance_type = "p3.8xlarge";
  f.use_spot = true;
  f.disk_size = "1TB";
  f.image_id = "docker:ubuntu";
  f.ports = {"8080", "9000-9010,7000"};
  f.num_nodes = "3";
  f.workdir = "./src";
  f.name = "renamed";
  REQUIRE(apply_overrides(t, f, fake_env({})));
  const auto& r = t.resources;
  accelerator_spec v100;
  v100.name = "V100";
  v100.count = 4;
  CHECK(r.accelerators == std::vector<accelerator_spec>{v100});
  CHECK(r.accelerator_order == choice_order::single);
  CHECK(r.cpus == cpus_spec{16, true});
  CHECK(r.memory == memory_spec{64, memory_spec::kind::at_least});
  CHECK(r.instance_type == std::string{"p3.8xlarge"});
  CHECK(r.use_spot == true);
  CHECK(r.disk_size_gb == 1024);
  CHECK(r.image_id == std::string{"docker:ubuntu"});
  CHECK(r.ports
        == std::vector<port_range>{{8080, 8080}, {9000, 9010}, {7000, 7000}});
  CHECK(t.num_nodes == 3);
  CHECK(t.workdir == workdir_spec{"./src", "", ""});
  CHECK(t.name == std::string{"renamed"});
  // The alternative that set accelerators gets the flag's; the one that did
  // not keeps inheriting from the parent.
  CHECK(r.any_of[0].accelerators == std::vector<accelerator_spec>{v100});
  CHECK(r.any_of[1].accelerators.empty());
  CHECK(r.any_of[1].disk_size_gb == 1024);
  CHECK_FALSE(r.any_of[0].disk_size_gb);
  // Untouched fields stay as the YAML said.
  CHECK(r.any_of[0].infra == infra_spec{"gcp", "us-central1", ""});
}

TEST_CASE("the gpus flag takes sets and lists") {
  auto t = parse_one("run: x\n");
  task_overrides f;
  f.gpus = "{A100:1,L4:2}";
  REQUIRE(apply_overrides(t, f, fake_env({})));
  CHECK(t.resources.accelerator_order == choice_order::any);
  REQUIRE(t.resources.accelerators.size() == 2);
  CHECK(t.resources.accelerators[1].name == "L4");
  CHECK(t.resources.accelerators[1].count == 2);
  f.gpus = "[H100:8, A100:8]";
  REQUIRE(apply_overrides(t, f, fake_env({})));
  CHECK(t.resources.accelerator_order == choice_order::ordered);
  CHECK(t.resources.accelerators[0].name == "H100");
}

TEST_CASE("placement flags") {
  SECTION("--infra replaces infra") {
    auto t = parse_one(base_yaml);
    task_overrides f;
    f.infra = "k8s/ctx";
    REQUIRE(apply_overrides(t, f, fake_env({})));
    CHECK(t.resources.infra == infra_spec{"k8s", "ctx", ""});
    CHECK(t.resources.any_of[0].infra == infra_spec{"k8s", "ctx", ""});
    CHECK_FALSE(t.resources.any_of[1].infra);
  }
  SECTION("--region keeps the cloud, --cloud resets region and zone") {
    auto t = parse_one(base_yaml);
    task_overrides f;
    f.region = "us-west-2";
    REQUIRE(apply_overrides(t, f, fake_env({})));
    CHECK(t.resources.infra == infra_spec{"aws", "us-west-2", "us-east-1a"});
    task_overrides g;
    g.cloud = "GCP";
    g.zone = "us-central1-b";
    REQUIRE(apply_overrides(t, g, fake_env({})));
    CHECK(t.resources.infra == infra_spec{"gcp", "", "us-central1-b"});
  }
  SECTION("--cloud on a task without infra") {
    auto t = parse_one("run: x\n");
    task_overrides f;
    f.cloud = "kubernetes";
    REQUIRE(apply_overrides(t, f, fake_env({})));
    CHECK(t.resources.infra == infra_spec{"k8s", "", ""});
  }
  SECTION("--infra with --cloud is refused") {
    auto t = parse_one(base_yaml);
    task_overrides f;
    f.infra = "aws";
    f.cloud = "gcp";
    auto err = apply_error(t, f);
    CHECK(err.message == "--cloud: cannot be combined with --infra");
  }
}

TEST_CASE("bad flag values name the flag and leave the task unchanged") {
  struct row {
    void (*set)(task_overrides&);
    const char* message;
  };
  const row rows[] = {
    {[](task_overrides& f) { f.gpus = "A100:x"; },
     "--gpus: count 'x' in 'A100:x' is not a positive number"},
    {[](task_overrides& f) { f.cpus = "many"; },
     "--cpus: 'many' is not a number of vCPUs"},
    {[](task_overrides& f) { f.memory = "lots"; },
     "--memory: 'lots' is not a memory size"},
    {[](task_overrides& f) {
       f.ports = {"8080", "70000"};
     },
     "--ports: port '70000' is out of range"},
    {[](task_overrides& f) { f.num_nodes = "0"; },
     "--num-nodes: '0' is out of range"},
    {[](task_overrides& f) { f.disk_size = "big"; },
     "--disk-size: 'big' is not a disk size"},
    {[](task_overrides& f) { f.infra = "aws/us-east-1/a/b"; },
     "--infra: 'aws/us-east-1/a/b' has too many parts for 'aws' (at most 3)"},
    {[](task_overrides& f) { f.cloud = "amazon"; },
     "--cloud: unknown provider 'amazon'"},
    {[](task_overrides& f) { f.instance_type = ""; },
     "--instance-type: is empty"},
    {[](task_overrides& f) { f.envs = {"1X=2"}; },
     "--env: '1X' is not a valid variable name"},
    {[](task_overrides& f) { f.name = ""; }, "--name: is empty"},
  };
  for (const auto& r : rows) {
    DYNAMIC_SECTION(r.message) {
      auto t = parse_one(base_yaml);
      const auto before = t;
      task_overrides f;
      f.name = "would-rename";
      f.gpus = "T4"; // applied before the bad flag fails
      r.set(f);
      auto err = apply_error(t, f);
      CHECK(err.message == r.message);
      CHECK_FALSE(err.hint.empty());
      CHECK(t == before);
    }
  }
}

TEST_CASE("env and secret flags set, add, and read the environment") {
  auto t = parse_one(base_yaml);
  task_overrides f;
  f.envs = {"A=override", "NEW=1", "FROM_SHELL", "REQUIRED=x=y"};
  f.secrets = {"TOKEN"};
  REQUIRE(apply_overrides(
    t, f, fake_env({{"FROM_SHELL", "shell-value"}, {"TOKEN", "s3cret"}})));
  const std::vector<variable_spec> envs{{"A", "override"},
                                        {"REQUIRED", "x=y"},
                                        {"NEW", "1"},
                                        {"FROM_SHELL", "shell-value"}};
  CHECK(t.envs == envs);
  CHECK(t.secrets == std::vector<variable_spec>{{"TOKEN", "s3cret"}});

  task_overrides missing;
  missing.envs = {"NOT_SET"};
  auto err = apply_error(t, missing);
  CHECK(err.message
        == "--env: NOT_SET has no value and is not set in your environment");
  CHECK(err.hint == "write --env NOT_SET=VALUE, or export NOT_SET first");
}

TEST_CASE("the env-file flag is read first and env flags win") {
  sky::testing::temp_dir dir;
  const auto path = (dir.path() / "vars.env").string();
  {
    std::ofstream out{path};
    out << "# comment\nA=from-file\nexport B='single quoted # not comment'\n"
           "C=\"multi\nline\\tvalue\"\n";
  }
  auto t = parse_one("envs:\n  A: yaml\nrun: x\n");
  task_overrides f;
  f.env_file = path;
  f.envs = {"B=from-flag"};
  REQUIRE(apply_overrides(t, f, fake_env({})));
  const std::vector<variable_spec> envs{
    {"A", "from-file"}, {"B", "from-flag"}, {"C", "multi\nline\tvalue"}};
  CHECK(t.envs == envs);

  f.env_file = (dir.path() / "missing.env").string();
  auto err = apply_error(t, f);
  CHECK_THAT(err.message, Catch::StartsWith("--env-file: "));
  CHECK_THAT(err.message, Catch::Contains("missing.env: cannot be read"));
}

TEST_CASE("dotenv format") {
  auto vars = parse_dotenv("\n# c\n  KEY = value with spaces  # trailing\n"
                           "EMPTY=\nURL=http://x/#frag\nexport  E=1\r\n"
                           "KEY=again\nQ=\"a \\\"b\\\" \\\\\"  # after\n",
                           ".env");
  REQUIRE(vars);
  const std::vector<variable_spec> want{{"KEY", "again"},
                                        {"EMPTY", ""},
                                        {"URL", "http://x/#frag"},
                                        {"E", "1"},
                                        {"Q", "a \"b\" \\"}};
  CHECK(*vars == want);
  struct bad {
    const char* text;
    const char* message;
  };
  const bad bads[] = {
    {"A=1\nnot an assignment\n", ".env:2: expected NAME=VALUE"},
    {"A=1\n9X=2\n", ".env:2: '9X' is not a valid name"},
    {"A=\"open\n", ".env:1: the value has no closing \""},
    {"A='x' trailing\n", ".env:1: unexpected text after the closing quote"},
  };
  for (const auto& b : bads) {
    auto r = parse_dotenv(b.text, ".env");
    REQUIRE_FALSE(r);
    CHECK(describe(r.error()).message == b.message);
  }
}

TEST_CASE("required variables are listed all at once") {
  auto t = parse_one("name: job\nenvs:\n  A:\n  B: set\n  C:\nsecrets:\n  "
                     "S:\nrun: x\n");
  auto r = check_required_variables(t);
  REQUIRE_FALSE(r);
  auto info = describe(r.error());
  CHECK(info.message
        == "t.yaml:1:1: task 'job' needs values for envs A, C and secrets S "
           "(declared without a value)");
  CHECK(info.hint == "pass --env A=VALUE --env C=VALUE --secret S=VALUE");
  task_overrides f;
  f.envs = {"A=1", "C=2"};
  f.secrets = {"S=3"};
  REQUIRE(apply_overrides(t, f, fake_env({})));
  CHECK(check_required_variables(t));
}

TEST_CASE("pipelines: names, envs for every task, no resource flags") {
  auto p = parse_ok("name: chain\n---\nenvs: {X: }\nrun: a\n---\nrun: b\n");
  auto missing = check_required_variables(p);
  REQUIRE_FALSE(missing);
  CHECK_THAT(describe(missing.error()).message,
             Catch::Contains("pipeline 'chain' needs values for envs X"));
  task_overrides f;
  f.name = "renamed";
  f.envs = {"X=1"};
  REQUIRE(apply_overrides(p, f, fake_env({})));
  CHECK(p.name == std::string{"renamed"});
  CHECK_FALSE(p.tasks[0].name);
  CHECK(p.tasks[0].envs == std::vector<variable_spec>{{"X", "1"}});
  CHECK(p.tasks[1].envs == std::vector<variable_spec>{{"X", "1"}});
  CHECK(check_required_variables(p));
  task_overrides gpus;
  gpus.gpus = "A100";
  auto err = apply_overrides(p, gpus, fake_env({}));
  REQUIRE_FALSE(err);
  CHECK_THAT(describe(err.error()).message,
             Catch::Contains("cannot override a pipeline of 2 tasks"));

  auto single = parse_ok("name: one\nrun: x\n");
  task_overrides g;
  g.name = "two";
  g.cpus = "2";
  REQUIRE(apply_overrides(single, g, fake_env({})));
  CHECK(single.name == std::string{"two"});
  CHECK(single.tasks[0].name == std::string{"two"});
  CHECK(single.tasks[0].resources.cpus == cpus_spec{2, false});
}

TEST_CASE("redaction hides secret values only") {
  auto t = parse_one("envs:\n  PUBLIC: p\nsecrets:\n  TOKEN: t0k3n\n  "
                     "LATER:\nrun: x\n");
  auto r = redact_secrets(t);
  CHECK(r.envs == t.envs);
  CHECK(r.secrets
        == std::vector<variable_spec>{{"TOKEN", "<redacted>"},
                                      {"LATER", std::nullopt}});
  CHECK(t.secrets[0].value == std::string{"t0k3n"}); // the input is a copy
  pipeline_spec p;
  p.tasks = {t, t};
  auto rp = redact_secrets(p);
  CHECK(rp.tasks[1].secrets[0].value == std::string{"<redacted>"});
}

TEST_CASE("the process environment lookup reads real variables") {
  ::setenv("SKY_TASK_TEST_VAR", "v", 1);
  CHECK(process_env("SKY_TASK_TEST_VAR") == std::string{"v"});
  ::unsetenv("SKY_TASK_TEST_VAR");
  CHECK_FALSE(process_env("SKY_TASK_TEST_VAR"));
}
