#pragma once

// Helpers for the sim provider tests: a small two-cloud catalog, a world
// over a temporary directory with a clock the test moves, and requests.

#include <catch2/catch.hpp>

#include <cstdint>
#include <memory>
#include <string>

#include "optimizer/placement/catalog.hpp"
#include "providers/sim/scenario.hpp"
#include "providers/sim/sim_provider.hpp"
#include "providers/sim/sim_world.hpp"
#include "tests/support/test_support.hpp"

namespace sky::providers::testing {

// aws: zones in us-east-1 (a, b) and us-west-2 (a); a CPU type and an
// A100:8 type. lambda: priced per region (no zones), no spot.
inline constexpr const char* sim_aws_csv
  = "InstanceType,AcceleratorName,AcceleratorCount,vCPUs,MemoryGiB,GpuInfo,"
    "Price,SpotPrice,Region,AvailabilityZone,Arch\n"
    "m5.large,,,2,8,,0.096,0.030,us-east-1,us-east-1a,x86_64\n"
    "m5.large,,,2,8,,0.096,0.031,us-east-1,us-east-1b,x86_64\n"
    "p4d.24xlarge,A100,8,96,1152,,32.77,14.70,us-east-1,us-east-1a,x86_64\n"
    "p4d.24xlarge,A100,8,96,1152,,32.77,14.90,us-east-1,us-east-1b,x86_64\n"
    "m5.large,,,2,8,,0.100,0.032,us-west-2,us-west-2a,x86_64\n"
    "p4d.24xlarge,A100,8,96,1152,,32.77,15.00,us-west-2,us-west-2a,x86_64\n";

inline constexpr const char* sim_lambda_csv
  = "InstanceType,AcceleratorName,AcceleratorCount,vCPUs,MemoryGiB,Price,"
    "Region,GpuInfo,SpotPrice\n"
    "gpu_8x_a100,A100,8,124,1800,10.32,us-east-1,,\n"
    "gpu_1x_a10,A10,1,30,200,0.75,us-east-1,,\n"
    "gpu_8x_a100,A100,8,124,1800,10.32,us-west-1,,\n";

inline std::shared_ptr<const optimizer::catalog> sim_test_catalog() {
  optimizer::catalog_builder b;
  b.add_vms_csv("aws", sim_aws_csv, "aws/vms.csv");
  b.add_vms_csv("lambda", sim_lambda_csv, "lambda/vms.csv");
  auto loaded = std::move(b).finish();
  REQUIRE(loaded.diagnostics.empty());
  return std::make_shared<const optimizer::catalog>(std::move(loaded.cat));
}

inline provision_request sim_request(const std::string& cluster,
                                     const std::string& region,
                                     const std::string& zone,
                                     const std::string& type, bool spot = false,
                                     uint32_t nodes = 1, uint32_t attempt = 1) {
  provision_request r;
  r.cluster = cluster;
  r.region = region;
  r.zone = zone;
  r.instance_type = type;
  r.use_spot = spot;
  r.num_nodes = nodes;
  r.attempt = attempt;
  return r;
}

/// A sim world over a temporary directory whose clock only moves when the
/// test says so. Virtual nodes and virtual time unless changed before
/// open().
struct sim_fixture {
  sky::testing::temp_dir dir{"simt"};
  std::shared_ptr<const optimizer::catalog> catalog = sim_test_catalog();
  sim::catalog_index index{*catalog};
  std::shared_ptr<int64_t> clock = std::make_shared<int64_t>(1'700'000'000'000);
  sim_settings settings;
  std::shared_ptr<sim_world> world;
  std::shared_ptr<sim_provider> aws;
  std::shared_ptr<sim_provider> lambda;

  sim_fixture() {
    settings.root = dir.path();
    settings.catalog = catalog;
    settings.clouds = {"aws", "lambda"};
    settings.mode = sim_node_mode::virtual_nodes;
    settings.virtual_time = true;
    settings.sync_writes = false;
    auto c = clock;
    settings.now_ms = [c] { return *c; };
  }

  sim::scenario scenario(const std::string& yaml) {
    auto sc = sim::parse_scenario(yaml, "scenario.yaml", index);
    if (!sc)
      FAIL("scenario refused: " << describe(sc.error()).message);
    return std::move(*sc);
  }

  /// Opens (or reopens, after close()) the world with `yaml`.
  void open(const std::string& yaml = "") {
    auto w = sim_world::open(settings, scenario(yaml));
    if (!w)
      FAIL("world refused: " << describe(w.error()).message);
    world = *w;
    auto providers = make_sim_providers(world);
    REQUIRE(providers.size() == 2);
    aws = providers[0];
    lambda = providers[1];
  }

  void close() {
    aws.reset();
    lambda.reset();
    world.reset();
  }

  void advance_ms(int64_t ms) { *clock += ms; }
  void advance_min(int64_t minutes) { *clock += minutes * 60'000; }
};

inline errc code_of_error(const caf::error& err) {
  return describe(err).code;
}

inline std::string text_of(const caf::error& err) {
  auto info = describe(err);
  return info.message + " | " + info.hint;
}

} // namespace sky::providers::testing
