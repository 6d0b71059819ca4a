// GCP prices accelerators apart from the VM they attach to: in gcp/vms.csv a
// GPU or TPU row has an empty InstanceType. A launchable offer is a host VM
// plus the accelerator, priced as the sum. Which hosts an accelerator may
// attach to follows SkyPilot's GCP catalog (sky/catalog/gcp_catalog.py, and
// https://cloud.google.com/compute/docs/gpus):
//  - A100, A100-80GB, L4, H100, H100-MEGA, H200 and B200 come only in fixed
//    accelerator-optimized shapes (a2, g2, a3, a4 families), one list of
//    machine types per GPU count;
//  - other GPUs (T4, V100, P100, P4, K80) attach to general-purpose N1 VMs
//    (n1-standard/highmem/highcpu) of any shape up to a per-count limit of
//    vCPUs and memory; with no cpus/memory requested SkyPilot picks a host
//    with a default vCPU count (and 4 GiB per vCPU);
//  - TPUs run as TPU VMs whose host costs nothing extra.

#include <algorithm>
#include <cmath>
#include <string_view>
#include <unordered_map>

#include "optimizer/placement/catalog_internal.hpp"

namespace sky::optimizer::detail {

namespace {

struct fixed_shape {
  std::string_view accelerator;
  int count;
  std::string_view instance_type;
};

// clang-format off
constexpr fixed_shape fixed_shapes[] = {
  {"A100", 1, "a2-highgpu-1g"},
  {"A100", 2, "a2-highgpu-2g"},
  {"A100", 4, "a2-highgpu-4g"},
  {"A100", 8, "a2-highgpu-8g"},
  {"A100", 16, "a2-megagpu-16g"},
  {"A100-80GB", 1, "a2-ultragpu-1g"},
  {"A100-80GB", 2, "a2-ultragpu-2g"},
  {"A100-80GB", 4, "a2-ultragpu-4g"},
  {"A100-80GB", 8, "a2-ultragpu-8g"},
  {"L4", 1, "g2-standard-4"},
  {"L4", 1, "g2-standard-8"},
  {"L4", 1, "g2-standard-12"},
  {"L4", 1, "g2-standard-16"},
  {"L4", 1, "g2-standard-32"},
  {"L4", 2, "g2-standard-24"},
  {"L4", 4, "g2-standard-48"},
  {"L4", 8, "g2-standard-96"},
  {"H100", 1, "a3-highgpu-1g"},
  {"H100", 2, "a3-highgpu-2g"},
  {"H100", 4, "a3-highgpu-4g"},
  {"H100", 8, "a3-highgpu-8g"},
  {"H100-MEGA", 8, "a3-megagpu-8g"},
  {"H200", 8, "a3-ultragpu-8g"},
  {"B200", 8, "a4-highgpu-8g"},
};
// clang-format on

/// GPUs on N1 hosts: default host vCPUs and the largest host allowed.
struct n1_limit {
  std::string_view accelerator;
  int count;
  uint16_t default_vcpus;
  double max_vcpus;
  double max_memory_gib;
};

// clang-format off
// accelerator, count, default host vCPUs, max vCPUs, max memory GiB
constexpr n1_limit n1_limits[] = {
  {"K80", 1, 4, 8, 52},
  {"K80", 2, 8, 16, 104},
  {"K80", 4, 16, 32, 208},
  {"K80", 8, 32, 64, 208},
  {"V100", 1, 8, 12, 78},
  {"V100", 2, 16, 24, 156},
  {"V100", 4, 32, 48, 312},
  {"V100", 8, 64, 96, 624},
  {"T4", 1, 4, 48, 312},
  {"T4", 2, 8, 48, 312},
  {"T4", 4, 48, 96, 624},
  {"P4", 1, 8, 24, 156},
  {"P4", 2, 16, 48, 312},
  {"P4", 4, 32, 96, 624},
  {"P100", 1, 8, 16, 104},
  {"P100", 2, 16, 32, 208},
  {"P100", 4, 32, 96, 624},
};
// clang-format on

/// SkyPilot's default host vCPUs for GPUs it has no table for (by count).
uint16_t default_n1_vcpus(int count) {
  switch (count) {
    case 1:
      return 8;
    case 2:
      return 16;
    case 4:
      return 32;
    case 8:
      return 64;
    case 16:
      return 128;
    default:
      return 0;
  }
}

/// Accelerator-optimized families: their VMs always come with GPUs, so a
/// host row alone (priced without the GPUs) is not a launchable offer.
constexpr std::string_view gpu_only_families[] = {"a2-", "a3-", "a4-", "g2-"};

bool is_gpu_only_family(std::string_view type) {
  return std::any_of(std::begin(gpu_only_families), std::end(gpu_only_families),
                     [&](std::string_view p) { return type.starts_with(p); });
}

bool is_n1_general_purpose(std::string_view type) {
  return type.starts_with("n1-standard-") || type.starts_with("n1-highmem-")
         || type.starts_with("n1-highcpu-");
}

bool integral(double count, int& out) {
  out = static_cast<int>(count + 0.5);
  return out > 0 && std::abs(count - out) < 1e-6;
}

offer combine(const offer& host, const gcp_accelerator_row& a) {
  offer o = host;
  o.accelerator = a.accelerator;
  o.accelerator_count = a.count;
  o.device_memory_gib = a.device_memory_gib;
  // NaN (no price) on either side makes the sum NaN: no such offer.
  o.price = host.price + a.price;
  o.spot_price = host.spot_price + a.spot_price;
  return o;
}

} // namespace

void pair_gcp_accelerators(builder_state& st, cloud_rows& rows,
                           const std::vector<gcp_accelerator_row>& accels) {
  // Host VMs by zone (only plain VM rows: no accelerator yet).
  std::unordered_map<name_id, std::vector<size_t>> hosts_by_zone;
  for (size_t i = 0; i < rows.offers.size(); ++i) {
    const auto& o = rows.offers[i];
    if (o.accelerator == 0 && (o.flags & tpu_vm) == 0)
      hosts_by_zone[o.zone].push_back(i);
  }
  const name_id tpu_vm_type = st.names.intern("TPU-VM");
  std::vector<offer> added;
  for (const auto& a : accels) {
    auto name = st.names.view(a.accelerator);
    if (to_lower(name).starts_with("tpu-")) {
      offer o;
      o.cloud = rows.cloud;
      o.region = a.region;
      o.zone = a.zone;
      o.instance_type = tpu_vm_type;
      o.accelerator = a.accelerator;
      o.accelerator_count = a.count;
      o.device_memory_gib = a.device_memory_gib;
      o.price = a.price;
      o.spot_price = a.spot_price;
      o.flags = tpu_vm;
      added.push_back(o);
      continue;
    }
    int count = 0;
    if (!integral(a.count, count))
      continue;
    auto zone_hosts = hosts_by_zone.find(a.zone);
    if (zone_hosts == hosts_by_zone.end())
      continue;
    bool has_fixed_shape = false;
    for (const auto& f : fixed_shapes) {
      if (f.accelerator != name)
        continue;
      has_fixed_shape = true;
      if (f.count != count)
        continue;
      for (size_t h : zone_hosts->second) {
        const auto& host = rows.offers[h];
        if (st.names.view(host.instance_type) == f.instance_type)
          added.push_back(combine(host, a));
      }
    }
    if (has_fixed_shape)
      continue;
    // A GPU for N1 hosts. Without a limit table entry for this GPU SkyPilot
    // uses its DEFAULT row; with a table but not this count, GCP does not
    // offer the combination.
    const n1_limit* limit = nullptr;
    bool known = false;
    for (const auto& l : n1_limits) {
      if (l.accelerator != name)
        continue;
      known = true;
      if (l.count == count)
        limit = &l;
    }
    if (known && limit == nullptr)
      continue;
    uint16_t default_vcpus
      = limit ? limit->default_vcpus : default_n1_vcpus(count);
    for (size_t h : zone_hosts->second) {
      const auto& host = rows.offers[h];
      if (!is_n1_general_purpose(st.names.view(host.instance_type)))
        continue;
      if (limit != nullptr
          && (host.vcpus > limit->max_vcpus
              || host.memory_gib > limit->max_memory_gib))
        continue;
      offer o = combine(host, a);
      o.flags |= attached_accelerator;
      o.default_host_vcpus = default_vcpus;
      added.push_back(o);
    }
  }
  // Drop host rows of GPU-only families: only their combined offers launch.
  auto& v = rows.offers;
  v.erase(std::remove_if(v.begin(), v.end(),
                         [&](const offer& o) {
                           return o.accelerator == 0
                                  && is_gpu_only_family(
                                    st.names.view(o.instance_type));
                         }),
          v.end());
  v.insert(v.end(), added.begin(), added.end());
}

} // namespace sky::optimizer::detail
