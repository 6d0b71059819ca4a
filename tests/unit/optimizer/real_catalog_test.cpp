// Checks against the real catalogs in /work/shared/catalogs. Expected picks
// are computed here by brute force from the raw CSV rows, read with a
// separate, deliberately simple reader (not the loader under test).

#include <catch2/catch.hpp>

#include <cmath>
#include <fstream>
#include <map>
#include <random>
#include <set>

#include "optimizer/placement/catalog.hpp"
#include "optimizer/placement/optimizer.hpp"
#include "tests/support/test_support.hpp"
#include "tests/unit/optimizer/fixtures.hpp"

using namespace sky;
using namespace sky::optimizer;
using namespace sky::optimizer::testing;
using sky::task::accelerator_spec;
using sky::task::resources_spec;

namespace {

/// A raw row: header name -> text.
using raw_row = std::map<std::string, std::string>;

/// Splits one line on commas outside double quotes. Real catalogs have no
/// newline inside quotes, and Azure's unquoted "V1,V2" only adds a trailing
/// field that this test never reads.
std::vector<std::string> split(const std::string& line) {
  std::vector<std::string> out(1);
  bool quoted = false;
  for (size_t i = 0; i < line.size(); ++i) {
    char c = line[i];
    if (c == '"') {
      if (quoted && i + 1 < line.size() && line[i + 1] == '"') {
        out.back() += '"';
        ++i;
      } else {
        quoted = !quoted;
      }
    } else if (c == ',' && !quoted) {
      out.emplace_back();
    } else if (c != '\r') {
      out.back() += c;
    }
  }
  return out;
}

std::vector<raw_row> read_raw(const std::filesystem::path& file) {
  std::ifstream in{file};
  REQUIRE(in.good());
  std::string line;
  std::getline(in, line);
  auto header = split(line);
  std::vector<raw_row> rows;
  while (std::getline(in, line)) {
    auto f = split(line);
    raw_row r;
    for (size_t i = 0; i < header.size() && i < f.size(); ++i)
      r[header[i]] = f[i];
    rows.push_back(std::move(r));
  }
  return rows;
}

double num(const raw_row& r, const char* key) {
  auto it = r.find(key);
  if (it == r.end() || it->second.empty())
    return std::nan("");
  return std::stod(it->second);
}

struct shared {
  std::filesystem::path dir;
  catalog_load_result loaded;
};

/// Loads the shared catalogs once for all test cases of this file.
const shared* real_catalogs() {
  static std::optional<shared> s = []() -> std::optional<shared> {
    auto dir = sky::testing::shared_catalogs_dir();
    if (!dir)
      return std::nullopt;
    auto r = load_catalogs(*dir);
    if (!r)
      return std::nullopt;
    return shared{*dir, std::move(*r)};
  }();
  return s ? &*s : nullptr;
}

#define SKIP_WITHOUT_CATALOGS()                                                \
  const shared* real = real_catalogs();                                        \
  if (real == nullptr) {                                                       \
    WARN("shared catalogs not found (set SKY_SHARED_CATALOGS): test skipped"); \
    return;                                                                    \
  }

ranking run(const shared& s, const resources_spec& r,
            std::vector<std::string> clouds) {
  auto out = optimize_resources(r, 1, s.loaded.cat,
                                enabled_infra{std::move(clouds), {}});
  REQUIRE(out);
  return std::move(*out);
}

std::map<std::string, double> by_region(const ranking& r) {
  std::map<std::string, double> out;
  for (const auto& c : r.candidates)
    out[c.zone.empty() ? c.region : c.region + "/" + c.zone] = c.hourly_price;
  return out;
}

} // namespace

TEST_CASE("real catalogs: every file loads without a malformed row") {
  SKIP_WITHOUT_CATALOGS();
  std::string all;
  for (const auto& d : real->loaded.diagnostics)
    all += d.to_string() + "\n";
  INFO(all);
  CHECK(real->loaded.diagnostics.empty());
  for (const auto& f : real->loaded.files) {
    INFO(f.file);
    CHECK(f.malformed == 0);
    CHECK(f.rows == read_raw(f.file).size());
  }
}

TEST_CASE("real catalogs: the AWS excerpt parses in AWS's column layout") {
  SKIP_WITHOUT_CATALOGS();
  // Only an excerpt of AWS is shared (no aws/vms.csv), so load_catalogs
  // skips it; the builder reads it directly.
  const auto file = real->dir / "aws" / "vms.EXCERPT.csv";
  auto text = read_text_file(file);
  REQUIRE(text);
  catalog_builder b;
  b.add_vms_csv("aws", std::move(*text), file.string());
  auto r = std::move(b).finish();
  CHECK(r.diagnostics.empty());
  const auto raw = read_raw(file);
  REQUIRE(r.cat.offers().size() == raw.size());
  for (size_t i = 0; i < raw.size(); ++i) {
    const auto& o = r.cat.offers()[i];
    CHECK(r.cat.name(o.instance_type) == raw[i].at("InstanceType"));
    CHECK(r.cat.name(o.zone) == raw[i].at("AvailabilityZone"));
    CHECK(o.price == num(raw[i], "Price"));
    CHECK(o.spot_price == num(raw[i], "SpotPrice"));
    CHECK(o.memory_gib == num(raw[i], "MemoryGiB"));
  }
  // Spot per zone: us-east-2 has two zones with different spot prices.
  task::resources_spec spot;
  spot.instance_type = "a1.2xlarge";
  spot.use_spot = true;
  spot.infra = task::infra_spec{"aws", "us-east-2", ""};
  auto rank = optimize_resources(spot, 1, r.cat, enabled_infra{{"aws"}, {}});
  REQUIRE(rank);
  REQUIRE(rank->candidates.size() == 2);
  CHECK(rank->candidates[0].zone == "use2-az1");
  CHECK(rank->candidates[0].hourly_price == 0.1056);
}

TEST_CASE("real catalogs: cheapest A100:8 on demand on lambda, per region") {
  SKIP_WITHOUT_CATALOGS();
  std::map<std::string, double> expected;
  for (const auto& row : read_raw(real->dir / "lambda" / "vms.csv")) {
    if (row.at("AcceleratorName") != "A100" || num(row, "AcceleratorCount") != 8
        || std::isnan(num(row, "Price")))
      continue;
    auto& e = expected.try_emplace(row.at("Region"), HUGE_VAL).first->second;
    e = std::min(e, num(row, "Price"));
  }
  REQUIRE_FALSE(expected.empty());
  resources_spec r;
  r.accelerators = {gpu("A100", 8)};
  auto rank = run(*real, r, {"lambda"});
  CHECK(by_region(rank) == expected);
  double cheapest = HUGE_VAL;
  for (const auto& [region, price] : expected)
    cheapest = std::min(cheapest, price);
  CHECK(rank.candidates.front().hourly_price == cheapest);
}

TEST_CASE("real catalogs: cheapest 8+ vCPU spot on azure, per region") {
  SKIP_WITHOUT_CATALOGS();
  // cpus 8+ with memory unset: at least 4 GiB per vCPU, no accelerator.
  std::map<std::string, double> expected;
  for (const auto& row : read_raw(real->dir / "azure" / "vms.csv")) {
    const double cpus = num(row, "vCPUs"), mem = num(row, "MemoryGiB");
    const double spot = num(row, "SpotPrice");
    if (!row.at("AcceleratorName").empty() || !(cpus >= 8) || !(mem >= 4 * cpus)
        || std::isnan(spot) || spot == 0)
      continue;
    auto& e = expected.try_emplace(row.at("Region"), HUGE_VAL).first->second;
    e = std::min(e, spot);
  }
  REQUIRE(expected.size() > 10);
  resources_spec r;
  r.cpus = task::cpus_spec{8, true};
  r.use_spot = true;
  auto rank = run(*real, r, {"azure"});
  CHECK(by_region(rank) == expected);
}

TEST_CASE("real catalogs: gcp A100:8 = a2-highgpu-8g + GPU, cheapest zone "
          "per region, spot per zone") {
  SKIP_WITHOUT_CATALOGS();
  std::map<std::string, std::pair<double, double>> host; // zone -> prices
  std::map<std::string, std::string> region_of;
  std::map<std::string, std::pair<double, double>> accel;
  for (const auto& row : read_raw(real->dir / "gcp" / "vms.csv")) {
    const auto& zone = row.at("AvailabilityZone");
    region_of[zone] = row.at("Region");
    if (row.at("InstanceType") == "a2-highgpu-8g")
      host[zone] = {num(row, "Price"), num(row, "SpotPrice")};
    if (row.at("InstanceType").empty() && row.at("AcceleratorName") == "A100"
        && num(row, "AcceleratorCount") == 8)
      accel[zone] = {num(row, "Price"), num(row, "SpotPrice")};
  }
  std::map<std::string, double> on_demand, spot;
  for (const auto& [zone, g] : accel) {
    auto h = host.find(zone);
    if (h == host.end())
      continue;
    const auto& region = region_of[zone];
    const double p = h->second.first + g.first;
    auto& e = on_demand.try_emplace(region, HUGE_VAL).first->second;
    e = std::min(e, p);
    const double s = h->second.second + g.second;
    if (!std::isnan(s))
      spot[region + "/" + zone] = s;
  }
  REQUIRE(on_demand.size() > 3);
  resources_spec r;
  r.accelerators = {gpu("A100", 8)};
  auto rank = run(*real, r, {"gcp"});
  auto got = by_region(rank);
  REQUIRE(got.size() == on_demand.size());
  for (const auto& [region, price] : on_demand) {
    INFO(region);
    CHECK(got[region] == Approx(price).epsilon(1e-12));
  }
  for (const auto& c : rank.candidates)
    CHECK(c.instance_type == "a2-highgpu-8g");
  r.use_spot = true;
  auto srank = run(*real, r, {"gcp"});
  auto sgot = by_region(srank);
  REQUIRE(sgot.size() == spot.size());
  for (const auto& [zone, price] : spot) {
    INFO(zone);
    CHECK(sgot[zone] == Approx(price).epsilon(1e-12));
  }
}

TEST_CASE("real catalogs: vast regions can be filtered by country code") {
  SKIP_WITHOUT_CATALOGS();
  std::set<std::string> tw;
  for (const auto& row : read_raw(real->dir / "vast" / "vms.csv"))
    if (row.at("Region").find(", TW, ") != std::string::npos
        && row.at("AcceleratorName") == "RTX4090"
        && num(row, "AcceleratorCount") == 8)
      tw.insert(row.at("Region"));
  REQUIRE_FALSE(tw.empty());
  resources_spec r;
  r.accelerators = {gpu("RTX4090", 8)};
  r.infra = task::infra_spec{"vast", "TW", ""};
  auto rank = run(*real, r, {"vast"});
  std::set<std::string> got;
  for (const auto& c : rank.candidates)
    got.insert(c.region);
  CHECK(got == tw);
}

namespace {

/// The request rules restated independently (docs/OPTIMIZER.md), for the
/// property test below.
struct request {
  std::optional<accelerator_spec> acc;
  std::optional<task::cpus_spec> cpus;
  std::optional<task::memory_spec> memory;
  bool spot = false;
};

bool feasible(const catalog& cat, const offer& o, const request& q,
              name_id acc_id) {
  std::optional<task::cpus_spec> cpus = q.cpus;
  std::optional<task::memory_spec> memory = q.memory;
  if (q.acc) {
    // Same count, or a whole device for a fraction of one.
    const bool count_ok
      = std::abs(o.accelerator_count - q.acc->count) <= 0.01
        || (q.acc->count < 1 && std::abs(o.accelerator_count - 1) <= 0.01);
    if (o.accelerator != acc_id || !count_ok)
      return false;
    if (o.default_host_vcpus != 0 && !q.cpus && !q.memory) {
      cpus = task::cpus_spec{double(o.default_host_vcpus), true};
      memory = task::memory_spec{4.0 * o.default_host_vcpus,
                                 task::memory_spec::kind::at_least};
    } else if (o.default_host_vcpus != 0 && q.cpus && !q.memory) {
      memory = task::memory_spec{4.0 * q.cpus->value,
                                 task::memory_spec::kind::at_least};
    }
  } else {
    if (o.accelerator != 0)
      return false;
    if (!cpus && !memory)
      cpus = task::cpus_spec{8, true};
    if (!memory)
      memory = task::memory_spec{4, task::memory_spec::kind::per_cpu};
  }
  if (cpus
      && !(cpus->at_least ? o.vcpus >= cpus->value : o.vcpus == cpus->value))
    return false;
  if (memory) {
    using k = task::memory_spec::kind;
    double need
      = memory->mode == k::per_cpu ? memory->value * o.vcpus : memory->value;
    if (!(memory->mode == k::exact ? o.memory_gib == need
                                   : o.memory_gib >= need - 1e-9))
      return false;
  }
  (void) cat;
  return !std::isnan(q.spot ? o.spot_price : o.price);
}

} // namespace

TEST_CASE("real catalogs: property: nothing feasible is cheaper than the "
          "pick, and every region's pick is its cheapest") {
  SKIP_WITHOUT_CATALOGS();
  const auto& cat = real->loaded.cat;
  const std::vector<std::string> all_clouds{"gcp", "azure", "lambda", "vast"};
  // Accelerators (name, count) that exist, to draw requests from.
  std::vector<std::pair<std::string, double>> gpus;
  {
    std::set<std::pair<std::string, double>> seen;
    for (const auto& o : cat.offers())
      if (o.accelerator != 0 && (o.flags & tpu_vm) == 0)
        seen.emplace(std::string{cat.name(o.accelerator)}, o.accelerator_count);
    gpus.assign(seen.begin(), seen.end());
  }
  std::mt19937 rng{20240611};
  auto pick = [&](size_t n) {
    return std::uniform_int_distribution<size_t>{0, n - 1}(rng);
  };
  const double cpu_choices[] = {1, 2, 4, 8, 16, 32, 64, 96};
  const double mem_choices[] = {2, 4, 8, 16, 32, 64, 128, 256};
  size_t feasible_requests = 0;
  for (int iter = 0; iter < 300; ++iter) {
    request q;
    resources_spec r;
    if (pick(2) == 0) {
      auto [name, count] = gpus[pick(gpus.size())];
      q.acc = gpu(name, count);
      r.accelerators = {*q.acc};
    }
    if (pick(3) == 0) {
      q.cpus = task::cpus_spec{cpu_choices[pick(8)], pick(4) != 0};
      r.cpus = q.cpus;
    }
    if (pick(3) == 0) {
      auto mode = static_cast<task::memory_spec::kind>(pick(3));
      double v = mode == task::memory_spec::kind::per_cpu
                   ? double(1 + pick(8))
                   : mem_choices[pick(8)];
      q.memory = task::memory_spec{v, mode};
      r.memory = q.memory;
    }
    q.spot = pick(3) == 0;
    r.use_spot = q.spot;
    std::vector<std::string> clouds;
    for (const auto& c : all_clouds)
      if (pick(3) != 0)
        clouds.push_back(c);
    if (clouds.empty())
      clouds.push_back(all_clouds[pick(all_clouds.size())]);
    auto rank = run(*real, r, clouds);

    // Brute force: cheapest feasible offer per region (zone for spot).
    name_id acc_id = 0;
    if (q.acc)
      acc_id = *cat.canonical_accelerator(q.acc->name);
    std::map<std::string, double> expected;
    for (const auto& cloud : clouds) {
      const auto* entry = cat.cloud(cloud);
      REQUIRE(entry != nullptr);
      for (const auto& o : cat.offers_of(*entry)) {
        if (!feasible(cat, o, q, acc_id))
          continue;
        std::string key = cloud + "/" + std::string{cat.name(o.region)};
        if (q.spot && o.zone != 0)
          key += "/" + std::string{cat.name(o.zone)};
        auto& e = expected.try_emplace(key, HUGE_VAL).first->second;
        e = std::min(e, q.spot ? o.spot_price : o.price);
      }
    }
    std::map<std::string, double> got;
    for (const auto& c : rank.candidates)
      got[c.infra()] = c.hourly_price;
    INFO("iteration " << iter << ": " << (q.acc ? to_string(*q.acc) : "cpu")
                      << (q.spot ? " spot" : ""));
    REQUIRE(got.size() == expected.size());
    for (const auto& [where, price] : expected) {
      INFO(where);
      REQUIRE(got.count(where) == 1);
      CHECK(got[where] == price);
    }
    if (!rank.candidates.empty()) {
      ++feasible_requests;
      double cheapest = HUGE_VAL;
      for (const auto& [where, price] : expected)
        cheapest = std::min(cheapest, price);
      CHECK(rank.candidates.front().hourly_price == cheapest);
      for (size_t i = 1; i < rank.candidates.size(); ++i)
        CHECK(rank.candidates[i - 1].hourly_price
              <= rank.candidates[i].hourly_price);
    } else {
      CHECK_FALSE(rank.exclusions.empty());
    }
  }
  // The draw must exercise feasible requests, not only failures.
  CHECK(feasible_requests > 100);
}
