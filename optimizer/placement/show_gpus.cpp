#include "optimizer/placement/show_gpus.hpp"

#include <algorithm>
#include <charconv>
#include <cmath>
#include <map>
#include <tuple>

namespace sky::optimizer {

namespace {

std::string lower(std::string_view s) {
  std::string out{s};
  for (auto& c : out)
    if (c >= 'A' && c <= 'Z')
      c = static_cast<char>(c - 'A' + 'a');
  return out;
}

bool name_passes(std::string_view name, const gpu_filter& f) {
  return f.name.empty() || lower(name).find(lower(f.name)) != std::string::npos;
}

bool count_passes(double count, const gpu_filter& f) {
  return !f.count || std::abs(count - *f.count) <= 0.01;
}

} // namespace

result<gpu_filter> parse_gpu_filter(std::string_view text) {
  gpu_filter f;
  auto colon = text.rfind(':');
  f.name = std::string{text.substr(0, colon)};
  if (colon != std::string_view::npos) {
    auto num = text.substr(colon + 1);
    double v = 0;
    auto [ptr, ec] = std::from_chars(num.data(), num.data() + num.size(), v);
    if (ec != std::errc{} || ptr != num.data() + num.size() || !(v > 0)
        || !std::isfinite(v))
      return sky::make_error(errc::invalid_argument,
                             "bad accelerator count '" + std::string{num}
                               + "' in '" + std::string{text} + "'",
                             "use NAME or NAME:COUNT, e.g. A100:8");
    f.count = v;
  }
  if (f.name.empty() && f.count)
    return sky::make_error(errc::invalid_argument,
                           "missing accelerator name in '" + std::string{text}
                             + "'",
                           "use NAME or NAME:COUNT, e.g. A100:8");
  return f;
}

std::vector<gpu_listing> show_gpus(const catalog& cat,
                                   const enabled_infra& infra,
                                   const gpu_filter& filter) {
  // (accelerator, count, cloud, region) -> cheapest offers.
  using key = std::tuple<std::string, double, std::string, std::string>;
  std::map<key, gpu_offer> best;
  for (const auto& cloud_name : infra.clouds) {
    const auto cloud = lower(cloud_name);
    if (!filter.infra.empty() && !iequals(filter.infra, cloud))
      continue;
    const cloud_entry* entry = cat.cloud(cloud);
    if (entry == nullptr)
      continue;
    for (const auto& o : cat.offers_of(*entry)) {
      if (o.accelerator == 0)
        continue;
      auto name = cat.name(o.accelerator);
      auto region = cat.name(o.region);
      if (!name_passes(name, filter)
          || !count_passes(o.accelerator_count, filter)
          || (!filter.region.empty() && !iequals(filter.region, region)))
        continue;
      auto& b = best[key{std::string{name}, o.accelerator_count, cloud,
                         std::string{region}}];
      b.cloud = cloud;
      b.region = std::string{region};
      b.count = o.accelerator_count;
      auto type = cat.name(o.instance_type);
      if (o.has_price()
          && (!b.price || o.price < *b.price
              || (o.price == *b.price && type < b.instance_type))) {
        b.price = o.price;
        b.instance_type = std::string{type};
        b.vcpus = o.vcpus;
        b.memory_gib = o.memory_gib;
      }
      if (o.has_spot()
          && (!b.spot_price || o.spot_price < *b.spot_price
              || (o.spot_price == *b.spot_price
                  && type < b.spot_instance_type))) {
        b.spot_price = o.spot_price;
        b.spot_instance_type = std::string{type};
        if (!b.price) {
          b.vcpus = o.vcpus;
          b.memory_gib = o.memory_gib;
        }
      }
    }
  }
  // Free GPUs of fixed-capacity infra cost nothing.
  for (const auto& f : infra.fixed) {
    if (!filter.infra.empty() && !iequals(filter.infra, f.provider))
      continue;
    if (!filter.region.empty() && !iequals(filter.region, f.name))
      continue;
    for (const auto& node : f.nodes) {
      for (const auto& g : node.gpus) {
        auto canonical = cat.canonical_accelerator(g.name);
        std::string name
          = canonical ? std::string{cat.name(*canonical)} : g.name;
        if (g.count <= 0 || !name_passes(name, filter)
            || !count_passes(g.count, filter))
          continue;
        auto& b = best[key{name, g.count, f.provider, f.name}];
        b.cloud = f.provider;
        b.region = f.name;
        b.count = g.count;
        b.price = 0.0;
        b.vcpus = node.vcpus;
        b.memory_gib = node.memory_gib;
      }
    }
  }

  std::map<std::string, gpu_listing> by_name;
  for (auto& [k, offer] : best) {
    const auto& name = std::get<0>(k);
    auto& l = by_name[name];
    l.name = name;
    l.counts.push_back(offer.count);
    l.offers.push_back(std::move(offer));
  }
  std::vector<gpu_listing> out;
  for (auto& [name, l] : by_name) {
    std::sort(l.counts.begin(), l.counts.end());
    l.counts.erase(std::unique(l.counts.begin(), l.counts.end()),
                   l.counts.end());
    if (auto id = cat.canonical_accelerator(name))
      l.device_memory_gib = cat.device_memory_gib(*id);
    std::stable_sort(
      l.offers.begin(), l.offers.end(),
      [](const gpu_offer& a, const gpu_offer& b) {
        const double inf = HUGE_VAL;
        return std::make_tuple(a.count, a.price.value_or(inf),
                               a.spot_price.value_or(inf), a.cloud, a.region)
               < std::make_tuple(b.count, b.price.value_or(inf),
                                 b.spot_price.value_or(inf), b.cloud, b.region);
      });
    out.push_back(std::move(l));
  }
  return out;
}

} // namespace sky::optimizer
