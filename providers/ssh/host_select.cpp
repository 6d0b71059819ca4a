#include "providers/ssh/host_select.hpp"

#include <algorithm>
#include <cctype>

#include "providers/common/capacity.hpp"

namespace sky::providers::ssh {

namespace {

using local_detail::format_amount;

bool iequals(const std::string& a, const std::string& b) {
  return a.size() == b.size()
         && std::equal(a.begin(), a.end(), b.begin(), [](char x, char y) {
              return std::tolower(static_cast<unsigned char>(x))
                     == std::tolower(static_cast<unsigned char>(y));
            });
}

double gpus_named(const node_resources& r, const std::string& name) {
  double n = 0;
  for (const auto& [k, v] : r.gpus)
    if (iequals(k, name))
      n += v;
  return n;
}

constexpr double eps = 1e-9;

} // namespace

std::string shortfall(const node_resources& have, const node_resources& want) {
  std::vector<std::string> why;
  if (want.cpus > have.cpus + eps)
    why.push_back("has " + format_amount(have.cpus) + " CPUs, "
                  + format_amount(want.cpus) + " asked");
  if (want.memory_gib > have.memory_gib + eps)
    why.push_back("has " + format_amount(have.memory_gib) + " GiB of memory, "
                  + format_amount(want.memory_gib) + " asked");
  for (const auto& [name, count] : want.gpus) {
    if (count <= 0)
      continue;
    auto got = gpus_named(have, name);
    if (count > got + eps)
      why.push_back("has " + format_amount(got) + " " + name + ", "
                    + format_amount(count) + " asked");
  }
  std::string out;
  for (const auto& w : why)
    out += (out.empty() ? "" : ", ") + w;
  return out;
}

result<std::vector<size_t>> select_hosts(const std::string& pool,
                                         const std::vector<host_view>& hosts,
                                         const node_resources& per_node,
                                         uint32_t nodes) {
  std::vector<size_t> chosen;
  std::vector<std::string> reasons;
  for (size_t i = 0; i < hosts.size(); ++i) {
    const auto& h = hosts[i];
    std::string why;
    if (!h.taken_by.empty())
      why = "held by cluster '" + h.taken_by + "'";
    else if (!h.problem.empty())
      why = h.problem;
    else if (!h.resources)
      why = "not probed";
    else
      why = shortfall(*h.resources, per_node);
    if (why.empty()) {
      if (chosen.size() < nodes)
        chosen.push_back(i);
      continue;
    }
    reasons.push_back(h.key + " " + why);
  }
  if (chosen.size() >= nodes)
    return chosen;
  std::string msg = "ssh: pool '" + pool + "' has "
                    + std::to_string(chosen.size())
                    + " usable host(s) for this request, "
                    + std::to_string(nodes) + " needed";
  if (!reasons.empty()) {
    msg += ": ";
    for (size_t i = 0; i < reasons.size(); ++i)
      msg += (i == 0 ? "" : "; ") + reasons[i];
  }
  return provider_error(errc::no_capacity, failure_scope::region, msg,
                        "free hosts (skyctl down <cluster>), ask for fewer "
                        "nodes or less per node, or add hosts to the pool in "
                        "ssh_node_pools.yaml");
}

} // namespace sky::providers::ssh
