// From launch/exec arguments to the tasks sent to skyd: YAML or command,
// flags, absolute local paths, required variables.

#include <catch2/catch.hpp>

#include <fstream>
#include <map>

#include "skyctl/task_input.hpp"
#include "tests/support/test_support.hpp"

using namespace sky;
using namespace sky::cli;
namespace fs = std::filesystem;

namespace {

// A directory holding code/ and data.txt, used as the current directory.
struct workspace {
  testing::temp_dir dir{"skyctl-ti"};
  workspace() {
    fs::create_directories(dir.path() / "code");
    std::ofstream{dir.path() / "data.txt"} << "x";
  }
  local_context local(std::map<std::string, std::string> env = {}) const {
    local_context l;
    l.cwd = dir.path();
    l.home = dir.path() / "home";
    l.lookup = [env](std::string_view name) -> std::optional<std::string> {
      auto it = env.find(std::string{name});
      if (it == env.end())
        return std::nullopt;
      return it->second;
    };
    return l;
  }
  fs::path write(const std::string& name, const std::string& yaml) const {
    auto p = dir.path() / name;
    std::ofstream{p} << yaml;
    return p;
  }
};

error_info error_of(const caf::error& err) {
  return describe(err);
}

} // namespace

TEST_CASE("positionals are a YAML, a command, or nothing") {
  SECTION("a single .yaml or .yml argument is a task YAML") {
    for (std::string arg : {"task.yaml", "dir/t.YML", "./x.yml"}) {
      auto e = classify_entrypoint({arg}, 0);
      REQUIRE(e);
      REQUIRE(e->yaml);
      CHECK(e->yaml->string() == arg);
      CHECK(e->command.empty());
    }
  }
  SECTION("other words are a command, joined with spaces") {
    auto e = classify_entrypoint({"python", "train.py", "--lr", "1"}, 0);
    REQUIRE(e);
    CHECK_FALSE(e->yaml);
    CHECK(e->command_line() == "python train.py --lr 1");
    auto quoted = classify_entrypoint({"echo hi"}, 0);
    REQUIRE(quoted);
    CHECK(quoted->command_line() == "echo hi");
  }
  SECTION("after -- everything is a command, even a .yaml name") {
    auto e = classify_entrypoint({"cat", "task.yaml"}, 2);
    REQUIRE(e);
    CHECK_FALSE(e->yaml);
    CHECK(e->command_line() == "cat task.yaml");
  }
  SECTION("a YAML and a command together are refused") {
    auto e = classify_entrypoint({"task.yaml", "echo", "hi"}, 2);
    REQUIRE_FALSE(e);
    CHECK(error_of(e.error()).code == errc::invalid_argument);
    CHECK(error_of(e.error()).message.find("'task.yaml'") != std::string::npos);
  }
  SECTION("nothing is an empty entrypoint") {
    auto e = classify_entrypoint({}, 0);
    REQUIRE(e);
    CHECK(e->empty());
  }
}

TEST_CASE("a command becomes a one-task pipeline whose run is the line") {
  workspace ws;
  entrypoint e;
  e.command = {"echo", "hello", "world"};
  task::task_overrides flags;
  flags.gpus = "A100:8";
  flags.env_file = std::nullopt;
  flags.envs = {"A=1", "FROM_ENV"};
  flags.name = "hello";
  auto p = build_pipeline(e, flags, ws.local({{"FROM_ENV", "yes"}}));
  REQUIRE(p);
  REQUIRE(p->tasks.size() == 1);
  const auto& t = p->tasks.front();
  CHECK(t.run == "echo hello world");
  CHECK(t.name == "hello");
  REQUIRE(t.resources.accelerators.size() == 1);
  CHECK(t.resources.accelerators.front().name == "A100");
  CHECK(t.resources.accelerators.front().count == 8);
  REQUIRE(t.envs.size() == 2);
  CHECK(t.envs[0].value == "1");
  CHECK(t.envs[1].value == "yes");
}

TEST_CASE("no entrypoint launches a task without run (provisioning only)") {
  workspace ws;
  auto p = build_pipeline(entrypoint{}, {}, ws.local());
  REQUIRE(p);
  REQUIRE(p->tasks.size() == 1);
  CHECK_FALSE(p->tasks.front().run);
}

TEST_CASE("relative workdir and mount sources resolve from the current "
          "directory, ~ from HOME, URLs stay") {
  workspace ws;
  fs::create_directories(ws.dir.path() / "home" / "models");
  auto yaml = ws.write("t.yaml", R"(workdir: ./code/
file_mounts:
  /remote/data.txt: data.txt
  /remote/models: ~/models
  /remote/bucket: s3://bucket/path
  /remote/later: ${DIR}/x
run: ls
)");
  entrypoint e;
  e.yaml = yaml;
  auto p = build_pipeline(e, {}, ws.local());
  REQUIRE(p);
  const auto& t = p->tasks.front();
  REQUIRE(t.workdir);
  CHECK(t.workdir->path == (ws.dir.path() / "code").string());
  REQUIRE(t.file_mounts.size() == 4);
  CHECK(t.file_mounts[0].source == (ws.dir.path() / "data.txt").string());
  CHECK(t.file_mounts[1].source
        == (ws.dir.path() / "home" / "models").string());
  CHECK(t.file_mounts[2].source == "s3://bucket/path");
  // Not checked for existence: skyd substitutes the variable.
  CHECK(t.file_mounts[3].source == "${DIR}/x");
}

TEST_CASE("a --workdir flag resolves like the YAML's workdir and is checked") {
  workspace ws;
  entrypoint e;
  e.command = {"ls"};
  task::task_overrides flags;
  flags.workdir = "code";
  auto p = build_pipeline(e, flags, ws.local());
  REQUIRE(p);
  CHECK(p->tasks.front().workdir->path == (ws.dir.path() / "code").string());

  flags.workdir = "missing";
  auto bad = build_pipeline(e, flags, ws.local());
  REQUIRE_FALSE(bad);
  auto info = error_of(bad.error());
  CHECK(info.code == errc::invalid_argument);
  CHECK(info.message
        == "--workdir: " + (ws.dir.path() / "missing").string()
             + " does not exist");

  flags.workdir = "data.txt";
  auto file = build_pipeline(e, flags, ws.local());
  REQUIRE_FALSE(file);
  CHECK(error_of(file.error()).message.find("is not a directory")
        != std::string::npos);
}

TEST_CASE("a missing local mount source is refused naming the mount") {
  workspace ws;
  auto yaml
    = ws.write("t.yaml", "file_mounts:\n  /remote/x: ./nope\nrun: ls\n");
  entrypoint e;
  e.yaml = yaml;
  auto p = build_pipeline(e, {}, ws.local());
  REQUIRE_FALSE(p);
  auto info = error_of(p.error());
  CHECK(info.message.find("file_mounts./remote/x: ") != std::string::npos);
  CHECK(info.message.find((ws.dir.path() / "nope").string()
                          + " does not exist locally")
        != std::string::npos);
}

TEST_CASE("input errors are invalid_argument with the parser's position") {
  workspace ws;
  SECTION("a missing YAML") {
    entrypoint e;
    e.yaml = ws.dir.path() / "absent.yaml";
    auto p = build_pipeline(e, {}, ws.local());
    REQUIRE_FALSE(p);
    CHECK(error_of(p.error()).code == errc::invalid_argument);
    CHECK(error_of(p.error()).message.find("absent.yaml") != std::string::npos);
  }
  SECTION("a malformed YAML keeps file:line:col") {
    entrypoint e;
    e.yaml = ws.write("bad.yaml", "run: ls\nresources:\n  cpus: lots\n");
    auto p = build_pipeline(e, {}, ws.local());
    REQUIRE_FALSE(p);
    auto info = error_of(p.error());
    CHECK(info.code == errc::invalid_argument);
    CHECK(info.message.find("bad.yaml:3:") != std::string::npos);
    CHECK_FALSE(info.hint.empty());
  }
  SECTION("a bad flag names the flag") {
    entrypoint e;
    e.command = {"ls"};
    task::task_overrides flags;
    flags.cpus = "many";
    auto p = build_pipeline(e, flags, ws.local());
    REQUIRE_FALSE(p);
    CHECK(error_of(p.error()).message.rfind("--cpus", 0) == 0);
  }
  SECTION("required variables must be given") {
    entrypoint e;
    e.yaml = ws.write("req.yaml", "envs:\n  TOKEN:\nrun: ls\n");
    auto p = build_pipeline(e, {}, ws.local());
    REQUIRE_FALSE(p);
    CHECK(error_of(p.error()).message.find("TOKEN") != std::string::npos);
    task::task_overrides flags;
    flags.envs = {"TOKEN=x"};
    CHECK(build_pipeline(e, flags, ws.local()));
  }
}

TEST_CASE("flags apply to every task of a pipeline where they can") {
  workspace ws;
  entrypoint e;
  e.yaml = ws.write("chain.yaml", R"(name: chain
---
name: a
run: echo a
---
name: b
run: echo b
)");
  task::task_overrides flags;
  flags.envs = {"X=1"};
  auto p = build_pipeline(e, flags, ws.local());
  REQUIRE(p);
  REQUIRE(p->tasks.size() == 2);
  for (const auto& t : p->tasks) {
    REQUIRE(t.envs.size() == 1);
    CHECK(t.envs.front().value == "1");
  }
  flags.gpus = "A100";
  auto refused = build_pipeline(e, flags, ws.local());
  REQUIRE_FALSE(refused);
  CHECK(error_of(refused.error()).code == errc::invalid_argument);
}

TEST_CASE("exec takes exactly one task") {
  workspace ws;
  SECTION("a pipeline is refused naming the file") {
    entrypoint e;
    e.yaml = ws.write("two.yaml", "run: a\n---\nrun: b\n");
    auto t = build_exec_task(e, {}, ws.local());
    REQUIRE_FALSE(t);
    auto info = error_of(t.error());
    CHECK(info.message.find("two.yaml holds a pipeline of 2 tasks")
          != std::string::npos);
  }
  SECTION("nothing is refused") {
    auto t = build_exec_task(entrypoint{}, {}, ws.local());
    REQUIRE_FALSE(t);
    CHECK(error_of(t.error()).code == errc::invalid_argument);
  }
  SECTION("a command with flags") {
    entrypoint e;
    e.command = {"nvidia-smi"};
    task::task_overrides flags;
    flags.num_nodes = "2";
    flags.secrets = {"HF=abc"};
    auto t = build_exec_task(e, flags, ws.local());
    REQUIRE(t);
    CHECK(t->run == "nvidia-smi");
    CHECK(t->num_nodes == 2);
    REQUIRE(t->secrets.size() == 1);
    CHECK(t->secrets.front().value == "abc");
  }
}
