// Row-level parsing of SkyPilot `vms.csv` files: columns by header name,
// numbers checked, known defects of real catalogs tolerated.

#include <algorithm>
#include <array>
#include <charconv>
#include <cmath>
#include <optional>

#include "optimizer/placement/catalog_internal.hpp"
#include "optimizer/placement/csv.hpp"

namespace sky::optimizer::detail {

namespace {

enum column : size_t {
  col_instance_type,
  col_accelerator_name,
  col_accelerator_count,
  col_vcpus,
  col_memory,
  col_gpu_info,
  col_price,
  col_spot_price,
  col_region,
  col_zone,
  column_count,
};

struct column_spec {
  std::string_view header;
  bool required;
};

constexpr std::array<column_spec, column_count> columns{{
  {"InstanceType", true},
  {"AcceleratorName", true},
  {"AcceleratorCount", true},
  {"vCPUs", true},
  {"MemoryGiB", true},
  {"GpuInfo", false},
  {"Price", true},
  {"SpotPrice", false},
  {"Region", true},
  {"AvailabilityZone", false},
}};

constexpr size_t absent = static_cast<size_t>(-1);

std::string_view trim(std::string_view s) {
  while (!s.empty() && (s.front() == ' ' || s.front() == '\t'))
    s.remove_prefix(1);
  while (!s.empty()
         && (s.back() == ' ' || s.back() == '\t' || s.back() == '\r'))
    s.remove_suffix(1);
  return s;
}

/// Parses a finite number; nullopt when `s` is not one.
std::optional<double> parse_number(std::string_view s) {
  s = trim(s);
  if (s.empty())
    return std::nullopt;
  if (s.front() == '+')
    s.remove_prefix(1);
  double value = 0;
  auto [ptr, ec] = std::from_chars(s.data(), s.data() + s.size(), value);
  if (ec != std::errc{} || ptr != s.data() + s.size() || !std::isfinite(value))
    return std::nullopt;
  return value;
}

/// Clouds whose GpuInfo `SizeInMiB` is the memory of all the offer's devices
/// together rather than of one device: vast writes 49128 MiB for two
/// RTX 4090s (24564 each), where AWS, GCP and Lambda write one device's size.
/// This is not in SOURCE.md's defect list; it was found by comparing the 1x,
/// 2x, 4x and 8x rows of the same GPU in vast/vms.csv.
bool gpu_info_memory_is_total(std::string_view cloud) {
  return cloud == "vast";
}

class row_parser {
public:
  row_parser(builder_state& st, std::string_view cloud, std::string_view file,
             catalog_file_stats& stats)
    : st_(st), cloud_name_(cloud), file_(file), stats_(stats) {
    cloud_ = st_.names.intern(cloud);
    is_gcp_ = cloud == "gcp";
    memory_is_total_ = gpu_info_memory_is_total(cloud);
  }

  /// Maps header names to positions; false (with a diagnostic) when a
  /// required column is missing.
  bool read_header(const csv_record& header) {
    index_.fill(absent);
    header_fields_ = header.fields.size();
    std::vector<bool> consumed(header_fields_, false);
    for (size_t i = 0; i < header.fields.size(); ++i) {
      auto name = to_lower(trim(header.fields[i]));
      for (size_t c = 0; c < column_count; ++c) {
        if (index_[c] == absent && name == to_lower(columns[c].header)) {
          index_[c] = i;
          consumed[i] = true;
        }
      }
    }
    for (size_t c = 0; c < column_count; ++c) {
      if (columns[c].required && index_[c] == absent) {
        report(header.line, "missing column '" + std::string{columns[c].header}
                              + "' in the header; file skipped");
        return false;
      }
    }
    // Surplus fields can be folded into the last column only when nothing
    // reads it (Azure's unquoted Generation "V1,V2" is the known case).
    last_column_free_ = header_fields_ > 0 && !consumed[header_fields_ - 1];
    return true;
  }

  void parse(const csv_record& rec, std::vector<offer>& out,
             std::vector<gcp_accelerator_row>& gcp_accels) {
    ++stats_.rows;
    if (!rec.error.empty()) {
      report(rec.line, rec.error);
      return;
    }
    const size_t n = rec.fields.size();
    if (n < header_fields_) {
      report(rec.line, "expected " + std::to_string(header_fields_)
                         + " fields, found " + std::to_string(n));
      return;
    }
    if (n > header_fields_ && !last_column_free_) {
      report(rec.line, "expected " + std::to_string(header_fields_)
                         + " fields, found " + std::to_string(n));
      return;
    }
    auto field = [&](column c) -> std::string_view {
      return index_[c] == absent ? std::string_view{}
                                 : trim(rec.fields[index_[c]]);
    };
    std::string why;
    auto number = [&](column c, bool allow_empty) -> std::optional<double> {
      auto text = field(c);
      if (text.empty()) {
        if (!allow_empty && why.empty())
          why = "empty " + std::string{columns[c].header};
        return std::nan("");
      }
      auto v = parse_number(text);
      if (!v || *v < 0) {
        if (why.empty())
          why = "bad " + std::string{columns[c].header} + " '"
                + std::string{text} + "'";
        return std::nullopt;
      }
      return v;
    };

    auto instance_type = field(col_instance_type);
    auto accel_name = field(col_accelerator_name);
    auto region = field(col_region);
    auto zone = field(col_zone);
    if (region.empty()) {
      report(rec.line, "empty Region");
      return;
    }
    if (instance_type.empty() && !(is_gcp_ && !accel_name.empty())) {
      report(rec.line, "empty InstanceType");
      return;
    }
    // Empty vCPUs/MemoryGiB mean "unknown" (GCP accelerator rows); an
    // empty Price means "not offered on demand"; an empty SpotPrice (or a
    // SpotPrice of 0, vast's way of saying it) means "no spot offer".
    auto vcpus = number(col_vcpus, true);
    auto memory = number(col_memory, true);
    auto price = number(col_price, true);
    auto spot = number(col_spot_price, true);
    std::optional<double> count = 0.0;
    if (!accel_name.empty()) {
      count = number(col_accelerator_count, false);
      if (count && !std::isnan(*count) && *count <= 0 && why.empty())
        why = "AcceleratorCount must be positive";
    }
    if (!why.empty() || !vcpus || !memory || !price || !spot || !count) {
      report(rec.line, why);
      return;
    }
    if (*spot == 0)
      spot = std::nan("");

    double device_memory = std::nan("");
    if (!accel_name.empty()) {
      std::string error;
      device_memory = parse_gpu_info_memory(field(col_gpu_info), *count,
                                            memory_is_total_, error);
      if (!error.empty()) {
        report(rec.line, error);
        return;
      }
    }
    name_id accel
      = accel_name.empty() ? 0 : st_.canonical_accelerator(accel_name);
    if (accel != 0 && !std::isnan(device_memory))
      ++st_.memory_votes[accel][std::llround(device_memory * 1024)];
    if (accel != 0) {
      auto maker = parse_gpu_info_manufacturer(field(col_gpu_info));
      if (!maker.empty())
        ++st_.manufacturer_votes[accel][std::string{maker}];
    }

    if (instance_type.empty()) {
      // GCP accelerator priced apart from its host VM.
      gcp_accelerator_row a;
      a.region = st_.names.intern(region);
      a.zone = st_.names.intern(zone);
      a.accelerator = accel;
      a.count = *count;
      a.device_memory_gib = device_memory;
      a.price = *price;
      a.spot_price = *spot;
      gcp_accels.push_back(a);
      return;
    }
    offer o;
    o.cloud = cloud_;
    o.region = st_.names.intern(region);
    o.zone = st_.names.intern(zone);
    o.instance_type = st_.names.intern(instance_type);
    o.accelerator = accel;
    o.accelerator_count = accel == 0 ? 0 : *count;
    o.vcpus = *vcpus;
    o.memory_gib = *memory;
    o.device_memory_gib = device_memory;
    o.price = *price;
    o.spot_price = *spot;
    out.push_back(o);
  }

  void report(size_t line, std::string reason) {
    ++stats_.malformed;
    if (listed_ >= max_listed_diagnostics) {
      ++st_.unlisted_diagnostics;
      return;
    }
    ++listed_;
    st_.diagnostics.push_back(
      catalog_diagnostic{std::string{file_}, line, std::move(reason)});
  }

private:
  builder_state& st_;
  std::string_view cloud_name_;
  std::string_view file_;
  catalog_file_stats& stats_;
  name_id cloud_ = 0;
  bool is_gcp_ = false;
  bool memory_is_total_ = false;
  std::array<size_t, column_count> index_{};
  size_t header_fields_ = 0;
  bool last_column_free_ = false;
  size_t listed_ = 0;
};

} // namespace

std::string to_lower(std::string_view s) {
  std::string out{s};
  for (auto& c : out)
    if (c >= 'A' && c <= 'Z')
      c = static_cast<char>(c - 'A' + 'a');
  return out;
}

double parse_gpu_info_memory(std::string_view gpu_info, double count,
                             bool total_memory, std::string& error) {
  // GpuInfo is a Python dict literal; only the first device's
  // 'SizeInMiB' matters here (catalog rows hold one GPU model each).
  constexpr std::string_view key = "SizeInMiB";
  auto at = gpu_info.find(key);
  if (at == std::string_view::npos)
    return std::nan("");
  auto rest = gpu_info.substr(at + key.size());
  size_t i = 0;
  while (i < rest.size() && (rest[i] == '\'' || rest[i] == '"'))
    ++i;
  while (i < rest.size() && rest[i] == ' ')
    ++i;
  if (i >= rest.size() || rest[i] != ':') {
    error = "bad GpuInfo: no value after 'SizeInMiB'";
    return std::nan("");
  }
  ++i;
  while (i < rest.size() && rest[i] == ' ')
    ++i;
  size_t j = i;
  while (j < rest.size() && rest[j] != ',' && rest[j] != '}' && rest[j] != ']'
         && rest[j] != ' ')
    ++j;
  auto mib = parse_number(rest.substr(i, j - i));
  if (!mib || *mib <= 0) {
    error
      = "bad GpuInfo SizeInMiB '" + std::string{rest.substr(i, j - i)} + "'";
    return std::nan("");
  }
  double per_device = *mib;
  if (total_memory && count >= 1)
    per_device /= count;
  return per_device / 1024.0;
}

std::string_view parse_gpu_info_manufacturer(std::string_view gpu_info) {
  constexpr std::string_view key = "'Manufacturer'";
  auto at = gpu_info.find(key);
  if (at == std::string_view::npos)
    return {};
  auto rest = gpu_info.substr(at + key.size());
  auto open = rest.find('\'');
  if (open == std::string_view::npos)
    return {};
  rest.remove_prefix(open + 1);
  auto close = rest.find('\'');
  return close == std::string_view::npos ? std::string_view{}
                                         : rest.substr(0, close);
}

std::string infer_manufacturer(std::string_view accelerator) {
  // Only for names no catalog row gives a Manufacturer for (GCP, Azure and
  // vast omit it). Today's catalogs hold NVIDIA GPUs apart from these.
  auto name = to_lower(accelerator);
  if (name.starts_with("tpu"))
    return "Google";
  if (name.starts_with("mi") || name.starts_with("radeon"))
    return "AMD";
  if (name.starts_with("gaudi"))
    return "Intel";
  if (name.starts_with("inferentia") || name.starts_with("trainium"))
    return "AWS";
  return "NVIDIA";
}

void parse_vms_csv(builder_state& st, std::string_view cloud, std::string text,
                   std::string_view file, catalog_file_stats& stats,
                   std::vector<gcp_accelerator_row>& gcp_accelerators) {
  csv_reader reader{std::move(text)};
  row_parser parser{st, cloud, file, stats};
  csv_record rec;
  if (!reader.next(rec)) {
    parser.report(1, "empty file (no header)");
    return;
  }
  if (!rec.error.empty()) {
    parser.report(rec.line, rec.error);
    return;
  }
  if (!parser.read_header(rec))
    return;
  auto& rows = st.rows_of(st.names.intern(cloud));
  while (reader.next(rec))
    parser.parse(rec, rows.offers, gcp_accelerators);
}

} // namespace sky::optimizer::detail
