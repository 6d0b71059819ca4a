#include <catch2/catch.hpp>

#include "optimizer/placement/resources.hpp"
#include "tests/unit/optimizer/fixtures.hpp"

using namespace sky;
using namespace sky::optimizer;
using namespace sky::optimizer::testing;
using sky::task::accelerator_spec;
using sky::task::choice_order;
using sky::task::resources_spec;

namespace {

accelerator_spec acc(std::string name, double count) {
  return gpu(std::move(name), count);
}

std::string error_of(const result<expanded_resources>& r) {
  REQUIRE_FALSE(r);
  auto info = describe(r.error());
  CHECK(info.code == errc::invalid_argument);
  return info.message;
}

} // namespace

TEST_CASE("expand: plain resources are one alternative") {
  resources_spec r;
  r.cpus = task::cpus_spec{4, true};
  r.accelerators = {acc("A100", 8)};
  auto e = expand_resources(r);
  REQUIRE(e);
  REQUIRE(e->alternatives.size() == 1);
  CHECK(e->alternatives[0] == r);
  CHECK(e->tiers == std::vector<size_t>{0});
  CHECK_FALSE(e->ordered);
}

TEST_CASE("expand: an accelerator set is a choice, a list a preference") {
  resources_spec r;
  r.accelerators = {acc("A100", 8), acc("H100", 8)};
  r.accelerator_order = choice_order::any;
  r.use_spot = true;
  auto e = expand_resources(r);
  REQUIRE(e);
  REQUIRE(e->alternatives.size() == 2);
  CHECK(e->alternatives[0].accelerators == std::vector{acc("A100", 8)});
  CHECK(e->alternatives[1].accelerators == std::vector{acc("H100", 8)});
  CHECK(e->alternatives[1].accelerator_order == choice_order::single);
  CHECK(e->alternatives[1].use_spot == true);
  CHECK(e->tiers == std::vector<size_t>{0, 0});
  CHECK_FALSE(e->ordered);

  r.accelerator_order = choice_order::ordered;
  e = expand_resources(r);
  REQUIRE(e);
  CHECK(e->tiers == std::vector<size_t>{0, 1});
  CHECK(e->ordered);
}

TEST_CASE("expand: any_of/ordered entries inherit the parent's fields") {
  resources_spec parent;
  parent.cpus = task::cpus_spec{8, true};
  parent.use_spot = true;
  parent.disk_size_gb = 256;
  parent.max_hourly_cost = 40;
  parent.labels = {{"team", "ml"}, {"tier", "base"}};
  resources_spec a;
  a.accelerators = {acc("H100", 8)};
  a.infra = task::infra_spec{"lambda", "", ""};
  resources_spec b;
  b.accelerators = {acc("A100", 8)};
  b.use_spot = false; // the alternative's own field wins
  b.labels = {{"tier", "own"}};
  parent.any_of = {a, b};
  auto e = expand_resources(parent);
  REQUIRE(e);
  REQUIRE(e->alternatives.size() == 2);
  const auto& x = e->alternatives[0];
  CHECK(x.cpus == task::cpus_spec{8, true});
  CHECK(x.use_spot == true);
  CHECK(x.disk_size_gb == 256);
  CHECK(x.max_hourly_cost == 40);
  CHECK(x.infra == task::infra_spec{"lambda", "", ""});
  CHECK(x.any_of.empty());
  const auto& y = e->alternatives[1];
  CHECK(y.use_spot == false);
  CHECK_FALSE(y.infra);
  CHECK(y.labels.at("tier") == "own");
  CHECK(y.labels.at("team") == "ml");
  CHECK(e->tiers == std::vector<size_t>{0, 0});
  CHECK_FALSE(e->ordered);

  parent.ordered = parent.any_of;
  parent.any_of.clear();
  e = expand_resources(parent);
  REQUIRE(e);
  CHECK(e->tiers == std::vector<size_t>{0, 1});
  CHECK(e->ordered);
}

TEST_CASE("expand: sets inside ordered share a tier, lists split tiers") {
  resources_spec first;
  first.accelerators = {acc("H100", 8), acc("H200", 8)};
  first.accelerator_order = choice_order::any;
  resources_spec second;
  second.accelerators = {acc("A100", 8), acc("A100-80GB", 8)};
  second.accelerator_order = choice_order::ordered;
  resources_spec third;
  third.accelerators = {acc("L4", 8)};
  resources_spec parent;
  parent.ordered = {first, second, third};
  auto e = expand_resources(parent);
  REQUIRE(e);
  REQUIRE(e->alternatives.size() == 5);
  CHECK(e->tiers == std::vector<size_t>{0, 0, 1, 2, 3});
  CHECK(e->alternatives[3].accelerators == std::vector{acc("A100-80GB", 8)});
  CHECK(e->ordered);
}

TEST_CASE("expand: an inherited accelerator list is split per alternative") {
  resources_spec parent;
  parent.accelerators = {acc("A100", 1), acc("L4", 1)};
  parent.accelerator_order = choice_order::any;
  resources_spec a, b;
  a.infra = task::infra_spec{"gcp", "", ""};
  b.infra = task::infra_spec{"aws", "", ""};
  parent.any_of = {a, b};
  auto e = expand_resources(parent);
  REQUIRE(e);
  REQUIRE(e->alternatives.size() == 4);
  CHECK(e->alternatives[2].infra->provider == "aws");
  CHECK(e->alternatives[2].accelerators == std::vector{acc("A100", 1)});
}

TEST_CASE("expand: invalid combinations and values name the field") {
  resources_spec r;
  r.any_of = {resources_spec{}};
  r.ordered = {resources_spec{}};
  CHECK(error_of(expand_resources(r)).find("'any_of' and 'ordered'")
        != std::string::npos);

  resources_spec nested;
  nested.any_of = {resources_spec{}};
  resources_spec outer;
  outer.ordered = {resources_spec{}, nested};
  CHECK(error_of(expand_resources(outer))
        == "resources.ordered[1]: nested 'any_of'/'ordered' is not supported");

  resources_spec listed;
  listed.accelerators = {acc("A100", 8), acc("H100", 8)};
  listed.accelerator_order = choice_order::ordered;
  resources_spec any;
  any.any_of = {listed};
  CHECK(error_of(expand_resources(any)).find("ambiguous") != std::string::npos);

  resources_spec bad;
  bad.accelerators = {acc("A100", 1.5)};
  CHECK(error_of(expand_resources(bad))
        == "resources: accelerator count 1.5 in 'A100:1.5' is not a whole "
           "number");
  bad.accelerators = {acc("A100", 0)};
  CHECK(error_of(expand_resources(bad)).find("must be positive")
        != std::string::npos);
  resources_spec cpus;
  cpus.cpus = task::cpus_spec{0, false};
  CHECK(error_of(expand_resources(cpus))
        == "resources: cpus must be positive, got 0");
  resources_spec cost;
  cost.max_hourly_cost = -1;
  CHECK(error_of(expand_resources(cost)).find("max_hourly_cost")
        != std::string::npos);
  // Fractions below one are fine.
  resources_spec frac;
  frac.accelerators = {acc("A10", 0.5)};
  CHECK(expand_resources(frac));
}

TEST_CASE("expand: accelerator text") {
  CHECK(to_string(acc("A100", 8)) == "A100:8");
  CHECK(to_string(acc("A100", 1)) == "A100");
  CHECK(to_string(acc("A10", 0.5)) == "A10:0.5");
  CHECK(to_string(gpu_memory(8, 80.0)) == "80GB+:8");
  CHECK(to_string(gpu_memory(8, 80.0, true)) == "80GB:8");
  CHECK(to_string(gpu_memory(4, 40.0, false, "NVIDIA")) == "NVIDIA:40GB+:4");
}
