#include "actors/wire/infra_check.hpp"

#include <algorithm>
#include <cstdio>

#include <yaml-cpp/yaml.h>

namespace sky::actors {

namespace {

bool has(const std::vector<std::string>& names, const std::string& name) {
  return std::find(names.begin(), names.end(), name) != names.end();
}

std::string joined(const std::vector<std::string>& names) {
  std::string out;
  for (const auto& n : names)
    out += (out.empty() ? "" : ", ") + n;
  return out;
}

// "2", "0.5", "23.5": at most one decimal.
std::string number(double v) {
  char buf[32];
  std::snprintf(buf, sizeof buf, "%.1f", v);
  std::string out = buf;
  if (out.size() > 2 && out.compare(out.size() - 2, 2, ".0") == 0)
    out.resize(out.size() - 2);
  return out;
}

// One row per pool host: what the probe found, or why it failed.
protocol::infra_row host_row(const providers::machine_report& h) {
  protocol::infra_row row;
  row.name = "ssh/" + h.pool + "/" + h.machine;
  row.kind = "ssh";
  if (!h.ok) {
    row.status = "unreachable";
    row.detail = h.problem;
    row.hint = "check the host's address, port, user and identity_file in "
               "ssh_node_pools.yaml";
    return row;
  }
  row.status = "enabled";
  row.detail = number(h.resources.cpus) + " vCPUs, "
               + number(h.resources.memory_gib) + " GiB";
  for (const auto& [gpu, count] : h.resources.gpus)
    row.detail += ", " + gpu + ":" + number(count);
  row.detail += h.held_by.empty() ? ", free" : ", held by " + h.held_by;
  if (!h.problem.empty())
    row.detail += " (" + h.problem + ")";
  return row;
}

void gather_files(const infra_settings& settings, infra_facts& facts) {
  std::error_code ec;
  for (std::filesystem::directory_iterator it{settings.catalogs_dir, ec}, end;
       !ec && it != end; it.increment(ec)) {
    std::error_code fe;
    if (it->is_directory(fe)
        && std::filesystem::is_regular_file(it->path() / "vms.csv", fe))
      facts.catalog_clouds.push_back(it->path().filename().string());
  }
  std::sort(facts.catalog_clouds.begin(), facts.catalog_clouds.end());
  auto pools_file = settings.home / "ssh_node_pools.yaml";
  if (std::filesystem::exists(pools_file, ec)) {
    try {
      auto root = YAML::LoadFile(pools_file.string());
      facts.ssh_pools = root.IsMap() ? root.size() : 0;
    } catch (const YAML::Exception& e) {
      facts.ssh_problem = pools_file.string() + ": " + e.what();
    }
  }
}

} // namespace

protocol::check_reply describe_infra(const infra_settings& settings,
                                     const infra_facts& facts) {
  protocol::check_reply reply;
  reply.catalogs_dir = settings.catalogs_dir.string();
  if (!settings.sim_clouds.empty()) {
    reply.sim_scenario = settings.sim_scenario;
    reply.sim_mode = settings.sim_mode;
  }
  auto& rows = reply.infra;
  rows.push_back(
    {"local", "local",
     has(settings.providers, "local") ? "enabled" : "not configured", false,
     "this machine: sandboxes per node", ""});
  const auto catalog = settings.catalogs_dir.string();
  for (const auto& cloud : settings.sim_clouds) {
    protocol::infra_row r{cloud, "cloud", "enabled", true, "", ""};
    if (!has(settings.providers, cloud)) {
      // Priced for planning but not provisioned (should not happen once
      // the sim provider is wired; said plainly if it does).
      r.status = "not configured";
      r.detail = "simulated from " + catalog + "/" + cloud
                 + "/vms.csv, priced for planning only";
    } else {
      r.detail = "simulated from " + catalog + "/" + cloud + "/vms.csv ("
                 + (settings.sim_mode.empty() ? "real" : settings.sim_mode)
                 + " nodes"
                 + (settings.sim_scenario.empty()
                      ? ", no scenario: plenty of capacity"
                      : ", scenario " + settings.sim_scenario)
                 + "); nothing leaves this machine";
    }
    rows.push_back(std::move(r));
  }
  for (const auto& cloud : facts.catalog_clouds) {
    if (has(settings.sim_clouds, cloud))
      continue;
    auto listed = settings.sim_clouds;
    listed.push_back(cloud);
    rows.push_back({cloud, "cloud", "not configured", false,
                    "in the catalog (" + catalog + "/" + cloud
                      + "/vms.csv); skyd has no real cloud access",
                    "simulate it: set `sim.clouds: [" + joined(listed)
                      + "]` in $SKYD_HOME/config.yaml and restart skyd "
                        "(skyctl daemon stop)"});
  }
  protocol::infra_row ssh{"ssh", "ssh", "not configured", false, "", ""};
  if (has(settings.providers, "ssh")) {
    ssh.status = "enabled";
    ssh.detail = facts.ssh_pools
                   ? std::to_string(*facts.ssh_pools) + " node pool(s) in "
                       + (settings.home / "ssh_node_pools.yaml").string()
                   : "SSH node pools";
  } else if (facts.ssh_pools || !facts.ssh_problem.empty()) {
    ssh.detail = facts.ssh_problem.empty()
                   ? std::to_string(*facts.ssh_pools) + " node pool(s) in "
                       + (settings.home / "ssh_node_pools.yaml").string()
                       + ", but this skyd has no SSH provider yet"
                   : facts.ssh_problem;
    ssh.hint = "SSH node pools are in progress (issue [ssh-pools])";
  } else {
    ssh.detail = "no " + (settings.home / "ssh_node_pools.yaml").string();
    ssh.hint = "describe your machines in that file (SkyPilot's "
               "ssh_node_pools.yaml format)";
  }
  rows.push_back(std::move(ssh));
  for (const auto& h : facts.ssh_hosts)
    rows.push_back(host_row(h));
  rows.push_back({"slurm", "slurm", "not supported", false,
                  "skyd does not drive Slurm clusters yet", ""});
  rows.push_back({"kubernetes", "kubernetes", "not supported", false,
                  "skyd does not drive Kubernetes clusters yet", ""});
  return reply;
}

infra_facts gather_infra(const infra_settings& settings) {
  infra_facts facts;
  if (settings.ssh)
    facts.ssh_hosts = settings.ssh->check_pools();
  gather_files(settings, facts);
  return facts;
}

} // namespace sky::actors
