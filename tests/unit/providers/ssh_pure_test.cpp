// Pure parts of the ssh provider: probe output, remote script output,
// host selection, host key messages, shell quoting.

#include <catch2/catch.hpp>

#include "providers/ssh/host_keys.hpp"
#include "providers/ssh/host_probe.hpp"
#include "providers/ssh/host_select.hpp"
#include "providers/ssh/remote_scripts.hpp"
#include "tests/support/process.hpp"

using namespace sky;
using namespace sky::providers;
using namespace sky::providers::ssh;

TEST_CASE("ssh probe: CPUs, memory, home and GPUs parse", "[ssh][probe]") {
  auto r = parse_probe_output("home /home/u\ncpus 16\n"
                              "MemTotal:       65843012 kB\n"
                              "gpu-status 0\ngpus:\n"
                              "NVIDIA A100-SXM4-80GB, 81920 MiB\n"
                              "NVIDIA A100-SXM4-80GB, 81920 MiB\n");
  REQUIRE(r);
  CHECK(r->home == "/home/u");
  CHECK(r->cpus == 16);
  CHECK(r->memory_gib == Approx(62.79).epsilon(0.01));
  CHECK(r->gpus == std::map<std::string, double>{{"A100-80GB", 2}});
  CHECK(r->gpu_problem.empty());
}

TEST_CASE("ssh probe: no nvidia-smi means no GPUs; a broken one is reported",
          "[ssh][probe]") {
  auto none = parse_probe_output(
    "home /root\ncpus 2\nMemTotal: 2048000 kB\ngpu-status 127\n");
  REQUIRE(none);
  CHECK(none->gpus.empty());
  CHECK(none->gpu_problem.empty());
  auto broken = parse_probe_output("home /root\ncpus 2\nMemTotal: 2048000 kB\n"
                                   "gpu-status 9\ngpus:\nNVIDIA-SMI has failed "
                                   "because it couldn't communicate\n");
  REQUIRE(broken);
  CHECK(broken->gpus.empty());
  CHECK_THAT(broken->gpu_problem,
             Catch::Contains("nvidia-smi failed (exit 9)"));
  CHECK_THAT(broken->gpu_problem, Catch::Contains("couldn't communicate"));
}

TEST_CASE("ssh probe: missing facts are errors that say what is missing",
          "[ssh][probe]") {
  auto no_cpu = parse_probe_output("home /r\nMemTotal: 1 kB\n");
  REQUIRE_FALSE(no_cpu);
  CHECK_THAT(describe(no_cpu.error()).message, Catch::Contains("CPUs"));
  auto no_mem = parse_probe_output("home /r\ncpus 4\n");
  REQUIRE_FALSE(no_mem);
  CHECK_THAT(describe(no_mem.error()).message, Catch::Contains("memory"));
  auto bad_cpu = parse_probe_output("home /r\ncpus x\nMemTotal: 1 kB\n");
  REQUIRE_FALSE(bad_cpu);
  auto no_home = parse_probe_output("cpus 4\nMemTotal: 1 kB\n");
  REQUIRE_FALSE(no_home);
  CHECK_THAT(describe(no_home.error()).message, Catch::Contains("home"));
}

TEST_CASE("ssh probe: the real script's output on this machine parses",
          "[ssh][probe]") {
  auto r = sky::testing::run({"bash", "-c", std::string{probe_script()}});
  REQUIRE(r.exit_code == 0);
  auto p = parse_probe_output(r.out);
  REQUIRE(p);
  CHECK(p->cpus >= 1);
  CHECK(p->memory_gib > 0);
}

TEST_CASE("ssh host selection: first fitting free hosts in pool order",
          "[ssh][select]") {
  std::vector<host_view> hosts{
    {"a:22", node_resources{8, 32, {}}, "", "other"},
    {"b:22", node_resources{2, 4, {}}, "", ""},
    {"c:22", std::nullopt, "cannot connect: refused", ""},
    {"d:22", node_resources{8, 32, {{"A100", 8}}}, "", ""},
    {"e:22", node_resources{16, 64, {}}, "", ""},
  };
  auto two = select_hosts("p", hosts, node_resources{4, 8, {}}, 2);
  REQUIRE(two);
  CHECK(*two == std::vector<size_t>{3, 4});
  auto gpu = select_hosts("p", hosts, node_resources{0, 0, {{"a100", 4}}}, 1);
  REQUIRE(gpu);
  CHECK(*gpu == std::vector<size_t>{3});
  auto any = select_hosts("p", hosts, node_resources{}, 3);
  REQUIRE(any);
  CHECK(*any == std::vector<size_t>{1, 3, 4});
  auto too_many = select_hosts("p", hosts, node_resources{4, 8, {}}, 3);
  REQUIRE_FALSE(too_many);
  auto info = describe(too_many.error());
  CHECK(info.code == errc::no_capacity);
  CHECK(scope_of(too_many.error()) == failure_scope::region);
  CHECK_THAT(info.message, Catch::Contains("pool 'p' has 2 usable host(s)"));
  CHECK_THAT(info.message, Catch::Contains("a:22 held by cluster 'other'"));
  CHECK_THAT(info.message, Catch::Contains("b:22 has 2 CPUs, 4 asked"));
  CHECK_THAT(info.message, Catch::Contains("c:22 cannot connect: refused"));
}

TEST_CASE("ssh shortfall names each missing resource", "[ssh][select]") {
  CHECK(shortfall({4, 16, {}}, {4, 16, {}}).empty());
  CHECK(shortfall({4, 16, {}}, {}).empty());
  CHECK(shortfall({4, 16, {{"H100", 1}}}, {8, 32, {{"H100", 2}}})
        == "has 4 CPUs, 8 asked, has 16 GiB of memory, 32 asked, has 1 "
           "H100, 2 asked");
}

TEST_CASE("ssh remote scripts: poll output decides like local",
          "[ssh][remote]") {
  process_handle h{42, 1000, "/n/log", "/n/log.exit"};
  auto running = parse_poll_output("proc S 1000\nexit none\n");
  REQUIRE(running);
  CHECK(decide_status(*running, h)->state == process_state::running);
  auto reused = parse_poll_output("proc S 2000\nexit none\n");
  CHECK(decide_status(*reused, h)->state == process_state::lost);
  auto zombie = parse_poll_output("proc Z 1000\nexit none\n");
  CHECK(decide_status(*zombie, h)->state == process_state::lost);
  auto gone = parse_poll_output("proc none\nexit none\n");
  CHECK(decide_status(*gone, h)->state == process_state::lost);
  auto exited = parse_poll_output("proc none\nexit 143 1700000000123\n");
  auto s = decide_status(*exited, h);
  REQUIRE(s);
  CHECK(s->state == process_state::exited);
  CHECK(s->exit_code == 143);
  CHECK(s->ended_at_ms == 1700000000123);
  auto bad_exit = parse_poll_output("proc none\nexit garbage\n");
  CHECK_FALSE(decide_status(*bad_exit, h));
  CHECK_FALSE(parse_poll_output("Welcome to the host!\n"));
}

TEST_CASE("ssh remote scripts: find output", "[ssh][remote]") {
  CHECK(parse_find_output("none\n")->what == found_process::kind::none);
  CHECK(parse_find_output("ended\n")->what == found_process::kind::ended);
  CHECK(parse_find_output("launched\n")->what == found_process::kind::launched);
  auto s = parse_find_output("started 77 12345\n");
  REQUIRE(s);
  CHECK(s->what == found_process::kind::started);
  CHECK(s->pid == 77);
  CHECK(s->start_ticks == 12345);
  CHECK_FALSE(parse_find_output("started x y\n"));
}

TEST_CASE("ssh remote scripts: quoting survives bash", "[ssh][remote]") {
  std::string nasty = "it's $HOME `id` \"q\" \\ \n new line";
  auto cmd = bash_command("printf '%s' \"$1\"", {nasty});
  auto r = sky::testing::run({"sh", "-c", cmd});
  REQUIRE(r.exit_code == 0);
  CHECK(r.out == nasty);
}

TEST_CASE("ssh remote scripts: env names must be shell names",
          "[ssh][remote]") {
  auto ok = script_with_env({{"A_1", "x y'z"}}, "/n/0", "echo hi");
  REQUIRE(ok);
  CHECK(*ok
        == "export A_1='x y'\\''z'\nexport SKYD_NODE_HOME='/n/0'\necho hi\n");
  auto bad = script_with_env({{"1A", "x"}}, "/n/0", "true");
  REQUIRE_FALSE(bad);
  CHECK_THAT(describe(bad.error()).message, Catch::Contains("'1A'"));
}

TEST_CASE("ssh host keys: policy names, known_hosts names, changed-key text",
          "[ssh][hostkey]") {
  CHECK(*parse_host_key_policy("strict") == host_key_policy::strict);
  CHECK(*parse_host_key_policy("accept-new") == host_key_policy::accept_new);
  CHECK_FALSE(parse_host_key_policy("yes"));
  CHECK(known_hosts_name("10.0.0.1", 22) == "10.0.0.1");
  CHECK(known_hosts_name("10.0.0.1", 2222) == "[10.0.0.1]:2222");
  auto info = describe(changed_key_error(
    "u@h:2222", "[h]:2222", "ssh-ed25519 SHA256:abc", "/s/ssh/known_hosts"));
  CHECK(info.code == errc::auth);
  CHECK_THAT(info.message, Catch::Contains("HOST KEY CHANGED for u@h:2222"));
  CHECK_THAT(info.message, Catch::Contains("SHA256:abc"));
  CHECK_THAT(info.message, Catch::Contains("/s/ssh/known_hosts"));
  CHECK_THAT(info.hint,
             Catch::Contains("ssh-keygen -R '[h]:2222' -f /s/ssh/known_hosts"));
}
