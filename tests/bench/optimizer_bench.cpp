// Optimizer latency over every real catalog: single tasks with varied
// requests (p50/p99) and a 20-task chain, printed beside their targets.
// Never fails on timing.

#include <algorithm>
#include <chrono>
#include <cstdio>
#include <random>
#include <string>
#include <vector>

#include "optimizer/placement/chain.hpp"
#include "optimizer/placement/optimizer.hpp"
#include "tests/support/test_support.hpp"

using namespace sky;
using namespace sky::optimizer;
using clock_type = std::chrono::steady_clock;

namespace {

double ms_since(clock_type::time_point t) {
  return std::chrono::duration<double, std::milli>(clock_type::now() - t)
    .count();
}

double percentile(std::vector<double> v, double p) {
  std::sort(v.begin(), v.end());
  size_t i = static_cast<size_t>(p * static_cast<double>(v.size() - 1) + 0.5);
  return v[std::min(i, v.size() - 1)];
}

task::accelerator_spec gpu(std::string name, double count) {
  task::accelerator_spec a;
  a.name = std::move(name);
  a.count = count;
  return a;
}

/// A seeded mix of what users ask for: CPU shapes, GPUs, spot, infra
/// filters, accelerator sets, ordered alternatives, by-memory GPUs.
std::vector<task::resources_spec> make_requests(size_t n) {
  std::mt19937 rng{42};
  auto pick = [&](size_t k) {
    return std::uniform_int_distribution<size_t>{0, k - 1}(rng);
  };
  const std::vector<std::pair<const char*, double>> gpus{
    {"A100", 8}, {"A100", 1}, {"H100", 8}, {"H100", 1},      {"L4", 1},
    {"T4", 1},   {"A10", 1},  {"V100", 4}, {"A100-80GB", 8}, {"RTX4090", 1}};
  const char* clouds[] = {"gcp", "azure", "lambda", "vast"};
  std::vector<task::resources_spec> out;
  for (size_t i = 0; i < n; ++i) {
    task::resources_spec r;
    switch (pick(6)) {
      case 0: // default CPU instance
        break;
      case 1:
        r.cpus = task::cpus_spec{double(1u << pick(7)), pick(2) == 0};
        if (pick(2) == 0)
          r.memory = task::memory_spec{double(2 + pick(6)),
                                       task::memory_spec::kind::per_cpu};
        break;
      case 2:
      case 3: {
        auto [name, count] = gpus[pick(gpus.size())];
        r.accelerators = {gpu(name, count)};
        break;
      }
      case 4:
        r.accelerators = {gpu("A100", 8), gpu("H100", 8), gpu("L4", 8)};
        r.accelerator_order = pick(2) == 0 ? task::choice_order::any
                                           : task::choice_order::ordered;
        break;
      case 5: {
        task::accelerator_spec by_memory;
        by_memory.count = 8;
        by_memory.min_memory_gib = 40.0 * double(1 + pick(2));
        r.accelerators = {by_memory};
        break;
      }
    }
    if (pick(3) == 0)
      r.use_spot = true;
    if (pick(4) == 0)
      r.infra = task::infra_spec{clouds[pick(4)], "", ""};
    if (pick(10) == 0)
      r.max_hourly_cost = 10.0;
    out.push_back(std::move(r));
  }
  return out;
}

} // namespace

int main() {
  auto dir = sky::testing::shared_catalogs_dir();
  if (!dir) {
    std::printf("optimizer_bench: shared catalogs not found (set "
                "SKY_SHARED_CATALOGS); nothing measured\n");
    return 0;
  }
  auto loaded = load_catalogs(*dir);
  if (!loaded) {
    std::printf("optimizer_bench: load failed: %s\n",
                describe(loaded.error()).message.c_str());
    return 1;
  }
  const catalog& cat = loaded->cat;
  enabled_infra infra;
  for (const auto& c : cat.clouds())
    infra.clouds.emplace_back(cat.name(c.name));
  infra.fixed.push_back(fixed_capacity_infra{"local", "", {{4, 16, {}}}});

  // Single tasks.
  const auto requests = make_requests(2000);
  std::vector<double> ms;
  ms.reserve(requests.size());
  size_t feasible = 0, candidates = 0;
  for (int warm = 0; warm < 20; ++warm)
    (void) optimize_resources(requests[warm], 1, cat, infra);
  for (const auto& r : requests) {
    auto t = clock_type::now();
    auto rank = optimize_resources(r, 1, cat, infra);
    ms.push_back(ms_since(t));
    if (rank && rank->feasible()) {
      ++feasible;
      candidates += rank->candidates.size();
    }
  }
  std::printf("optimizer_bench: %zu offers in %zu clouds (%s)\n",
              cat.offers().size(), cat.clouds().size(), dir->c_str());
  std::printf("  single task, %zu varied requests (%zu feasible, %.0f "
              "candidates on average)\n",
              requests.size(), feasible,
              feasible ? double(candidates) / double(feasible) : 0.0);
  std::printf("    p50 %7.3f ms   target < 5 ms\n", percentile(ms, 0.50));
  std::printf("    p99 %7.3f ms\n", percentile(ms, 0.99));
  std::printf("    max %7.3f ms\n", percentile(ms, 1.0));

  // A 20-task chain of GPU and CPU tasks.
  task::pipeline_spec chain;
  // Alternating GPU steps (A100, L4, T4, H100) and CPU steps of growing
  // size, some on spot: every step is feasible somewhere.
  const char* chain_gpus[] = {"A100", "L4", "T4", "H100"};
  for (size_t i = 0; i < 20; ++i) {
    task::task_spec t;
    t.name = "step" + std::to_string(i);
    if (i % 2 == 0)
      t.resources.accelerators = {gpu(chain_gpus[(i / 2) % 4], 1)};
    else
      t.resources.cpus = task::cpus_spec{double(2u << (i % 5)), true};
    if (i % 3 == 0)
      t.resources.use_spot = true;
    chain.tasks.push_back(std::move(t));
  }
  auto egress = [](const candidate& a, const candidate& b, size_t) {
    return a.cloud != b.cloud ? 0.5 : (a.region != b.region ? 0.1 : 0.0);
  };
  std::vector<double> plain_ms, egress_ms;
  size_t pairs = 0;
  for (int run = 0; run < 10; ++run) {
    auto t = clock_type::now();
    auto plan = optimize_chain(chain, cat, infra);
    plain_ms.push_back(ms_since(t));
    t = clock_type::now();
    auto with = optimize_chain(chain, cat, infra, {}, egress);
    egress_ms.push_back(ms_since(t));
    if (!plan || !with) {
      std::printf("  chain failed: %s\n",
                  describe(plan ? with.error() : plan.error()).message.c_str());
      return 1;
    }
    if (run == 0)
      for (size_t i = 1; i < with->rankings.size(); ++i)
        pairs += with->rankings[i - 1].candidates.size()
                 * with->rankings[i].candidates.size();
  }
  std::printf("  20-task chain (median of 10 runs)\n");
  std::printf("    no transfer cost     %7.2f ms   target < 50 ms\n",
              percentile(plain_ms, 0.5));
  std::printf("    with transfer cost   %7.2f ms   target < 50 ms (about "
              "%zu candidate pairs)\n",
              percentile(egress_ms, 0.5), pairs);
  return 0;
}
