#include <catch2/catch.hpp>

#include "optimizer/placement/show_gpus.hpp"
#include "tests/unit/optimizer/fixtures.hpp"

using namespace sky;
using namespace sky::optimizer;
using namespace sky::optimizer::testing;

TEST_CASE("show-gpus: filter text NAME[:COUNT]") {
  auto f = parse_gpu_filter("H100:8");
  REQUIRE(f);
  CHECK(f->name == "H100");
  CHECK(f->count == 8.0);
  f = parse_gpu_filter("a10:0.5");
  REQUIRE(f);
  CHECK(f->count == 0.5);
  f = parse_gpu_filter("");
  REQUIRE(f);
  CHECK(f->name.empty());
  CHECK_FALSE(f->count);
  CHECK_FALSE(parse_gpu_filter("H100:x"));
  CHECK_FALSE(parse_gpu_filter("H100:0"));
  CHECK_FALSE(parse_gpu_filter(":8"));
}

TEST_CASE("show-gpus: cheapest on-demand and spot per cloud/region") {
  sky::testing::temp_dir dir{"skyopt"};
  auto loaded = load_fixture(dir.path());
  enabled_infra infra{{"aws", "lambda", "azure"}, {}};
  auto list = show_gpus(loaded.cat, infra, *parse_gpu_filter("a100"));
  REQUIRE(list.size() == 1);
  const auto& a100 = list[0];
  CHECK(a100.name == "A100");
  CHECK(a100.counts == std::vector<double>{8});
  CHECK(a100.device_memory_gib == 40.0);
  REQUIRE(a100.offers.size() == 3);
  CHECK(a100.offers[0].cloud == "lambda");
  CHECK(a100.offers[0].region == "us-east-1");
  CHECK(a100.offers[0].price == 14.0);
  CHECK_FALSE(a100.offers[0].spot_price);
  CHECK(a100.offers[2].cloud == "aws");
  CHECK(a100.offers[2].instance_type == "p.a100x8");
  CHECK(a100.offers[2].price == 32.0);
  CHECK(a100.offers[2].spot_price == 12.0);
  CHECK(a100.offers[2].vcpus == 96);

  // A substring matches several names (A10 and A10G), as in SkyPilot.
  auto a10 = show_gpus(loaded.cat, infra, *parse_gpu_filter("A10"));
  std::vector<std::string> names;
  for (const auto& l : a10)
    names.push_back(l.name);
  CHECK(names == std::vector<std::string>{"A10", "A100", "A10G"});
  CHECK(a10[0].counts == std::vector<double>{0.167, 1});

  gpu_filter only_lambda;
  only_lambda.infra = "lambda";
  auto lam = show_gpus(loaded.cat, infra, only_lambda);
  for (const auto& l : lam)
    for (const auto& o : l.offers)
      CHECK(o.cloud == "lambda");
  CHECK(lam.size() == 2); // A100, H100

  auto counted = show_gpus(loaded.cat, infra, *parse_gpu_filter("H100:8"));
  REQUIRE(counted.size() == 1);
  REQUIRE(counted[0].offers.size() == 1);
  CHECK(counted[0].offers[0].cloud == "aws");
  CHECK_FALSE(counted[0].offers[0].spot_price); // empty SpotPrice

  // Free local GPUs are listed at price 0; disabled clouds are not.
  enabled_infra local{{"lambda"},
                      {{"local", "", {{8, 32, {{"a100", 1, {}}}}}}}};
  auto mine = show_gpus(loaded.cat, local, *parse_gpu_filter("A100"));
  REQUIRE(mine.size() == 1);
  REQUIRE(mine[0].offers.size() == 3);
  CHECK(mine[0].offers[0].cloud == "local");
  CHECK(mine[0].offers[0].count == 1);
  CHECK(mine[0].offers[0].price == 0.0);
  for (const auto& o : mine[0].offers)
    CHECK(o.cloud != "aws");
}
