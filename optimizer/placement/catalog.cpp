#include "optimizer/placement/catalog.hpp"

#include <algorithm>
#include <cstdio>
#include <map>

#include "optimizer/placement/catalog_internal.hpp"
#include "optimizer/placement/csv.hpp"

namespace sky::optimizer {

using detail::builder_state;
using detail::to_lower;

// -- catalog ----------------------------------------------------------------

std::string catalog_diagnostic::to_string() const {
  return file + ":" + std::to_string(line) + ": " + reason;
}

const cloud_entry* catalog::cloud(std::string_view name) const {
  auto id = names_.find(name);
  if (!id)
    return nullptr;
  for (const auto& c : clouds_)
    if (c.name == *id)
      return &c;
  return nullptr;
}

std::optional<name_id>
catalog::canonical_accelerator(std::string_view name) const {
  auto key = to_lower(name);
  auto it = std::lower_bound(
    accelerator_index_.begin(), accelerator_index_.end(), key,
    [](const auto& entry, const std::string& k) { return entry.first < k; });
  if (it == accelerator_index_.end() || it->first != key)
    return std::nullopt;
  return accelerators_[it->second].name;
}

std::optional<double> catalog::device_memory_gib(name_id name) const {
  for (const auto& a : accelerators_)
    if (a.name == name && !std::isnan(a.device_memory_gib))
      return a.device_memory_gib;
  return std::nullopt;
}

std::string_view catalog::manufacturer(name_id name) const {
  for (const auto& a : accelerators_)
    if (a.name == name)
      return a.manufacturer;
  return {};
}

// -- builder state ----------------------------------------------------------

namespace detail {

cloud_rows& builder_state::rows_of(name_id cloud) {
  for (auto& c : clouds)
    if (c.cloud == cloud)
      return c;
  clouds.push_back(cloud_rows{cloud, {}});
  return clouds.back();
}

name_id builder_state::canonical_accelerator(std::string_view name) {
  auto key = to_lower(name);
  if (auto it = accelerator_by_lower.find(key);
      it != accelerator_by_lower.end())
    return it->second;
  auto id = names.intern(name);
  accelerator_by_lower.emplace(std::move(key), id);
  return id;
}

} // namespace detail

struct catalog_builder::state : builder_state {};

catalog_builder::catalog_builder() : state_(std::make_unique<state>()) {}
catalog_builder::~catalog_builder() = default;
catalog_builder::catalog_builder(catalog_builder&&) noexcept = default;
catalog_builder&
catalog_builder::operator=(catalog_builder&&) noexcept = default;

void catalog_builder::add_vms_csv(std::string_view cloud, std::string text,
                                  std::string_view file) {
  auto& st = *state_;
  catalog_file_stats stats;
  stats.cloud = std::string{cloud};
  stats.file = std::string{file};
  auto& rows = st.rows_of(st.names.intern(cloud));
  const size_t before = rows.offers.size();
  std::vector<detail::gcp_accelerator_row> accels;
  detail::parse_vms_csv(st, cloud, std::move(text), file, stats, accels);
  // `rows` is still valid: the cloud's entry exists, so parsing added none.
  if (cloud == "gcp")
    detail::pair_gcp_accelerators(st, rows, accels);
  stats.offers = rows.offers.size() >= before ? rows.offers.size() - before : 0;
  st.files.push_back(std::move(stats));
}

void catalog_builder::add_accelerators_csv(std::string text,
                                           std::string_view file) {
  auto& st = *state_;
  csv_reader reader{std::move(text)};
  csv_record rec;
  if (!reader.next(rec))
    return;
  size_t name_col = rec.fields.size();
  for (size_t i = 0; i < rec.fields.size(); ++i)
    if (to_lower(rec.fields[i]) == "acceleratorname")
      name_col = i;
  if (name_col == rec.fields.size()) {
    st.diagnostics.push_back(catalog_diagnostic{
      std::string{file}, rec.line,
      "missing column 'AcceleratorName' in the header; file skipped"});
    return;
  }
  while (reader.next(rec)) {
    if (!rec.error.empty() || rec.fields.size() <= name_col
        || rec.fields[name_col].empty()) {
      st.diagnostics.push_back(catalog_diagnostic{
        std::string{file}, rec.line,
        rec.error.empty() ? "no accelerator name" : rec.error});
      continue;
    }
    st.canonical_accelerator(rec.fields[name_col]);
  }
}

catalog_load_result catalog_builder::finish() && {
  auto& st = *state_;
  catalog_load_result out;
  catalog& cat = out.cat;

  // Accelerators: canonical names and the most common device memory.
  for (const auto& [lower, id] : st.accelerator_by_lower) {
    accelerator_entry e;
    e.name = id;
    if (auto votes = st.memory_votes.find(id); votes != st.memory_votes.end()) {
      size_t best = 0;
      for (const auto& [mib, n] : votes->second) {
        if (n > best) { // ties keep the smaller size (map order)
          best = n;
          e.device_memory_gib = static_cast<double>(mib) / 1024.0;
        }
      }
    }
    e.manufacturer = detail::infer_manufacturer(st.names.view(id));
    if (auto votes = st.manufacturer_votes.find(id);
        votes != st.manufacturer_votes.end()) {
      size_t best = 0;
      for (const auto& [maker, n] : votes->second) {
        if (n > best) {
          best = n;
          e.manufacturer = maker;
        }
      }
    }
    cat.accelerators_.push_back(e);
  }
  std::sort(cat.accelerators_.begin(), cat.accelerators_.end(),
            [&](const auto& a, const auto& b) {
              return st.names.view(a.name) < st.names.view(b.name);
            });
  for (uint32_t i = 0; i < cat.accelerators_.size(); ++i)
    cat.accelerator_index_.emplace_back(
      to_lower(st.names.view(cat.accelerators_[i].name)), i);
  std::sort(cat.accelerator_index_.begin(), cat.accelerator_index_.end());
  std::map<name_id, double> memory_of;
  for (const auto& a : cat.accelerators_)
    memory_of[a.name] = a.device_memory_gib;

  // Offers, cloud by cloud, with dense region/zone indices.
  for (auto& rows : st.clouds) {
    cloud_entry entry;
    entry.name = rows.cloud;
    entry.begin = cat.offers_.size();
    std::vector<name_id> regions, zones;
    for (const auto& o : rows.offers) {
      regions.push_back(o.region);
      if (o.zone != 0)
        zones.push_back(o.zone);
    }
    auto by_name = [&](name_id a, name_id b) {
      return st.names.view(a) < st.names.view(b);
    };
    std::sort(regions.begin(), regions.end(), by_name);
    regions.erase(std::unique(regions.begin(), regions.end()), regions.end());
    std::sort(zones.begin(), zones.end(), by_name);
    zones.erase(std::unique(zones.begin(), zones.end()), zones.end());
    std::unordered_map<name_id, uint32_t> region_ix, zone_ix;
    for (uint32_t i = 0; i < regions.size(); ++i)
      region_ix[regions[i]] = i;
    for (uint32_t i = 0; i < zones.size(); ++i)
      zone_ix[zones[i]] = i;
    entry.has_zones = !zones.empty();
    entry.regions = regions;
    entry.zones = zones;
    entry.zone_region.assign(zones.size(), 0);
    // Region-level rows (every row of azure/lambda/vast, or a zonal cloud's
    // row without a zone) get one pseudo-zone per region, past the zones.
    const auto region_base = static_cast<uint32_t>(entry.zones.size());
    const bool any_region_level
      = std::any_of(rows.offers.begin(), rows.offers.end(),
                    [](const offer& o) { return o.zone == 0; });
    if (any_region_level) {
      for (uint32_t i = 0; i < regions.size(); ++i) {
        entry.zones.push_back(0);
        entry.zone_region.push_back(i);
      }
    }
    std::vector<name_id> accels;
    for (auto& o : rows.offers) {
      o.region_index = region_ix[o.region];
      if (o.zone != 0) {
        o.zone_index = zone_ix[o.zone];
        entry.zone_region[o.zone_index] = o.region_index;
      } else {
        o.zone_index = region_base + o.region_index;
      }
      if (o.accelerator != 0) {
        accels.push_back(o.accelerator);
        if (std::isnan(o.device_memory_gib)) {
          // Azure's GpuInfo is just a name: borrow the device memory other
          // catalogs report for the same accelerator.
          if (auto m = memory_of.find(o.accelerator); m != memory_of.end())
            o.device_memory_gib = m->second;
        }
      }
      cat.offers_.push_back(o);
    }
    std::sort(accels.begin(), accels.end(), by_name);
    accels.erase(std::unique(accels.begin(), accels.end()), accels.end());
    entry.accelerators = std::move(accels);
    entry.end = cat.offers_.size();
    cat.clouds_.push_back(std::move(entry));
  }
  cat.offers_.shrink_to_fit();
  cat.names_ = std::move(st.names);
  out.diagnostics = std::move(st.diagnostics);
  out.unlisted_diagnostics = st.unlisted_diagnostics;
  out.files = std::move(st.files);
  return out;
}

// -- files ------------------------------------------------------------------

result<std::string> read_text_file(const std::filesystem::path& path) {
  std::FILE* f = std::fopen(path.c_str(), "rb");
  if (f == nullptr)
    return sky::make_error(errc::not_found, "cannot open " + path.string(),
                           "check that the file exists and is readable");
  std::string text;
  char buf[1 << 16];
  size_t n = 0;
  while ((n = std::fread(buf, 1, sizeof buf, f)) > 0)
    text.append(buf, n);
  bool failed = std::ferror(f) != 0;
  std::fclose(f);
  if (failed)
    return sky::make_error(errc::invalid_argument,
                           "cannot read " + path.string());
  return text;
}

result<catalog_load_result>
load_catalogs(const std::filesystem::path& dir,
              const std::vector<std::string>& clouds) {
  namespace fs = std::filesystem;
  std::error_code ec;
  if (!fs::is_directory(dir, ec))
    return sky::make_error(
      errc::not_found, "catalog directory " + dir.string() + " does not exist",
      "set catalogs.dir to a folder holding "
      "<cloud>/vms.csv files");
  std::vector<std::string> wanted = clouds;
  if (wanted.empty()) {
    for (const auto& e : fs::directory_iterator(dir, ec))
      if (e.is_directory() && fs::is_regular_file(e.path() / "vms.csv"))
        wanted.push_back(e.path().filename().string());
    std::sort(wanted.begin(), wanted.end());
  }
  catalog_builder builder;
  auto accelerators = dir / "common" / "accelerators.csv";
  if (fs::is_regular_file(accelerators, ec)) {
    auto text = read_text_file(accelerators);
    if (!text)
      return text.error();
    builder.add_accelerators_csv(std::move(*text), accelerators.string());
  }
  for (const auto& cloud : wanted) {
    auto path = dir / cloud / "vms.csv";
    if (!fs::is_regular_file(path, ec))
      return sky::make_error(errc::not_found,
                             "no catalog for cloud '" + cloud
                               + "': " + path.string() + " does not exist",
                             "remove the cloud from sim.clouds or add its "
                             "vms.csv under catalogs.dir");
    auto text = read_text_file(path);
    if (!text)
      return text.error();
    builder.add_vms_csv(cloud, std::move(*text), path.string());
  }
  return std::move(builder).finish();
}

} // namespace sky::optimizer
