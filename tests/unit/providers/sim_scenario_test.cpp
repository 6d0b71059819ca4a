#include <catch2/catch.hpp>

#include <filesystem>

#include "optimizer/placement/catalog.hpp"
#include "providers/sim/scenario.hpp"
#include "providers/sim/sim_duration.hpp"
#include "sim_test_util.hpp"

using namespace sky;
using namespace sky::providers;
using namespace sky::providers::sim;
using Catch::Matchers::Contains;
using sky::providers::testing::sim_test_catalog;

namespace {

struct parsed {
  std::shared_ptr<const optimizer::catalog> cat = sim_test_catalog();
  catalog_index index{*cat};

  result<scenario> operator()(const std::string& yaml) {
    return parse_scenario(yaml, "s.yaml", index);
  }

  /// The message and hint of a refused scenario.
  std::string refusal(const std::string& yaml) {
    auto r = (*this)(yaml);
    REQUIRE_FALSE(r);
    auto info = describe(r.error());
    CHECK(info.code == errc::invalid_argument);
    return info.message + " | " + info.hint;
  }
};

} // namespace

TEST_CASE("sim scenario: an empty file is plenty of everything") {
  parsed p;
  for (const char* text : {"", "# nothing\n", "---\n"}) {
    auto sc = p(text);
    REQUIRE(sc);
    CHECK(sc->places.empty());
    CHECK(sc->seed == 0);
    CHECK_FALSE(sc->provisioning_delay_ms);
  }
}

TEST_CASE("sim scenario: every setting is read into its place") {
  parsed p;
  auto sc = p(R"(seed: 7
provisioning_delay: 90s
clouds:
  aws:
    quota: {vcpus: 192}
    failures:
      - {error: auth}
    regions:
      us-east-1:
        quota: {instances: 3, gpus: 16}
        capacity:
          a100: 16
          spot: {A100: 8, m5.large: 0}
        failures:
          - error: no_capacity
            times: 2
            type: p4d.24xlarge
            spot: false
        zones:
          us-east-1b:
            provisioning_delay: 2m
            capacity:
              on_demand: {p4d.24xlarge: 1}
            preemption: {after: 10m}
  lambda:
    preemption: {rate_per_hour: 0.5, on_demand: true, type: gpu_8x_a100}
)");
  REQUIRE(sc);
  CHECK(sc->seed == 7);
  CHECK(sc->provisioning_delay_ms == 90'000);
  const auto* cloud = sc->at("aws");
  REQUIRE(cloud != nullptr);
  CHECK(cloud->quota.vcpus == 192.0);
  REQUIRE(cloud->faults.size() == 1);
  CHECK(cloud->faults[0].kind == fault_kind::auth);
  // Credentials are per cloud.
  CHECK(cloud->faults[0].scope == failure_scope::cloud);
  CHECK(cloud->faults[0].where == "s.yaml:7:9");
  const auto* region = sc->at("aws/us-east-1");
  REQUIRE(region != nullptr);
  CHECK(region->quota.instances == 3);
  CHECK(region->quota.gpus == 16.0);
  // `a100` is the catalog's A100; a pool's own entry wins over the shared
  // one whatever the order.
  CHECK(region->capacity.at({false, "A100"}) == 16);
  CHECK(region->capacity.at({true, "A100"}) == 8);
  CHECK(region->capacity.at({true, "m5.large"}) == 0);
  CHECK(region->capacity.count({false, "m5.large"}) == 0);
  REQUIRE(region->faults.size() == 1);
  const auto& f = region->faults[0];
  CHECK(f.id == "aws/us-east-1#0");
  CHECK(f.kind == fault_kind::no_capacity);
  CHECK(f.scope == failure_scope::region);
  CHECK(f.times == 2);
  REQUIRE(f.only);
  CHECK(f.only->name == "p4d.24xlarge");
  CHECK_FALSE(f.only->accelerator);
  CHECK(f.spot == false);
  const auto* zone = sc->at("aws/us-east-1/us-east-1b");
  REQUIRE(zone != nullptr);
  CHECK(zone->provisioning_delay_ms == 120'000);
  CHECK(zone->capacity.at({false, "p4d.24xlarge"}) == 1);
  CHECK(zone->capacity.count({true, "p4d.24xlarge"}) == 0);
  REQUIRE(zone->preemption);
  CHECK(zone->preemption->after_ms == 600'000);
  const auto* lambda = sc->at("lambda");
  REQUIRE(lambda != nullptr);
  REQUIRE(lambda->preemption);
  CHECK(lambda->preemption->rate_per_hour == 0.5);
  CHECK(lambda->preemption->on_demand);
  // Another text, another fingerprint (fault counters start afresh).
  auto other = p("seed: 8\n");
  REQUIRE(other);
  CHECK(other->fingerprint != sc->fingerprint);
}

TEST_CASE("sim scenario: unknown names are refused with where and the "
          "nearest valid one") {
  parsed p;
  SECTION("cloud") {
    auto text = p.refusal("clouds:\n  awz:\n    capacity: {A100: 1}\n");
    CHECK_THAT(text, Contains("s.yaml:2:3:"));
    CHECK_THAT(text, Contains("unknown cloud 'awz'"));
    CHECK_THAT(text, Contains("did you mean 'aws'?"));
    CHECK_THAT(text, Contains("aws, lambda"));
  }
  SECTION("region") {
    auto text = p.refusal("clouds:\n  aws:\n    regions:\n"
                          "      us-esat-1: {capacity: {A100: 1}}\n");
    CHECK_THAT(text, Contains("s.yaml:4:7:"));
    CHECK_THAT(text, Contains("unknown region 'us-esat-1' of aws"));
    CHECK_THAT(text, Contains("did you mean 'us-east-1'?"));
  }
  SECTION("zone") {
    auto text = p.refusal("clouds:\n  aws:\n    regions:\n      us-east-1:\n"
                          "        zones:\n          us-east-1c: {}\n");
    CHECK_THAT(text, Contains("s.yaml:6:11:"));
    CHECK_THAT(text, Contains("unknown zone 'us-east-1c' in aws/us-east-1"));
    CHECK_THAT(text, Contains("did you mean 'us-east-1a'?"));
  }
  SECTION("zone of another region") {
    auto text = p.refusal("clouds:\n  aws:\n    regions:\n      us-east-1:\n"
                          "        zones:\n          us-west-2a: {}\n");
    CHECK_THAT(
      text, Contains("zone us-west-2a is in region us-west-2, not us-east-1"));
  }
  SECTION("instance type") {
    auto text = p.refusal("clouds:\n  aws:\n    capacity:\n"
                          "      p4d.24xlarg: 2\n");
    CHECK_THAT(text, Contains("s.yaml:4:7:"));
    CHECK_THAT(text,
               Contains("unknown instance type or accelerator 'p4d.24xlarg'"));
    CHECK_THAT(text, Contains("did you mean 'p4d.24xlarge'?"));
  }
  SECTION("accelerator") {
    auto text
      = p.refusal("clouds:\n  aws:\n    capacity:\n      spot: {A10O: 2}\n");
    CHECK_THAT(text, Contains("'A10O'"));
    CHECK_THAT(text, Contains("did you mean 'A100'?"));
  }
  SECTION("a type in a failure filter") {
    auto text = p.refusal("clouds:\n  lambda:\n    failures:\n"
                          "      - {error: quota, type: gpu_8x_a10}\n");
    CHECK_THAT(text, Contains("s.yaml:4:30:"));
    CHECK_THAT(text, Contains("did you mean 'gpu_1x_a10'?"));
  }
  SECTION("a type not offered in the place") {
    auto text = p.refusal("clouds:\n  lambda:\n    regions:\n"
                          "      us-west-1: {capacity: {gpu_1x_a10: 1}}\n");
    CHECK_THAT(text, Contains("gpu_1x_a10 is not offered in lambda/us-west-1"));
    CHECK_THAT(text, Contains("gpu_1x_a10 is offered in us-east-1"));
  }
  SECTION("zones of a cloud priced per region") {
    auto text = p.refusal("clouds:\n  lambda:\n    regions:\n      us-east-1:\n"
                          "        zones: {us-east-1a: {}}\n");
    CHECK_THAT(text, Contains("lambda has no zones"));
  }
}

TEST_CASE("sim scenario: misplaced and malformed settings are refused") {
  parsed p;
  CHECK_THAT(p.refusal("clouds:\n  aws:\n    capacty: {A100: 1}\n"),
             Contains("did you mean 'capacity'?"));
  CHECK_THAT(p.refusal("sed: 3\n"), Contains("did you mean 'seed'?"));
  CHECK_THAT(p.refusal("clouds:\n  aws:\n    regions:\n      us-east-1:\n"
                       "        zones:\n          us-east-1a:\n"
                       "            quota: {vcpus: 8}\n"),
             Contains("quotas are per region or per cloud"));
  CHECK_THAT(p.refusal("clouds:\n  aws:\n    quota: {cpus: 8}\n"),
             Contains("did you mean 'vcpus'?"));
  CHECK_THAT(p.refusal("clouds:\n  aws:\n    capacity: {A100: -1}\n"),
             Contains("s.yaml:3:22:"));
  CHECK_THAT(p.refusal("clouds:\n  aws:\n    provisioning_delay: soon\n"),
             Contains("'soon' is not a duration"));
  CHECK_THAT(p.refusal("clouds:\n  aws:\n    preemption: {after: 10m, "
                       "rate_per_hour: 1}\n"),
             Contains("states both 'after' and 'rate_per_hour'"));
  CHECK_THAT(p.refusal("clouds:\n  aws:\n    preemption: {on_demand: true}\n"),
             Contains("needs 'after' or 'rate_per_hour'"));
  CHECK_THAT(p.refusal("clouds:\n  aws:\n    failures:\n      - {error: "
                       "no_capacty}\n"),
             Contains("did you mean 'no_capacity'?"));
  CHECK_THAT(p.refusal("clouds:\n  aws:\n    failures:\n      - {times: 2}\n"),
             Contains("a failure needs 'error'"));
  CHECK_THAT(p.refusal("clouds:\n  aws: {}\n  aws: {}\n"),
             Contains("appears twice"));
  CHECK_THAT(p.refusal("clouds: [aws]\n"), Contains("expected a map"));
  CHECK_THAT(p.refusal("seed: 1\n---\nseed: 2\n"),
             Contains("more than one YAML"));
  CHECK_THAT(p.refusal("clouds:\n  aws: {capacity: {A100: 1}\n"),
             Contains("invalid YAML"));
}

TEST_CASE("sim scenario: failure scopes default to where they are stated") {
  parsed p;
  auto sc = p(R"(clouds:
  aws:
    regions:
      us-east-1:
        failures:
          - {error: quota}
          - {error: auth}
          - {error: no_capacity, scope: zone}
        zones:
          us-east-1a:
            failures: [{error: never_ready, times: 1}]
)");
  REQUIRE(sc);
  const auto& region = sc->at("aws/us-east-1")->faults;
  REQUIRE(region.size() == 3);
  CHECK(region[0].scope == failure_scope::region);
  CHECK(region[1].scope == failure_scope::cloud);
  CHECK(region[2].scope == failure_scope::zone);
  const auto& zone = sc->at("aws/us-east-1/us-east-1a")->faults;
  REQUIRE(zone.size() == 1);
  CHECK(zone[0].kind == fault_kind::never_ready);
  CHECK(zone[0].scope == failure_scope::zone);
  CHECK(zone[0].id == "aws/us-east-1/us-east-1a#0");
}

TEST_CASE("sim scenario: a missing file is refused naming it") {
  parsed p;
  auto r = load_scenario("/nonexistent/scenario.yaml", p.index);
  REQUIRE_FALSE(r);
  CHECK_THAT(describe(r.error()).message,
             Contains("/nonexistent/scenario.yaml"));
}

TEST_CASE("sim durations: units, combinations and refusals") {
  CHECK(parse_duration_ms("500ms") == 500);
  CHECK(parse_duration_ms("30s") == 30'000);
  CHECK(parse_duration_ms("90") == 90'000);
  CHECK(parse_duration_ms("10m") == 600'000);
  CHECK(parse_duration_ms("1.5h") == 5'400'000);
  CHECK(parse_duration_ms("1h30m") == 5'400'000);
  CHECK(parse_duration_ms("1d") == 86'400'000);
  CHECK(parse_duration_ms("0") == 0);
  for (const char* bad : {"", "m", "10x", "-5s", "1h30", "s10", "1..5s"})
    CHECK_FALSE(parse_duration_ms(bad));
  CHECK(format_duration_ms(600'000) == "10m");
  CHECK(format_duration_ms(5'400'000) == "1h30m");
  CHECK(format_duration_ms(1500) == "1s500ms");
  CHECK(format_duration_ms(0) == "0s");
}

TEST_CASE("sim scenario: the sample scenarios are valid against the default "
          "catalog") {
  auto loaded = optimizer::load_catalogs(std::filesystem::path{SKY_SOURCE_DIR}
                                         / "data" / "catalogs");
  REQUIRE(loaded);
  catalog_index index{loaded->cat};
  size_t n = 0;
  for (const auto& e : std::filesystem::directory_iterator(
         std::filesystem::path{SKY_SOURCE_DIR} / "examples" / "sim")) {
    if (e.path().extension() != ".yaml")
      continue;
    INFO(e.path());
    auto sc = load_scenario(e.path(), index);
    if (!sc)
      FAIL(describe(sc.error()).message);
    CHECK_FALSE(sc->places.empty());
    ++n;
  }
  CHECK(n >= 3);
}
