#include <catch2/catch.hpp>

#include <algorithm>
#include <cmath>
#include <map>

#include "optimizer/placement/catalog.hpp"
#include "optimizer/placement/optimizer.hpp"
#include "tests/unit/optimizer/fixtures.hpp"

using namespace sky;
using namespace sky::optimizer;
using namespace sky::optimizer::testing;

namespace {

std::string gcp_fixture() {
  const std::string mem40 = "{'Gpus': [{'MemoryInfo': {'SizeInMiB': 40960}}]}";
  const std::string mem16 = "{'Gpus': [{'MemoryInfo': {'SizeInMiB': 16384}}]}";
  const std::string mem24 = "{'Gpus': [{'MemoryInfo': {'SizeInMiB': 24576}}]}";
  return std::string{gcp_header}
         + "n1-standard-4,4.0,15.0,,,,us-central1,us-central1-a,0.19,0.04\n"
           "n1-highmem-4,4.0,26.0,,,,us-central1,us-central1-a,0.24,0.05\n"
           "n1-standard-8,8.0,30.0,,,,us-central1,us-central1-a,0.38,0.08\n"
           // Larger than T4:1 may attach to (48 vCPUs, 312 GB).
           "n1-standard-64,64.0,240.0,,,,us-central1,us-central1-a,3.04,0.64\n"
           // N2 never takes GPUs.
           "n2-standard-8,8.0,32.0,,,,us-central1,us-central1-a,0.39,0.09\n"
           "a2-highgpu-1g,12.0,85.0,,,,us-central1,us-central1-a,0.73,0.22\n"
           // No spot for the host in zone b: no spot for the pair there.
           "a2-highgpu-1g,12.0,85.0,,,,us-central1,us-central1-b,0.73,\n"
           // No A100-80GB row: this host alone is not an offer.
           "a2-ultragpu-1g,12.0,170.0,,,,us-central1,us-central1-a,1.2,0.4\n"
           "g2-standard-4,4.0,16.0,,,,us-central1,us-central1-a,0.19,0.06\n"
           "g2-standard-8,8.0,32.0,,,,us-central1,us-central1-a,0.28,0.09\n"
           // g2-standard-24 comes with 2 L4s, not 1.
           "g2-standard-24,24.0,96.0,,,,us-central1,us-central1-a,1.0,0.3\n"
           ",,,A100,1,"
         + mem40 + ",us-central1,us-central1-a,1.70,0.50\n,,,A100,1," + mem40
         + ",us-central1,us-central1-b,1.70,0.52\n,,,T4,1,\"" + mem16
         + "\",us-central1,us-central1-a,0.35,0.11\n,,,L4,1," + mem24
         + ",us-central1,us-central1-a,0.56,0.20\n"
           // No host VMs in zone c: nothing to attach to.
           ",,,T4,1,"
         + mem16
         + ",us-central1,us-central1-c,0.35,0.11\n"
           ",,,tpu-v5litepod-8,1,tpu-v5litepod-8,us-central1,us-central1-a,"
           "9.6,3.4\n";
}

struct loaded {
  catalog_load_result r;
  std::multimap<std::string, const offer*> by_type;
};

loaded load_gcp() {
  catalog_builder b;
  b.add_vms_csv("gcp", gcp_fixture(), "gcp/vms.csv");
  loaded l{std::move(b).finish(), {}};
  for (const auto& o : l.r.cat.offers())
    l.by_type.emplace(std::string{l.r.cat.name(o.instance_type)}, &o);
  return l;
}

} // namespace

TEST_CASE("gcp: A100 pairs with its fixed a2 shape, priced host + GPU") {
  auto l = load_gcp();
  const auto& cat = l.r.cat;
  CHECK(l.r.diagnostics.empty());
  auto range = l.by_type.equal_range("a2-highgpu-1g");
  std::map<std::string, const offer*> by_zone;
  for (auto it = range.first; it != range.second; ++it)
    by_zone[std::string{cat.name(it->second->zone)}] = it->second;
  REQUIRE(by_zone.size() == 2);
  const offer* a = by_zone["us-central1-a"];
  CHECK(cat.name(a->accelerator) == "A100");
  CHECK(a->accelerator_count == 1);
  CHECK(a->vcpus == 12);
  CHECK(a->memory_gib == 85);
  CHECK(a->price == Approx(0.73 + 1.70));
  CHECK(a->spot_price == Approx(0.22 + 0.50));
  CHECK(a->device_memory_gib == 40);
  CHECK(a->default_host_vcpus == 0);
  const offer* b = by_zone["us-central1-b"];
  CHECK(b->price == Approx(2.43));
  CHECK_FALSE(b->has_spot());
  // The ultragpu host had no A100-80GB to carry: gone.
  CHECK(l.by_type.count("a2-ultragpu-1g") == 0);
}

TEST_CASE("gcp: T4 attaches to N1 hosts within GCP's limits only") {
  auto l = load_gcp();
  const auto& cat = l.r.cat;
  std::vector<std::string> hosts;
  for (const auto& o : cat.offers()) {
    if (o.accelerator != 0 && cat.name(o.accelerator) == "T4") {
      hosts.emplace_back(cat.name(o.instance_type));
      CHECK((o.flags & attached_accelerator) != 0);
      CHECK(o.default_host_vcpus == 4); // SkyPilot's default for T4:1
      CHECK(cat.name(o.zone) == "us-central1-a");
    }
  }
  std::sort(hosts.begin(), hosts.end());
  CHECK(hosts
        == std::vector<std::string>{"n1-highmem-4", "n1-standard-4",
                                    "n1-standard-8"});
  auto n1 = l.by_type.equal_range("n1-standard-4");
  bool plain = false, with_t4 = false;
  for (auto it = n1.first; it != n1.second; ++it) {
    if (it->second->accelerator == 0)
      plain = true;
    else {
      with_t4 = true;
      CHECK(it->second->price == Approx(0.19 + 0.35));
      CHECK(it->second->spot_price == Approx(0.04 + 0.11));
    }
  }
  CHECK(plain);
  CHECK(with_t4);
}

TEST_CASE("gcp: L4 goes on g2 shapes for its count, TPUs are TPU VMs") {
  auto l = load_gcp();
  const auto& cat = l.r.cat;
  std::vector<std::string> l4_hosts;
  for (const auto& o : cat.offers())
    if (o.accelerator != 0 && cat.name(o.accelerator) == "L4")
      l4_hosts.emplace_back(cat.name(o.instance_type));
  std::sort(l4_hosts.begin(), l4_hosts.end());
  CHECK(l4_hosts == std::vector<std::string>{"g2-standard-4", "g2-standard-8"});
  // g2 rows never stand alone (they are not CPU-only offers).
  for (const auto& o : cat.offers())
    if (cat.name(o.instance_type).starts_with("g2-"))
      CHECK(o.accelerator != 0);
  auto tpu = l.by_type.equal_range("TPU-VM");
  REQUIRE(std::distance(tpu.first, tpu.second) == 1);
  const offer* t = tpu.first->second;
  CHECK(cat.name(t->accelerator) == "tpu-v5litepod-8");
  CHECK(t->price == 9.6);
  CHECK(std::isnan(t->vcpus));
  CHECK((t->flags & tpu_vm) != 0);
  // 5 plain VMs + 2 A100 + 3 T4 + 2 L4 + 1 TPU.
  CHECK(cat.offers().size() == 13);
}

TEST_CASE("gcp: a GPU on N1 without cpus/memory gets SkyPilot's default "
          "host") {
  auto l = load_gcp();
  enabled_infra infra{{"gcp"}, {}};
  task::resources_spec r;
  r.accelerators = {gpu("t4", 1)};
  auto rank = optimize_resources(r, 1, l.r.cat, infra);
  REQUIRE(rank);
  REQUIRE(rank->feasible());
  // At least 4 vCPUs and 16 GiB: n1-standard-4 (15 GiB) is too small,
  // n1-highmem-4 (0.24 + 0.35) beats n1-standard-8 (0.38 + 0.35).
  CHECK(rank->candidates[0].instance_type == "n1-highmem-4");
  CHECK(rank->candidates[0].accelerator == "T4");
  CHECK(rank->candidates[0].hourly_price == Approx(0.59));
  CHECK(rank->candidates[0].zones == std::vector<std::string>{"us-central1-a"});

  // cpus given, memory not: 4 GiB per requested vCPU (n1-standard-8 has 30).
  r.cpus = task::cpus_spec{8, false};
  rank = optimize_resources(r, 1, l.r.cat, infra);
  REQUIRE(rank);
  CHECK_FALSE(rank->feasible());
  REQUIRE(rank->exclusions.size() == 1);
  CHECK(rank->exclusions[0].reason
        == "gcp: no instance type with 8 vCPUs and T4");
  r.memory = task::memory_spec{30, task::memory_spec::kind::exact};
  rank = optimize_resources(r, 1, l.r.cat, infra);
  REQUIRE(rank);
  REQUIRE(rank->feasible());
  CHECK(rank->candidates[0].instance_type == "n1-standard-8");

  // A bare instance type is the plain VM, not the VM with a T4.
  task::resources_spec plain;
  plain.instance_type = "n1-standard-4";
  rank = optimize_resources(plain, 1, l.r.cat, infra);
  REQUIRE(rank);
  REQUIRE(rank->candidates.size() == 1);
  CHECK(rank->candidates[0].accelerator.empty());
  CHECK(rank->candidates[0].hourly_price == Approx(0.19));
  // ...while an a2 type implies its A100.
  plain.instance_type = "a2-highgpu-1g";
  rank = optimize_resources(plain, 1, l.r.cat, infra);
  REQUIRE(rank);
  REQUIRE(rank->candidates.size() == 1);
  CHECK(rank->candidates[0].accelerator == "A100");
  CHECK(rank->candidates[0].zones
        == std::vector<std::string>{"us-central1-a", "us-central1-b"});
}
