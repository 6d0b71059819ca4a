#include "providers/common/capacity.hpp"

#include <algorithm>
#include <cctype>
#include <cmath>
#include <cstdio>
#include <functional>

namespace sky::providers::local_detail {

namespace {

// Fractional GPUs (0.5 + 0.25 + ...) must not be refused for rounding.
constexpr double epsilon = 1e-9;

std::string lower(std::string_view s) {
  std::string out{s};
  for (auto& c : out)
    c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
  return out;
}

/// The amount of accelerator `name` in `m`, matched case-insensitively
/// (requests and host detection may spell "a100" and "A100").
double gpu_amount(const std::map<std::string, double>& m,
                  const std::string& name) {
  double sum = 0;
  auto want = lower(name);
  for (const auto& [k, v] : m)
    if (lower(k) == want)
      sum += v;
  return sum;
}

/// One dimension of the fit check: `get` extracts the amount.
struct dimension {
  std::string label; // "vCPUs", "GiB of memory", "A100"
  bool is_gpu = false;
  std::function<double(const node_resources&)> get;
};

std::string holders_text(const std::vector<reservation>& held,
                         const dimension& dim) {
  std::string out;
  for (const auto& r : held) {
    double amount = dim.get(r.per_node) * r.nodes;
    if (amount <= epsilon)
      continue;
    out += out.empty() ? "" : ", ";
    out += format_amount(amount) + " reserved by cluster '" + r.cluster + "'";
  }
  return out;
}

std::string host_gpus_text(const node_resources& total) {
  std::string out;
  for (const auto& [name, count] : total.gpus) {
    if (count <= epsilon)
      continue;
    out += out.empty() ? "" : ", ";
    out += format_amount(count) + " " + name;
  }
  return out.empty() ? "no GPUs" : out;
}

} // namespace

std::string format_amount(double v) {
  if (std::fabs(v - std::round(v)) < 1e-6)
    return std::to_string(static_cast<long long>(std::llround(v)));
  char buf[32];
  std::snprintf(buf, sizeof(buf), "%.2f", v);
  std::string s{buf};
  while (!s.empty() && s.back() == '0')
    s.pop_back();
  if (!s.empty() && s.back() == '.')
    s.pop_back();
  return s;
}

node_resources total_reserved(const std::vector<reservation>& held) {
  node_resources sum;
  for (const auto& r : held) {
    sum.cpus += r.per_node.cpus * r.nodes;
    sum.memory_gib += r.per_node.memory_gib * r.nodes;
    for (const auto& [name, count] : r.per_node.gpus)
      sum.gpus[name] += count * r.nodes;
  }
  return sum;
}

node_resources free_capacity(const node_resources& total,
                             const std::vector<reservation>& held) {
  node_resources free;
  free.cpus = total.cpus;
  free.memory_gib = total.memory_gib;
  for (const auto& r : held) {
    free.cpus -= r.per_node.cpus * r.nodes;
    free.memory_gib -= r.per_node.memory_gib * r.nodes;
  }
  free.cpus = std::max(0.0, free.cpus);
  free.memory_gib = std::max(0.0, free.memory_gib);
  for (const auto& [name, count] : total.gpus) {
    double used = 0;
    for (const auto& r : held)
      used += gpu_amount(r.per_node.gpus, name) * r.nodes;
    free.gpus[name] = std::max(0.0, count - used);
  }
  return free;
}

result<void> validate_resources(const node_resources& per_node) {
  auto bad = [](double v) { return !std::isfinite(v) || v < 0; };
  std::string field;
  if (bad(per_node.cpus))
    field = "cpus";
  else if (bad(per_node.memory_gib))
    field = "memory";
  for (const auto& [name, count] : per_node.gpus)
    if (field.empty() && bad(count))
      field = "accelerators (" + name + ")";
  if (field.empty())
    return {};
  return provider_error(errc::invalid_argument, failure_scope::cloud,
                        "local: " + field
                          + " must be a non-negative number per node",
                        "fix the task's resources");
}

result<void> check_fits(const node_resources& total,
                        const std::vector<reservation>& held,
                        const node_resources& per_node, uint32_t nodes) {
  if (auto ok = validate_resources(per_node); !ok)
    return ok;
  std::vector<dimension> dims{
    {"vCPUs", false, [](const node_resources& r) { return r.cpus; }},
    {"GiB of memory", false,
     [](const node_resources& r) { return r.memory_gib; }},
  };
  for (const auto& [name, count] : per_node.gpus) {
    if (count <= 0)
      continue;
    dims.push_back({name, true, [name = name](const node_resources& r) {
                      return gpu_amount(r.gpus, name);
                    }});
  }
  auto node_text = [&] {
    return nodes == 1 ? std::string{" per node"}
                      : " per node x " + std::to_string(nodes) + " nodes";
  };
  for (const auto& dim : dims) {
    double want = dim.get(per_node);
    if (want <= 0)
      continue;
    double have = dim.get(total);
    if (dim.is_gpu && have <= epsilon)
      return provider_error(
        errc::no_capacity, failure_scope::cloud,
        "local: needs " + format_amount(want) + " " + dim.label + node_text()
          + ", this host has none (" + host_gpus_text(total) + ")",
        "run the task on a cloud that offers " + dim.label
          + ", or set the local GPUs in the configuration "
            "if detection missed them");
    double used = 0;
    for (const auto& r : held)
      used += dim.get(r.per_node) * r.nodes;
    double free = std::max(0.0, have - used);
    if (want * nodes <= free + epsilon)
      continue;
    auto holders = holders_text(held, dim);
    auto unit = dim.is_gpu ? dim.label + " GPUs" : dim.label;
    return provider_error(
      errc::no_capacity, failure_scope::cloud,
      "local: needs " + format_amount(want) + " " + unit + node_text() + ", "
        + format_amount(free) + " of " + format_amount(have) + " free"
        + (holders.empty() ? "" : " (" + holders + ")"),
      holders.empty()
        ? "ask for less, or run the task on a cloud"
        : "stop or tear down those clusters (skyctl stop / skyctl down), ask "
          "for less, or run the task on a cloud");
  }
  return {};
}

} // namespace sky::providers::local_detail
