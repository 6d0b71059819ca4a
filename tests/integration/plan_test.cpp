// Planning against simulated clouds priced from the shipped catalog (issue
// 3): `launch --dryrun` and `show-gpus` through a real skyd.

#include <catch2/catch.hpp>

#include <fstream>
#include <set>

#include <nlohmann/json.hpp>

#include "skyd_fixture.hpp"

using namespace sky;
using namespace sky::testing;
using nlohmann::json;

namespace {

// The repository's sample catalog: the test must not depend on anything
// outside the checkout.
void simulate(const skyd_home& home, const std::string& clouds) {
  home.write_config("catalogs:\n  dir: " + std::string{SKY_SOURCE_DIR}
                    + "/data/catalogs\nsim:\n  clouds: [" + clouds + "]\n");
}

} // namespace

TEST_CASE("launch --dryrun ranks the simulated clouds' offers by price") {
  skyd_home home;
  simulate(home, "aws, gcp, lambda");
  auto r = home.skyctl({"launch", "--dryrun", "-o", "json", "--gpus", "A100:8",
                        "--", "python train.py"});
  INFO(r.err);
  REQUIRE(r.exit_code == 0);
  auto plan = json::parse(r.out);
  auto candidates = plan["candidates"];
  REQUIRE(candidates.size() >= 3);
  std::set<std::string> clouds;
  double previous = 0;
  int chosen = 0;
  for (const auto& c : candidates) {
    clouds.insert(c["cloud"].get<std::string>());
    CHECK(c["accelerators"] == "A100:8");
    CHECK(c["hourly_price"].get<double>() >= previous);
    previous = c["hourly_price"].get<double>();
    chosen += c["chosen"].get<bool>() ? 1 : 0;
  }
  CHECK(clouds == std::set<std::string>{"aws", "gcp", "lambda"});
  CHECK(chosen == 1);
  CHECK(candidates[0]["chosen"] == true);
  // The local host has no A100s: excluded with the reason.
  bool local_excluded = false;
  for (const auto& e : plan["excluded"])
    local_excluded = local_excluded || e["infra"] == "local";
  CHECK(local_excluded);

  // Spot: per zone, and cheaper than on demand for the same type.
  auto spot
    = home.skyctl({"launch", "--dryrun", "-o", "json", "--gpus", "A100:8",
                   "--use-spot", "--infra", "aws", "--", "true"});
  REQUIRE(spot.exit_code == 0);
  auto best_spot = json::parse(spot.out)["candidates"][0];
  CHECK(best_spot["use_spot"] == true);
  CHECK_FALSE(best_spot["zone"].get<std::string>().empty());
  CHECK(best_spot["hourly_price"].get<double>() < 32.7726);
}

TEST_CASE("a request nothing offers is refused with a reason per infra") {
  skyd_home home;
  simulate(home, "aws, gcp");
  auto r = home.skyctl(
    {"launch", "--dryrun", "--gpus", "H100:100", "--", "python train.py"});
  CHECK(r.exit_code == 1);
  auto text = r.out + r.err;
  CHECK(text.find("aws: no H100:100") != std::string::npos);
  CHECK(text.find("gcp: no H100:100") != std::string::npos);
  auto typo = home.skyctl({"launch", "--dryrun", "--infra", "gcpp", "--", "x"});
  CHECK(typo.exit_code == 2);
  CHECK(typo.err.find("did you mean 'gcp'?") != std::string::npos);
  // skyd keeps serving.
  CHECK(home.skyctl({"status"}).exit_code == 0);
}

TEST_CASE("show-gpus lists the simulated clouds' accelerators and prices") {
  skyd_home home;
  simulate(home, "aws, gcp, lambda");
  auto r = home.skyctl({"show-gpus", "A100:8", "-o", "json"});
  INFO(r.err);
  REQUIRE(r.exit_code == 0);
  // A100 (and A100-80GB, a name of its own in the catalogs).
  json a100;
  auto listed = json::parse(r.out);
  for (const auto& a : listed["accelerators"])
    if (a["name"] == "A100")
      a100 = a;
  REQUIRE(a100.is_object());
  std::set<std::string> clouds;
  for (const auto& o : a100["offers"]) {
    clouds.insert(o["cloud"].get<std::string>());
    CHECK(o["count"] == 8);
    CHECK(o["price"].get<double>() > 0);
  }
  CHECK(clouds == std::set<std::string>{"aws", "gcp", "lambda"});
  auto all = home.skyctl({"show-gpus"});
  REQUIRE(all.exit_code == 0);
  for (const char* name : {"A100", "H100", "L4", "T4"})
    CHECK(all.out.find(name) != std::string::npos);
}
