#include <catch2/catch.hpp>

#include <cmath>
#include <functional>
#include <random>

#include "optimizer/placement/chain.hpp"
#include "tests/unit/optimizer/fixtures.hpp"

using namespace sky;
using namespace sky::optimizer;
using namespace sky::optimizer::testing;
using sky::task::accelerator_spec;

namespace {

candidate make(std::string cloud, std::string region, double price,
               size_t tier = 0) {
  candidate c;
  c.cloud = std::move(cloud);
  c.region = std::move(region);
  c.hourly_price = price;
  c.price_per_node = price;
  c.tier = tier;
  return c;
}

ranking rank_of(std::vector<candidate> cs) {
  ranking r;
  r.candidates = std::move(cs);
  return r;
}

double switch_cost(const candidate& a, const candidate& b, size_t) {
  return a.cloud == b.cloud ? 0.0 : 2.0;
}

} // namespace

TEST_CASE("chain: without a transfer cost each task takes its cheapest") {
  std::vector<ranking> rs{rank_of({make("x", "r1", 1), make("y", "r1", 2)}),
                          rank_of({make("y", "r1", 1), make("x", "r1", 1.5)})};
  auto plan = solve_chain(rs);
  REQUIRE(plan);
  CHECK(plan->chosen == std::vector<size_t>{0, 0});
  CHECK(plan->total_cost == 2.0);
  CHECK(plan->total_hourly_price == 2.0);
}

TEST_CASE("chain: a transfer cost changes the choice (DP, not per-task "
          "minimum)") {
  std::vector<ranking> rs{rank_of({make("x", "r1", 1), make("y", "r1", 2)}),
                          rank_of({make("y", "r1", 1), make("x", "r1", 1.5)})};
  // Per-task minimum: x then y = 1 + 1 + 2 (switch) = 4.
  // Best: x then x = 1 + 1.5 = 2.5.
  auto plan = solve_chain(rs, switch_cost);
  REQUIRE(plan);
  CHECK(plan->chosen == std::vector<size_t>{0, 1});
  CHECK(plan->total_cost == 2.5);
  CHECK(plan->total_hourly_price == 2.5);
  CHECK(plan->choice(1).cloud == "x");
}

TEST_CASE("chain: DP equals brute force over random chains and costs") {
  std::mt19937 rng{7};
  std::uniform_real_distribution<double> price{0.1, 10.0};
  for (int trial = 0; trial < 60; ++trial) {
    const size_t tasks = 1 + rng() % 5;
    std::vector<ranking> rs;
    for (size_t t = 0; t < tasks; ++t) {
      std::vector<candidate> cs;
      const size_t n = 1 + rng() % 5;
      for (size_t j = 0; j < n; ++j)
        cs.push_back(make("c" + std::to_string(rng() % 3),
                          "r" + std::to_string(rng() % 3), price(rng)));
      std::sort(cs.begin(), cs.end(), [](const auto& a, const auto& b) {
        return a.hourly_price < b.hourly_price;
      });
      rs.push_back(rank_of(std::move(cs)));
    }
    // Transfer cost depends on both ends and the step: not separable.
    std::vector<double> matrix(9 * 9 * 8);
    for (auto& m : matrix)
      m = price(rng) / 2;
    auto place = [](const candidate& c) {
      return size_t(c.cloud[1] - '0') * 3 + size_t(c.region[1] - '0');
    };
    transfer_cost_fn cost
      = [&](const candidate& a, const candidate& b, size_t step) {
          return matrix[(place(a) * 9 + place(b)) * 8 + step];
        };
    // Brute force over every combination.
    double best = HUGE_VAL;
    std::vector<size_t> idx(tasks, 0);
    std::function<void(size_t, double)> walk = [&](size_t t, double acc) {
      if (t == tasks) {
        best = std::min(best, acc);
        return;
      }
      for (size_t j = 0; j < rs[t].candidates.size(); ++j) {
        double add = rs[t].candidates[j].hourly_price;
        if (t > 0)
          add += cost(rs[t - 1].candidates[idx[t - 1]], rs[t].candidates[j], t);
        idx[t] = j;
        walk(t + 1, acc + add);
      }
    };
    walk(0, 0);
    auto plan = solve_chain(rs, cost);
    REQUIRE(plan);
    INFO("trial " << trial);
    CHECK(plan->total_cost == Approx(best).epsilon(1e-12));
    // The reported path really costs what it says.
    double again = 0;
    for (size_t t = 0; t < tasks; ++t) {
      again += plan->choice(t).hourly_price;
      if (t > 0)
        again += cost(plan->choice(t - 1), plan->choice(t), t);
    }
    CHECK(again == Approx(plan->total_cost).epsilon(1e-12));
  }
}

TEST_CASE("chain: only the best preference tier of each task is used") {
  // Task 1 prefers (tier 0) the expensive y; tier 1's cheap x must not be
  // chosen even though it would avoid a switch.
  std::vector<ranking> rs{
    rank_of({make("x", "r", 1)}),
    rank_of({make("y", "r", 5, 0), make("x", "r", 1, 1)})};
  auto plan = solve_chain(rs, switch_cost);
  REQUIRE(plan);
  CHECK(plan->choice(1).cloud == "y");
  CHECK(plan->total_cost == 8.0);
}

TEST_CASE("chain: optimize_chain places a pipeline against the catalog") {
  sky::testing::temp_dir dir{"skyopt"};
  auto loaded = load_fixture(dir.path());
  enabled_infra infra{{"aws", "lambda", "azure"}, {}};
  task::pipeline_spec p;
  p.name = "train";
  task::task_spec prep;
  prep.name = "prep";
  prep.resources.cpus = task::cpus_spec{8, true};
  task::task_spec train;
  train.name = "train";
  train.resources.accelerators = {gpu("A100", 8)};
  train.resources.infra = task::infra_spec{"aws", "", ""};
  p.tasks = {prep, train};

  auto plain = optimize_chain(p, loaded.cat, infra);
  REQUIRE(plain);
  CHECK(plain->choice(0).cloud == "azure"); // 0.384 < aws 0.40
  CHECK(plain->choice(1).cloud == "aws");
  CHECK(plain->total_hourly_price == Approx(32.384));

  auto moved = optimize_chain(p, loaded.cat, infra, {}, switch_cost);
  REQUIRE(moved);
  CHECK(moved->choice(0).cloud == "aws"); // 0.40 + 32 < 0.384 + 2 + 32
  CHECK(moved->choice(0).region == "us-east-1");
  CHECK(moved->total_cost == Approx(32.40));

  p.tasks[1].resources.accelerators = {gpu("A100", 3)};
  auto none = optimize_chain(p, loaded.cat, infra);
  REQUIRE_FALSE(none);
  auto info = describe(none.error());
  CHECK(info.code == errc::no_capacity);
  CHECK(info.message.starts_with("task 1 (train): "));

  CHECK_FALSE(optimize_chain(task::pipeline_spec{}, loaded.cat, infra));
}
