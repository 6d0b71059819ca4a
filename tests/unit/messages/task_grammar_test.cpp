// The value grammars shared by the YAML and the command line.

#include <catch2/catch.hpp>

#include "messages/task/value_grammar.hpp"

using namespace sky;
using namespace sky::task;

namespace {

std::string message_of(const caf::error& err) {
  return describe(err).message;
}

} // namespace

TEST_CASE("numbers and integers") {
  CHECK(parse_number("4") == 4.0);
  CHECK(parse_number(" 0.5 ") == 0.5);
  CHECK(parse_number("+2") == 2.0);
  CHECK(parse_number("1e3") == 1000.0);
  CHECK_FALSE(parse_number("inf"));
  CHECK_FALSE(parse_number("nan"));
  CHECK_FALSE(parse_number("0x10"));
  CHECK_FALSE(parse_number("4 GB"));
  CHECK_FALSE(parse_number(""));
  CHECK(parse_integer("42", 0, 100) == 42LL);
  CHECK(parse_integer("-5", -10, 10) == -5LL);
  auto frac = parse_integer("1.5", 0, 10);
  REQUIRE_FALSE(frac);
  CHECK(message_of(frac.error()) == "'1.5' is not a whole number");
  CHECK(describe(frac.error()).hint == "must be between 0 and 10");
  auto big = parse_integer("99999999999999999999999", 0, 10);
  REQUIRE_FALSE(big);
  CHECK_THAT(message_of(big.error()), Catch::Contains("out of range"));
  CHECK_FALSE(parse_integer("11", 0, 10));
}

TEST_CASE("booleans as PyYAML reads YAML 1.1") {
  for (auto t : {"true", "True", "YES", "on"})
    CHECK(parse_bool(t) == true);
  for (auto f : {"false", "No", "OFF"})
    CHECK(parse_bool(f) == false);
  CHECK_FALSE(parse_bool("1"));
  CHECK_FALSE(parse_bool("maybe"));
}

TEST_CASE("cpus") {
  CHECK(parse_cpus("4") == cpus_spec{4, false});
  CHECK(parse_cpus("4+") == cpus_spec{4, true});
  CHECK(parse_cpus("0.5+") == cpus_spec{0.5, true});
  CHECK_FALSE(parse_cpus("+"));
  CHECK_FALSE(parse_cpus("0"));
  CHECK_FALSE(parse_cpus("4++"));
  CHECK_FALSE(parse_cpus("four"));
}

TEST_CASE("memory") {
  using k = memory_spec::kind;
  CHECK(parse_memory("32") == memory_spec{32, k::exact});
  CHECK(parse_memory("32+") == memory_spec{32, k::at_least});
  CHECK(parse_memory("4x") == memory_spec{4, k::per_cpu});
  CHECK(parse_memory("4x+") == memory_spec{4, k::per_cpu});
  CHECK(parse_memory("1024MB") == memory_spec{1, k::exact});
  CHECK(parse_memory("1024kb") == memory_spec{1.0 / 1024, k::exact});
  CHECK(parse_memory("1PB") == memory_spec{1024 * 1024, k::exact});
  CHECK(parse_memory("64GiB+") == memory_spec{64, k::at_least});
  CHECK_FALSE(parse_memory("GB"));
  CHECK_FALSE(parse_memory("64G"));
  CHECK_FALSE(parse_memory("-1"));
  CHECK_FALSE(parse_memory("0GB"));
  CHECK_FALSE(parse_memory("x"));
}

TEST_CASE("accelerators") {
  auto a = parse_accelerator("A100:8");
  REQUIRE(a);
  CHECK(a->name == "A100");
  CHECK(a->count == 8);
  CHECK_FALSE(a->min_memory_gib);
  auto tpu = parse_accelerator("tpu-v5p-8");
  REQUIRE(tpu);
  CHECK(tpu->name == "tpu-v5p-8");
  CHECK(tpu->count == 1);
  auto named_gb = parse_accelerator("A100-80GB:4");
  REQUIRE(named_gb);
  CHECK(named_gb->name == "A100-80GB");
  CHECK_FALSE(named_gb->min_memory_gib);
  auto mem = parse_accelerator("24GB+");
  REQUIRE(mem);
  CHECK(mem->name.empty());
  CHECK(mem->min_memory_gib == 24.0);
  CHECK(mem->count == 1);
  CHECK_FALSE(mem->memory_exact);
  auto small = parse_accelerator("512mb:2");
  REQUIRE(small);
  CHECK(small->min_memory_gib == 0.5);
  CHECK(small->memory_exact);
  auto vendor = parse_accelerator("AMD:192GB+");
  REQUIRE(vendor);
  CHECK(vendor->manufacturer == "AMD");
  CHECK(vendor->min_memory_gib == 192.0);
  CHECK(vendor->count == 1);
  CHECK_FALSE(parse_accelerator(""));
  CHECK_FALSE(parse_accelerator("A100:"));
  CHECK_FALSE(parse_accelerator(":8"));
  CHECK_FALSE(parse_accelerator("A100:-1"));
  CHECK_FALSE(parse_accelerator("NVIDIA:big:8"));
  CHECK_FALSE(parse_accelerator("0GB+"));
  CHECK_FALSE(parse_accelerator("[A100]"));
}

TEST_CASE("infra") {
  CHECK(parse_infra("GCP/us-central1") == infra_spec{"gcp", "us-central1", ""});
  CHECK(parse_infra("*/*/z") == infra_spec{"", "", "z"});
  CHECK(parse_infra("k8s/*") == infra_spec{"k8s", "", ""});
  CHECK(parse_infra("ssh") == infra_spec{"ssh", "", ""});
  CHECK_FALSE(parse_infra("ssh/a/b"));
  CHECK_FALSE(parse_infra("k8s/"));
  CHECK_FALSE(parse_infra("aws/"));
  CHECK_FALSE(parse_infra(""));
  auto typo = parse_infra("azrue");
  REQUIRE_FALSE(typo);
  CHECK(message_of(typo.error())
        == "unknown cloud 'azrue' (did you mean 'azure'?)");
  CHECK(parse_provider("Kubernetes") == std::string{"k8s"});
  CHECK_FALSE(parse_provider("*"));
}

TEST_CASE("ports") {
  CHECK(parse_port_range("1") == port_range{1, 1});
  CHECK(parse_port_range("65535") == port_range{65535, 65535});
  CHECK(parse_port_range("8080-8090") == port_range{8080, 8090});
  CHECK(parse_port_range("80-80") == port_range{80, 80});
  CHECK_FALSE(parse_port_range("0"));
  CHECK_FALSE(parse_port_range("65536"));
  CHECK_FALSE(parse_port_range("100000"));
  CHECK_FALSE(parse_port_range("-1"));
  CHECK_FALSE(parse_port_range("1-2-3"));
  CHECK_FALSE(parse_port_range("90-80"));
  CHECK_FALSE(parse_port_range("http"));
  CHECK_FALSE(parse_port_range(""));
}

TEST_CASE("disk sizes and durations") {
  CHECK(parse_disk_size_gb("256") == 256);
  CHECK(parse_disk_size_gb("256GB") == 256);
  CHECK(parse_disk_size_gb("2tb") == 2048);
  CHECK(parse_disk_size_gb("2047MB") == 1);
  CHECK_FALSE(parse_disk_size_gb("0"));
  CHECK_FALSE(parse_disk_size_gb("1.5GB"));
  CHECK_FALSE(parse_disk_size_gb("99999999999"));
  CHECK_FALSE(parse_disk_size_gb("20PB"));
  CHECK(parse_duration_minutes("10") == 10);
  CHECK(parse_duration_minutes("10m") == 10);
  CHECK(parse_duration_minutes("3H") == 180);
  CHECK(parse_duration_minutes("2w") == 2 * 7 * 24 * 60);
  CHECK_FALSE(parse_duration_minutes("10s"));
  CHECK_FALSE(parse_duration_minutes("h"));
  CHECK_FALSE(parse_duration_minutes("1.5h"));
  CHECK_FALSE(parse_duration_minutes("999999999w"));
}

TEST_CASE("environment variable names and number formatting") {
  CHECK(is_env_name("A"));
  CHECK(is_env_name("_private_1"));
  CHECK_FALSE(is_env_name(""));
  CHECK_FALSE(is_env_name("1A"));
  CHECK_FALSE(is_env_name("A-B"));
  CHECK_FALSE(is_env_name("A B"));
  CHECK_FALSE(is_env_name("\xc3\xa9t\xc3\xa9"));
  CHECK(format_number(8) == "8");
  CHECK(format_number(0.5) == "0.5");
}
