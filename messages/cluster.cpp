#include "messages/cluster.hpp"

#include <array>
#include <cctype>
#include <charconv>
#include <cmath>
#include <cstdio>

namespace sky {

namespace {

constexpr std::array<std::string_view, 4> cluster_names{
  "INIT", "UP", "AUTOSTOPPING", "STOPPED"};

constexpr std::array<std::string_view, 5> phase_names{
  "", "provisioning", "starting", "stopping", "terminating"};

constexpr std::array<std::string_view, 9> job_names{
  "INIT",   "PENDING",      "SETTING_UP",    "RUNNING",  "SUCCEEDED",
  "FAILED", "FAILED_SETUP", "FAILED_DRIVER", "CANCELLED"};

// The enum value whose name (its index in `names`) is `s`.
template <class Enum, size_t N>
std::optional<Enum> named(const std::array<std::string_view, N>& names,
                          std::string_view s) {
  for (size_t i = 0; i < N; ++i)
    if (names[i] == s)
      return static_cast<Enum>(i);
  return std::nullopt;
}

// "8", "0.5", "1.25": numbers without trailing zeros.
std::string number(double v) {
  if (std::abs(v - std::round(v)) < 1e-9)
    return std::to_string(static_cast<long long>(std::llround(v)));
  char buf[32];
  std::snprintf(buf, sizeof(buf), "%.2f", v);
  std::string s{buf};
  while (!s.empty() && s.back() == '0')
    s.pop_back();
  return s;
}

} // namespace

std::string_view to_string(cluster_status s) noexcept {
  return cluster_names[static_cast<size_t>(s)];
}

std::optional<cluster_status> cluster_status_from(std::string_view s) {
  return named<cluster_status>(cluster_names, s);
}

std::string_view to_string(cluster_phase p) noexcept {
  return phase_names[static_cast<size_t>(p)];
}

std::optional<cluster_phase> cluster_phase_from(std::string_view s) {
  return named<cluster_phase>(phase_names, s);
}

std::string_view to_string(job_status s) noexcept {
  return job_names[static_cast<size_t>(s)];
}

std::optional<job_status> job_status_from(std::string_view s) {
  return named<job_status>(job_names, s);
}

bool is_terminal(job_status s) noexcept {
  switch (s) {
    case job_status::succeeded:
    case job_status::failed:
    case job_status::failed_setup:
    case job_status::failed_driver:
    case job_status::cancelled:
      return true;
    default:
      return false;
  }
}

result<void> validate_cluster_name(std::string_view name) {
  auto bad = [&](std::string why) {
    return make_error(errc::invalid_argument,
                      "invalid cluster name '" + std::string{name}
                        + "': " + why,
                      "use letters, digits and dashes, starting with a "
                      "letter, e.g. 'train-1'");
  };
  if (name.empty())
    return bad("it is empty");
  if (name.size() > 63)
    return bad("it has " + std::to_string(name.size())
               + " characters (at most 63)");
  if (!std::isalpha(static_cast<unsigned char>(name.front())))
    return bad("it must start with a letter");
  for (char c : name)
    // '.' is refused although SkyPilot allows it: cluster names are parts
    // of dotted event topics (job.<cluster>.<id>), which must stay
    // unambiguous.
    if (!std::isalnum(static_cast<unsigned char>(c)) && c != '-' && c != '_')
      return bad(std::string{"'"} + c + "' is not allowed");
  if (!std::isalnum(static_cast<unsigned char>(name.back())))
    return bad("it must end with a letter or digit");
  return {};
}

namespace {

constexpr std::string_view managed_job_prefix = "managed_job.";

} // namespace

std::string managed_job_owner(uint64_t job_id) {
  return std::string{managed_job_prefix} + std::to_string(job_id);
}

std::optional<uint64_t> owner_job_id(std::string_view owner) {
  if (owner.substr(0, managed_job_prefix.size()) != managed_job_prefix)
    return std::nullopt;
  auto digits = owner.substr(managed_job_prefix.size());
  uint64_t id = 0;
  auto [end, ec]
    = std::from_chars(digits.data(), digits.data() + digits.size(), id);
  if (ec != std::errc{} || end != digits.data() + digits.size()
      || digits.empty())
    return std::nullopt;
  return id;
}

std::string owner_text(std::string_view owner) {
  if (owner.empty())
    return "the user";
  if (auto id = owner_job_id(owner))
    return "managed job " + std::to_string(*id);
  if (owner.substr(0, 8) == "service.")
    return "service " + std::string{owner.substr(8)};
  return std::string{owner};
}

std::string placement_info::infra() const {
  std::string out = provider;
  if (!region.empty())
    out += "/" + region;
  if (!zone.empty())
    out += "/" + zone;
  return out;
}

std::string placement_info::resources_text() const {
  std::vector<std::string> parts;
  if (!instance_type.empty())
    parts.push_back(instance_type);
  double shown_cpus = cpus > 0 ? cpus : reserved_cpus;
  double shown_mem = memory_gib > 0 ? memory_gib : reserved_memory_gib;
  if (shown_cpus > 0)
    parts.push_back("cpus=" + number(shown_cpus));
  if (shown_mem > 0)
    parts.push_back("mem=" + number(shown_mem) + "G");
  if (!accelerator.empty())
    parts.push_back(accelerator + ":" + number(accelerator_count));
  else
    for (const auto& [name, count] : reserved_gpus)
      parts.push_back(name + ":" + number(count));
  if (use_spot)
    parts.push_back("spot");
  std::string inner;
  for (const auto& p : parts)
    inner += (inner.empty() ? "" : ", ") + p;
  if (inner.empty())
    inner = "-";
  return std::to_string(num_nodes) + "x(" + inner + ")";
}

std::string autostop_info::text() const {
  if (!enabled())
    return "-";
  return std::to_string(idle_minutes) + "m" + (down ? " (down)" : "");
}

} // namespace sky
