#include <catch2/catch.hpp>

#include <filesystem>
#include <fstream>
#include <sys/stat.h>

#include "providers/common/capacity.hpp"
#include "providers/common/host_resources.hpp"
#include "providers/local/local_provider.hpp"
#include "providers/common/proc_stat.hpp"
#include "tests/support/test_support.hpp"
#include "tests/unit/providers/local_test_util.hpp"

using namespace sky;
using namespace sky::providers;
using namespace sky::providers::local_detail;
using sky::providers::testing::code_of;
using sky::providers::testing::message_of;

namespace {

// 52 fields as in /proc/PID/stat; field 22 (start time) is 98765.
std::string stat_line(const std::string& comm) {
  return "4242 (" + comm
         + ") S 1 4242 4242 0 -1 4194560 100 0 0 0 1 2 0 0 20 0 1 0 98765 "
           "1000000 200 18446744073709551615 1 1 0 0 0 0 0 0 0 0 0 0 17 1 0 "
           "0 0 0 0 0 0 0 0 0 0 0 0\n";
}

std::filesystem::path write_script(const std::filesystem::path& p,
                                   const std::string& body) {
  std::ofstream{p} << "#!/bin/sh\n" << body;
  ::chmod(p.c_str(), 0755);
  return p;
}

} // namespace

TEST_CASE("proc stat: fields after a command name with spaces and parens") {
  for (std::string comm : {"bash", "my prog", "a) b (c", ") S 9 9 9 (", ""}) {
    auto st = parse_proc_stat(stat_line(comm));
    INFO(comm);
    REQUIRE(st);
    CHECK(st->pid == 4242);
    CHECK(st->state == 'S');
    CHECK(st->ppid == 1);
    CHECK(st->pgrp == 4242);
    CHECK(st->session == 4242);
    CHECK(st->start_ticks == 98765);
  }
}

TEST_CASE("proc stat: truncated or garbled text is refused") {
  CHECK_FALSE(parse_proc_stat(""));
  CHECK_FALSE(parse_proc_stat("12 (x) S 1 2 3"));
  CHECK_FALSE(parse_proc_stat("abc (x) S 1 2 3 0 -1 0 0 0 0 0 0 0 0 0 0 0 0 "
                              "0 0 55 0"));
  auto zombie = parse_proc_stat("7 (z) Z 1 7 7 0 -1 0 0 0 0 0 0 0 0 0 20 0 1 "
                                "0 55 0 0");
  REQUIRE(zombie);
  CHECK(zombie->is_dead());
  CHECK(zombie->start_ticks == 55);
}

TEST_CASE("proc stat: this process reads as itself") {
  auto st = read_proc_stat(::getpid());
  REQUIRE(st);
  CHECK(st->pid == ::getpid());
  CHECK(st->ppid == ::getppid());
  CHECK(st->start_ticks > 0);
  CHECK_FALSE(read_proc_stat(0));
}

TEST_CASE("nvidia-smi: sample output is parsed and names made canonical") {
  auto devs = parse_nvidia_smi("NVIDIA A100-SXM4-80GB, 81920 MiB\n"
                               "NVIDIA A100-SXM4-40GB, 40960 MiB\n"
                               "Tesla V100-SXM2-32GB, 32768 MiB\n"
                               "Tesla T4, 15360 MiB\n"
                               "NVIDIA H100 80GB HBM3, 81559 MiB\n"
                               "NVIDIA H100 NVL, 95830 MiB\n"
                               "NVIDIA GeForce RTX 4090, 24564 MiB\n"
                               "NVIDIA RTX A6000, 49140 MiB\n"
                               "NVIDIA RTX 6000 Ada Generation, 49140 MiB\n"
                               "NVIDIA L4, 23034 MiB\n"
                               "NVIDIA A10G, [N/A]\n"
                               "\n");
  REQUIRE(devs);
  std::vector<std::string> names;
  for (const auto& d : *devs)
    names.push_back(d.name);
  CHECK(names
        == std::vector<std::string>{"A100-80GB", "A100", "V100-32GB", "T4",
                                    "H100", "H100-NVL", "RTX4090", "RTXA6000",
                                    "RTX6000-Ada", "L4", "A10G"});
  CHECK((*devs)[0].model == "NVIDIA A100-SXM4-80GB");
  CHECK((*devs)[0].memory_gib == Approx(80.0));
  CHECK((*devs)[10].memory_gib == 0);
}

TEST_CASE("nvidia-smi: malformed lines are errors naming the line") {
  auto r = parse_nvidia_smi("NVIDIA L4, 23034 MiB\nno comma here\n");
  REQUIRE_FALSE(r);
  CHECK(code_of(r.error()) == errc::invalid_argument);
  CHECK_THAT(message_of(r.error()), Catch::Contains("line 2"));
  auto unit = parse_nvidia_smi("NVIDIA L4, 23 parsecs\n");
  REQUIRE_FALSE(unit);
  CHECK_THAT(message_of(unit.error()), Catch::Contains("parsecs"));
  auto empty = parse_nvidia_smi("");
  REQUIRE(empty);
  CHECK(empty->empty());
}

TEST_CASE("nvidia-smi: detection runs the command, absent means no GPUs") {
  sky::testing::temp_dir tmp{"skyloc"};
  auto fake = write_script(tmp.path() / "nvidia-smi",
                           "echo 'NVIDIA A100-SXM4-80GB, 81920 MiB'\n"
                           "echo 'NVIDIA A100-SXM4-80GB, 81920 MiB'\n"
                           "echo 'NVIDIA L4, 23034 MiB'\n");
  auto devs = detect_nvidia_gpus(fake.string());
  REQUIRE(devs);
  REQUIRE(devs->size() == 3);
  CHECK((*devs)[2].name == "L4");

  auto absent = detect_nvidia_gpus((tmp.path() / "missing").string());
  REQUIRE(absent);
  CHECK(absent->empty());

  auto broken = write_script(tmp.path() / "broken", "exit 9\n");
  auto err = detect_nvidia_gpus(broken.string());
  REQUIRE_FALSE(err);
  CHECK_THAT(message_of(err.error()), Catch::Contains("code 9"));

  auto hung = write_script(tmp.path() / "hung", "exec sleep 30\n");
  auto slow = detect_nvidia_gpus(hung.string(), std::chrono::milliseconds(200));
  REQUIRE_FALSE(slow);
  CHECK(code_of(slow.error()) == errc::timeout);
}

TEST_CASE("host: detected capacity with GPUs from nvidia-smi, overridable") {
  sky::testing::temp_dir tmp{"skyloc"};
  auto fake = write_script(tmp.path() / "nvidia-smi",
                           "echo 'NVIDIA A100-SXM4-80GB, 81920 MiB'\n"
                           "echo 'NVIDIA A100-SXM4-80GB, 81920 MiB'\n");
  local_settings s;
  s.root = tmp.path() / "nodes";
  s.nvidia_smi = fake.string();
  auto host = detect_host_resources(s);
  REQUIRE(host);
  CHECK(host->cpus == host_cpu_count());
  CHECK(host->cpus >= 1);
  CHECK(host->memory_gib > 0.1);
  CHECK(host->gpus == std::map<std::string, double>{{"A100-80GB", 2}});
  CHECK(host->gpu_devices.size() == 2);

  s.cpus = 64;
  s.memory_gib = 512;
  s.gpus = std::map<std::string, double>{{"H100", 8}};
  host = detect_host_resources(s);
  REQUIRE(host);
  CHECK(host->cpus == 64);
  CHECK(host->memory_gib == 512);
  CHECK(host->gpus == std::map<std::string, double>{{"H100", 8}});
  CHECK(host->gpu_devices.empty());

  s.cpus = -1;
  CHECK_FALSE(detect_host_resources(s));

  // A broken driver: no GPUs, and the reason is kept for the user.
  s.cpus.reset();
  s.gpus.reset();
  s.nvidia_smi = write_script(tmp.path() / "broken", "exit 9\n").string();
  host = detect_host_resources(s);
  REQUIRE(host);
  CHECK(host->gpus.empty());
  CHECK_THAT(host->gpu_detection_problem, Catch::Contains("code 9"));
  s.nvidia_smi = (tmp.path() / "absent").string();
  host = detect_host_resources(s);
  REQUIRE(host);
  CHECK(host->gpus.empty());
  CHECK(host->gpu_detection_problem.empty());
}

TEST_CASE("meminfo: MemTotal in GiB") {
  auto gib = parse_meminfo_total_gib("MemFree:  100 kB\n"
                                     "MemTotal:       16777216 kB\n");
  REQUIRE(gib);
  CHECK(*gib == Approx(16.0));
  CHECK_FALSE(parse_meminfo_total_gib("MemFree: 1 kB\n"));
  CHECK(host_memory_gib() > 0);
}

TEST_CASE("capacity: reservations add up and refusals give the numbers") {
  node_resources host{4, 16, {{"A100", 2}}};
  std::vector<reservation> held{{"a", 1, {1, 0, {}}}};
  auto r = check_fits(host, held, {8, 0, {}}, 2);
  REQUIRE_FALSE(r);
  CHECK(code_of(r.error()) == errc::no_capacity);
  CHECK(scope_of(r.error()) == failure_scope::cloud);
  CHECK(message_of(r.error())
        == "local: needs 8 vCPUs per node x 2 nodes, 3 of 4 free (1 "
           "reserved by cluster 'a')");

  held.push_back({"b", 2, {1, 4, {{"A100", 0.5}}}});
  CHECK(check_fits(host, held, {1, 8, {}}, 1));
  auto mem = check_fits(host, held, {0, 9, {}}, 1);
  REQUIRE_FALSE(mem);
  CHECK(message_of(mem.error())
        == "local: needs 9 GiB of memory per node, 8 of 16 free (8 "
           "reserved by cluster 'b')");
  CHECK(check_fits(host, held, {0, 0, {{"a100", 1}}}, 1));
  auto gpu = check_fits(host, held, {0, 0, {{"A100", 0.75}}}, 2);
  REQUIRE_FALSE(gpu);
  CHECK(message_of(gpu.error())
        == "local: needs 0.75 A100 GPUs per node x 2 nodes, 1 of 2 free (1 "
           "reserved by cluster 'b')");
  auto none = check_fits(host, held, {0, 0, {{"H100", 1}}}, 1);
  REQUIRE_FALSE(none);
  CHECK(message_of(none.error())
        == "local: needs 1 H100 per node, this host has none (2 A100)");

  auto free = free_capacity(host, held);
  CHECK(free.cpus == 1);
  CHECK(free.memory_gib == 8);
  CHECK(free.gpus.at("A100") == Approx(1));
  CHECK(total_reserved(held).cpus == 3);
}

TEST_CASE("capacity: zero amounts reserve nothing and always fit") {
  node_resources host{2, 4, {}};
  std::vector<reservation> held;
  for (int i = 0; i < 50; ++i)
    held.push_back({"c" + std::to_string(i), 3, {}});
  held.push_back({"big", 1, {2, 4, {}}});
  CHECK(check_fits(host, held, {}, 8));
  CHECK(check_fits(host, held, {0, 0, {{"A100", 0}}}, 1));
  CHECK_FALSE(check_fits(host, held, {0.5, 0, {}}, 1));
  auto bad = check_fits(host, held, {-1, 0, {}}, 1);
  REQUIRE_FALSE(bad);
  CHECK(code_of(bad.error()) == errc::invalid_argument);
  CHECK(format_amount(2) == "2");
  CHECK(format_amount(0.25) == "0.25");
  CHECK(format_amount(1.5) == "1.5");
}
