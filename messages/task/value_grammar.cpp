#include "messages/task/value_grammar.hpp"

#include <algorithm>
#include <cctype>
#include <charconv>
#include <cmath>
#include <limits>

#include "messages/suggest.hpp"

namespace sky::task {

namespace {

std::string_view trim(std::string_view s) {
  auto is_space
    = [](char c) { return std::isspace(static_cast<unsigned char>(c)) != 0; };
  while (!s.empty() && is_space(s.front()))
    s.remove_prefix(1);
  while (!s.empty() && is_space(s.back()))
    s.remove_suffix(1);
  return s;
}

std::string lower(std::string_view s) {
  std::string out{s};
  for (auto& c : out)
    c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
  return out;
}

caf::error bad(std::string what, std::string hint) {
  return make_error(errc::invalid_argument, std::move(what), std::move(hint));
}

std::string quoted(std::string_view s) {
  return "'" + std::string{s} + "'";
}

std::vector<std::string_view> split(std::string_view s, char sep) {
  std::vector<std::string_view> parts;
  size_t start = 0;
  for (;;) {
    size_t pos = s.find(sep, start);
    if (pos == std::string_view::npos) {
      parts.push_back(s.substr(start));
      return parts;
    }
    parts.push_back(s.substr(start, pos - start));
    start = pos + 1;
  }
}

bool all_digits(std::string_view s) {
  return !s.empty() && std::all_of(s.begin(), s.end(), [](char c) {
    return c >= '0' && c <= '9';
  });
}

// Binary units as SkyPilot's MEMORY_SIZE_UNITS, in GiB; "kib" etc. are
// accepted as well because people write them.
std::optional<double> unit_in_gib(std::string_view unit) {
  const std::string u = lower(unit);
  constexpr double ki = 1.0 / (1024.0 * 1024.0);
  constexpr double mi = 1.0 / 1024.0;
  if (u == "kb" || u == "ki" || u == "kib")
    return ki;
  if (u == "mb" || u == "mi" || u == "mib")
    return mi;
  if (u == "gb" || u == "gi" || u == "gib")
    return 1.0;
  if (u == "tb" || u == "ti" || u == "tib")
    return 1024.0;
  if (u == "pb" || u == "pi" || u == "pib")
    return 1024.0 * 1024.0;
  return std::nullopt;
}

// Splits "64GB" into "64" and "GB" (the unit is the trailing letters).
std::pair<std::string_view, std::string_view>
split_unit(std::string_view text) {
  size_t i = text.size();
  while (i > 0 && std::isalpha(static_cast<unsigned char>(text[i - 1])))
    --i;
  return {trim(text.substr(0, i)), text.substr(i)};
}

// A device-memory selector of an accelerator: "80GB", "80GB+", "0.5TB".
struct device_memory {
  double gib = 0;
  bool at_least = false;
};

std::optional<device_memory> parse_device_memory(std::string_view text) {
  device_memory out;
  if (!text.empty() && text.back() == '+') {
    out.at_least = true;
    text.remove_suffix(1);
  }
  auto [number, unit] = split_unit(text);
  const std::string u = lower(unit);
  double scale = 0;
  if (u == "mb")
    scale = 1.0 / 1024.0;
  else if (u == "gb")
    scale = 1.0;
  else if (u == "tb")
    scale = 1024.0;
  else
    return std::nullopt;
  if (number.empty() || !std::all_of(number.begin(), number.end(), [](char c) {
        return (c >= '0' && c <= '9') || c == '.';
      }))
    return std::nullopt;
  auto value = parse_number(number);
  if (!value)
    return std::nullopt;
  out.gib = *value * scale;
  return out;
}

constexpr const char* accelerator_hint
  = "write NAME or NAME:COUNT (e.g. A100:8, A10:0.5), or select by device "
    "memory: 80GB+:8, 48GB:2, NVIDIA:40GB+:8";

} // namespace

const std::vector<std::string>& known_providers() {
  // SkyPilot's ALL_CLOUDS (with kubernetes spelled k8s) plus `local`.
  static const std::vector<std::string> providers{
    "aws",        "azure",
    "gcp",        "ibm",
    "lambda",     "scp",
    "oci",        "runpod",
    "vast",       "vsphere",
    "cudo",       "fluidstack",
    "paperspace", "primeintellect",
    "do",         "nebius",
    "hyperbolic", "seeweb",
    "shadeform",  "yotta",
    "mithril",    "verda",
    "k8s",        "ssh",
    "slurm",      "local"};
  return providers;
}

result<std::string> parse_provider(std::string_view text) {
  auto t = lower(trim(text));
  if (t.empty())
    return bad("is empty", "name a provider such as aws, gcp, k8s or local");
  if (t == "kubernetes")
    t = "k8s";
  const auto& known = known_providers();
  if (std::find(known.begin(), known.end(), t) == known.end())
    return bad("unknown provider " + quoted(text) + did_you_mean(t, known),
               "use one of: aws, gcp, azure, lambda, k8s, ssh, slurm, local, "
               "...");
  return t;
}

result<infra_spec> parse_infra(std::string_view text) {
  const auto t = trim(text);
  const char* hint = "write cloud[/region[/zone]] (e.g. aws/us-east-1, "
                     "*/us-east-1, aws/*/us-east-1a), k8s[/context], "
                     "ssh/<pool>, slurm/<cluster> or local";
  if (t.empty())
    return bad("is empty", hint);
  infra_spec out;
  const size_t slash = t.find('/');
  const std::string head = lower(t.substr(0, slash));
  const std::string_view rest = slash == std::string_view::npos
                                  ? std::string_view{}
                                  : t.substr(slash + 1);
  if (head == "k8s" || head == "kubernetes") {
    // A Kubernetes context name may itself contain '/', e.g. EKS ARNs.
    out.provider = "k8s";
    if (slash != std::string_view::npos && rest.empty())
      return bad(quoted(t) + " has an empty context after '/'", hint);
    out.region = rest == "*" ? std::string{} : std::string{rest};
    return out;
  }
  auto parts = split(t, '/');
  size_t max_parts = 3;
  if (head == "*") {
    out.provider.clear();
  } else if (auto p = parse_provider(head)) {
    out.provider = *p;
    if (out.provider == "local")
      max_parts = 1;
    else if (out.provider == "ssh")
      max_parts = 2;
  } else {
    return bad("unknown cloud " + quoted(parts[0])
                 + did_you_mean(head, known_providers()),
               hint);
  }
  if (parts.size() > max_parts)
    return bad(quoted(t) + " has too many parts for " + quoted(parts[0])
                 + " (at most " + std::to_string(max_parts) + ")",
               hint);
  for (size_t i = 1; i < parts.size(); ++i)
    if (trim(parts[i]).empty())
      return bad(quoted(t) + " has an empty part", hint);
  auto part = [&](size_t i) {
    if (i >= parts.size() || parts[i] == "*")
      return std::string{};
    return std::string{trim(parts[i])};
  };
  out.region = part(1);
  out.zone = part(2);
  return out;
}

result<long long> parse_integer(std::string_view text, long long lo,
                                long long hi) {
  auto t = trim(text);
  const std::string shown{t};
  if (!t.empty() && t.front() == '+')
    t.remove_prefix(1);
  long long value = 0;
  auto [ptr, ec] = std::from_chars(t.data(), t.data() + t.size(), value);
  const std::string range
    = "must be between " + std::to_string(lo) + " and " + std::to_string(hi);
  if (ec == std::errc::result_out_of_range)
    return bad(quoted(shown) + " is out of range", range);
  if (t.empty() || ec != std::errc{} || ptr != t.data() + t.size()) {
    if (parse_number(shown))
      return bad(quoted(shown) + " is not a whole number", range);
    return bad(quoted(shown) + " is not a number", range);
  }
  if (value < lo || value > hi)
    return bad(quoted(shown) + " is out of range", range);
  return value;
}

result<double> parse_number(std::string_view text) {
  auto t = trim(text);
  const std::string shown{t};
  if (!t.empty() && t.front() == '+')
    t.remove_prefix(1);
  double value = 0;
  auto [ptr, ec] = std::from_chars(t.data(), t.data() + t.size(), value);
  if (t.empty() || ec != std::errc{} || ptr != t.data() + t.size()
      || !std::isfinite(value))
    return bad(quoted(shown) + " is not a number", "write a decimal number "
                                                   "such as 4 or 0.5");
  return value;
}

std::optional<bool> parse_bool(std::string_view text) {
  const auto t = lower(trim(text));
  if (t == "true" || t == "yes" || t == "on")
    return true;
  if (t == "false" || t == "no" || t == "off")
    return false;
  return std::nullopt;
}

result<cpus_spec> parse_cpus(std::string_view text) {
  auto t = trim(text);
  const char* hint = "write a number of vCPUs such as 4, or 4+ for at least 4";
  cpus_spec out;
  if (!t.empty() && t.back() == '+') {
    out.at_least = true;
    t = trim(t.substr(0, t.size() - 1));
  }
  auto v = parse_number(t);
  if (!v)
    return bad(quoted(trim(text)) + " is not a number of vCPUs", hint);
  if (*v <= 0)
    return bad(quoted(trim(text)) + " is not positive", hint);
  out.value = *v;
  return out;
}

result<memory_spec> parse_memory(std::string_view text) {
  const auto shown = trim(text);
  auto t = shown;
  const char* hint = "write GiB as 32, at least 32 GiB as 32+, GiB per vCPU as "
                     "4x, or with a unit: 64GB, 512MB+, 1TB";
  memory_spec out;
  if (!t.empty() && t.back() == '+') {
    out.mode = memory_spec::kind::at_least;
    t = trim(t.substr(0, t.size() - 1));
  }
  if (!t.empty() && (t.back() == 'x' || t.back() == 'X')) {
    // `4x+` is what SkyPilot writes internally; it means the same as `4x`.
    out.mode = memory_spec::kind::per_cpu;
    t = trim(t.substr(0, t.size() - 1));
    auto v = parse_number(t);
    if (!v)
      return bad(quoted(shown) + " is not a memory size", hint);
    out.value = *v;
  } else if (auto v = parse_number(t)) {
    out.value = *v;
  } else {
    auto [number, unit] = split_unit(t);
    auto scale = unit_in_gib(unit);
    auto n = parse_number(number);
    if (!scale || !n || number.empty())
      return bad(quoted(shown) + " is not a memory size", hint);
    out.value = *n * *scale;
  }
  if (!(out.value > 0) || !std::isfinite(out.value))
    return bad(quoted(shown) + " is not positive", hint);
  return out;
}

result<accelerator_spec> parse_accelerator(std::string_view text) {
  const auto t = trim(text);
  if (t.empty())
    return bad("is empty", accelerator_hint);
  if (t.find_first_of("{}[],") != std::string_view::npos)
    return bad(quoted(t) + " looks like several accelerators in one string",
               "write a YAML list [A100:8, H100:8] (ordered) or a set "
               "{A100:8, H100:8} (cheapest wins)");
  auto parts = split(t, ':');
  for (auto& p : parts) {
    p = trim(p);
    if (p.empty())
      return bad(quoted(t) + " has an empty part around ':'", accelerator_hint);
  }
  if (parts.size() > 3)
    return bad(quoted(t) + " has too many ':'", accelerator_hint);
  accelerator_spec out;
  auto set_count = [&](std::string_view c) -> caf::error {
    auto n = parse_number(c);
    if (!n || *n <= 0)
      return bad("count " + quoted(c) + " in " + quoted(t)
                   + " is not a positive number",
                 accelerator_hint);
    out.count = *n;
    return {};
  };
  auto set_memory = [&](const device_memory& m) -> caf::error {
    if (!(m.gib > 0))
      return bad("device memory in " + quoted(t) + " is not positive",
                 accelerator_hint);
    out.min_memory_gib = m.gib;
    out.memory_exact = !m.at_least;
    return {};
  };
  auto first_mem = parse_device_memory(parts[0]);
  if (parts.size() == 3) {
    auto mem = parse_device_memory(parts[1]);
    if (!mem)
      return bad(quoted(t) + " should be MANUFACTURER:MEMORY:COUNT, but "
                   + quoted(parts[1]) + " is not a memory size",
                 accelerator_hint);
    out.manufacturer = std::string{parts[0]};
    if (auto err = set_memory(*mem))
      return err;
    if (auto err = set_count(parts[2]))
      return err;
    return out;
  }
  if (first_mem) {
    if (auto err = set_memory(*first_mem))
      return err;
    if (parts.size() == 2)
      if (auto err = set_count(parts[1]))
        return err;
    return out;
  }
  if (parts.size() == 2) {
    if (auto mem = parse_device_memory(parts[1])) {
      out.manufacturer = std::string{parts[0]};
      if (auto err = set_memory(*mem))
        return err;
      return out;
    }
    if (auto err = set_count(parts[1]))
      return err;
  }
  if (parse_number(parts[0]))
    return bad(quoted(parts[0]) + " is a number, not an accelerator name",
               accelerator_hint);
  out.name = std::string{parts[0]};
  return out;
}

result<port_range> parse_port_range(std::string_view text) {
  const auto t = trim(text);
  const char* hint = "write a port 1..65535 (8080) or a range FIRST-LAST with "
                     "FIRST <= LAST (8080-8090)";
  auto parts = split(t, '-');
  if (t.empty() || parts.size() > 2)
    return bad(quoted(t) + " is not a port or port range", hint);
  uint32_t bounds[2] = {0, 0};
  for (size_t i = 0; i < parts.size(); ++i) {
    auto p = trim(parts[i]);
    if (!all_digits(p))
      return bad(quoted(t) + " is not a port or port range", hint);
    if (p.size() > 5 || std::stoul(std::string{p}) < 1
        || std::stoul(std::string{p}) > 65535)
      return bad("port " + quoted(p) + " is out of range", hint);
    bounds[i] = static_cast<uint32_t>(std::stoul(std::string{p}));
  }
  port_range out;
  out.first = static_cast<uint16_t>(bounds[0]);
  out.last = static_cast<uint16_t>(parts.size() == 2 ? bounds[1] : bounds[0]);
  if (out.first > out.last)
    return bad("range " + quoted(t) + " ends before it starts", hint);
  return out;
}

result<int> parse_disk_size_gb(std::string_view text) {
  const auto t = trim(text);
  const char* hint = "write whole GB as 256, or with a unit: 256GB, 1TB, 512Gi";
  constexpr double max_gb = 10'000'000; // 10 PB: beyond any real disk
  double gb = 0;
  if (all_digits(t)) {
    if (t.size() > 9)
      return bad(quoted(t) + " is too large", hint);
    gb = std::stod(std::string{t});
  } else {
    auto [number, unit] = split_unit(t);
    auto scale = unit_in_gib(unit);
    if (!scale || !all_digits(number) || number.size() > 15)
      return bad(quoted(t) + " is not a disk size", hint);
    // SkyPilot rounds sizes with units down to whole GB.
    gb = std::floor(std::stod(std::string{number}) * *scale);
  }
  if (gb > max_gb)
    return bad(quoted(t) + " is too large", hint);
  if (gb < 1)
    return bad(quoted(t) + " is less than 1 GB", hint);
  return static_cast<int>(gb);
}

result<int> parse_duration_minutes(std::string_view text) {
  const auto t = trim(text);
  const char* hint = "write minutes as 10, or with a unit: 30m, 2h, 1d, 1w";
  constexpr long long max_minutes = 10'000'000; // about 19 years
  std::string_view digits = t;
  long long scale = 1;
  if (!t.empty() && std::isalpha(static_cast<unsigned char>(t.back()))) {
    switch (std::tolower(static_cast<unsigned char>(t.back()))) {
      case 'm':
        scale = 1;
        break;
      case 'h':
        scale = 60;
        break;
      case 'd':
        scale = 24 * 60;
        break;
      case 'w':
        scale = 7 * 24 * 60;
        break;
      default:
        return bad(quoted(t) + " has an unknown time unit", hint);
    }
    digits = t.substr(0, t.size() - 1);
  }
  if (!all_digits(digits))
    return bad(quoted(t) + " is not a duration", hint);
  if (digits.size() > 9)
    return bad(quoted(t) + " is too long a duration", hint);
  const long long minutes = std::stoll(std::string{digits}) * scale;
  if (minutes > max_minutes)
    return bad(quoted(t) + " is too long a duration", hint);
  return static_cast<int>(minutes);
}

bool is_env_name(std::string_view name) {
  if (name.empty())
    return false;
  auto head = static_cast<unsigned char>(name.front());
  if (!(std::isalpha(head) || head == '_'))
    return false;
  return std::all_of(name.begin(), name.end(), [](char c) {
    auto u = static_cast<unsigned char>(c);
    return (u < 128 && std::isalnum(u)) || u == '_';
  });
}

std::string format_number(double value) {
  char buf[64];
  auto [ptr, ec] = std::to_chars(buf, buf + sizeof buf, value);
  if (ec != std::errc{})
    return std::to_string(value);
  return std::string{buf, ptr};
}

} // namespace sky::task
