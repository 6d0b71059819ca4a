#include "skyctl/render.hpp"

#include <algorithm>
#include <cmath>
#include <cstdio>
#include <ostream>

#include "skyctl/output.hpp"
#include "skyctl/terminal.hpp"

namespace sky::cli {

namespace {

std::string fixed(double v, int decimals) {
  char buf[64];
  std::snprintf(buf, sizeof(buf), "%.*f", decimals, v);
  return buf;
}

std::string or_dash(const std::string& s) {
  return s.empty() ? "-" : s;
}

std::string plural(int64_t n, const char* unit) {
  return std::to_string(n) + " " + unit + (n == 1 ? "" : "s");
}

// -- plan ------------------------------------------------------------------

std::string candidate_infra(const protocol::candidate_row& c) {
  std::string out = c.cloud;
  if (!c.region.empty())
    out += "/" + c.region;
  if (!c.zone.empty())
    out += "/" + c.zone;
  return or_dash(out);
}

std::string candidate_instance(const protocol::candidate_row& c) {
  // SkyPilot marks spot offers the same way.
  return or_dash(c.instance_type) + (c.use_spot ? "[Spot]" : "");
}

std::string nodes_text(uint32_t n) {
  return plural(n, "node");
}

std::string task_label(const protocol::task_plan& t, size_t index) {
  return t.name.empty() ? "task #" + std::to_string(index + 1)
                        : "task '" + t.name + "'";
}

void print_task_plan(std::ostream& out, const protocol::task_plan& t,
                     size_t index, bool pipeline, const plan_style& style) {
  const std::string label = task_label(t, index);
  if (t.candidates.empty()) {
    out << "No resources satisfy " << (pipeline ? label : "the task") << " ("
        << nodes_text(t.num_nodes) << ").\n";
  } else {
    out << "Considered resources"
        << (pipeline ? " for " + label : std::string{}) << " ("
        << nodes_text(t.num_nodes) << "):\n";
    table rows{{"INFRA", "INSTANCE", "vCPUs", "Mem(GB)", "GPUS", "COST ($/h)",
                "CHOSEN"}};
    const auto& mark = glyphs::get(style.utf8).chosen;
    size_t shown = 0;
    for (size_t i = 0; i < t.candidates.size(); ++i) {
      const auto& c = t.candidates[i];
      // The chosen row is shown even past the limit: it is the answer.
      if (shown >= style.max_rows && !c.chosen)
        continue;
      rows.add({candidate_infra(c), candidate_instance(c), number_text(c.cpus),
                number_text(c.memory_gib), or_dash(c.accelerators),
                fixed(c.hourly_price, 2),
                c.chosen ? std::string{mark} : std::string{}});
      ++shown;
    }
    rows.print(out);
    if (shown < t.candidates.size())
      out << "... and " << t.candidates.size() - shown
          << " more (-o json lists all)\n";
  }
  if (!t.excluded.empty()) {
    out << "Not considered:\n";
    for (const auto& e : t.excluded) {
      // Most reasons are sentences that already name their infra.
      bool named = !e.infra.empty() && e.reason.rfind(e.infra, 0) == 0;
      out << "  " << (named ? "" : or_dash(e.infra) + ": ") << e.reason << "\n";
    }
  }
}

nlohmann::ordered_json candidate_json(const protocol::candidate_row& c) {
  nlohmann::ordered_json j;
  j["cloud"] = c.cloud;
  j["region"] = c.region;
  j["zone"] = c.zone;
  j["instance_type"] = c.instance_type;
  j["accelerators"] = c.accelerators;
  j["cpus"] = c.cpus;
  j["memory_gib"] = c.memory_gib;
  j["use_spot"] = c.use_spot;
  j["num_nodes"] = c.num_nodes;
  j["hourly_price"] = c.hourly_price;
  j["chosen"] = c.chosen;
  return j;
}

void add_task_json(nlohmann::ordered_json& j, const protocol::task_plan& t) {
  j["candidates"] = nlohmann::ordered_json::array();
  for (const auto& c : t.candidates)
    j["candidates"].push_back(candidate_json(c));
  j["excluded"] = nlohmann::ordered_json::array();
  for (const auto& e : t.excluded)
    j["excluded"].push_back({{"infra", e.infra}, {"reason", e.reason}});
}

// -- queue -----------------------------------------------------------------

std::string duration_text(const job_summary& j, int64_t now_ms) {
  if (j.started_at_ms <= 0)
    return "-";
  int64_t end = j.ended_at_ms > 0 ? j.ended_at_ms : now_ms;
  return format_duration_ms(std::max<int64_t>(0, end - j.started_at_ms));
}

nlohmann::ordered_json time_or_null(int64_t ms) {
  return ms > 0 ? nlohmann::ordered_json(ms) : nlohmann::ordered_json(nullptr);
}

void print_cluster_queue(std::ostream& out, const std::string& cluster,
                         const std::vector<const job_summary*>& jobs,
                         int64_t now_ms) {
  out << "Job queue of cluster " << cluster << "\n";
  if (jobs.empty()) {
    out << "No jobs.\n";
    return;
  }
  table t{{"ID", "NAME", "SUBMITTED", "STARTED", "DURATION", "RESOURCES",
           "STATUS", "EXIT"}};
  for (const auto* j : jobs)
    t.add({std::to_string(j->job_id), or_dash(j->name),
           time_ago(j->submitted_at_ms, now_ms),
           time_ago(j->started_at_ms, now_ms), duration_text(*j, now_ms),
           or_dash(j->resources), j->status,
           j->exit_code ? std::to_string(*j->exit_code) : "-"});
  t.print(out);
}

// -- gpus ------------------------------------------------------------------

std::string gpu_price(const std::optional<double>& p) {
  // SkyPilot's show-gpus prints prices as "$ 3.673".
  return p ? "$ " + fixed(*p, 3) : "-";
}

std::string counts_text(const std::vector<double>& counts) {
  std::string out;
  for (double c : counts)
    out += (out.empty() ? "" : ", ") + number_text(c);
  return or_dash(out);
}

} // namespace

std::string number_text(double v) {
  // Unknown sizes (e.g. a local node without a request) may come as NaN.
  if (!std::isfinite(v))
    return "-";
  if (std::abs(v - std::round(v)) < 1e-9)
    return std::to_string(static_cast<long long>(std::llround(v)));
  std::string s = fixed(v, 2);
  while (!s.empty() && s.back() == '0')
    s.pop_back();
  if (!s.empty() && s.back() == '.')
    s.pop_back();
  return s;
}

std::string time_ago(int64_t then_ms, int64_t now_ms) {
  if (then_ms <= 0)
    return "-";
  const int64_t secs = std::max<int64_t>(0, (now_ms - then_ms) / 1000);
  if (secs < 10)
    return "a few secs ago";
  if (secs < 60)
    return plural(secs, "sec") + " ago";
  if (secs < 3600)
    return plural(secs / 60, "min") + " ago";
  if (secs < 86400)
    return plural(secs / 3600, "hr") + " ago";
  const int64_t days = secs / 86400;
  if (days < 30)
    return plural(days, "day") + " ago";
  if (days < 365)
    return plural(days / 30, "month") + " ago";
  return plural(days / 365, "year") + " ago";
}

bool plan_feasible(const protocol::plan_reply& plan) {
  if (plan.tasks.empty())
    return false;
  for (const auto& t : plan.tasks)
    if (t.candidates.empty())
      return false;
  return true;
}

void print_plan(std::ostream& out, const protocol::plan_reply& plan,
                const plan_style& style) {
  const bool pipeline = plan.tasks.size() > 1;
  for (size_t i = 0; i < plan.tasks.size(); ++i) {
    if (i > 0)
      out << "\n";
    print_task_plan(out, plan.tasks[i], i, pipeline, style);
  }
  if (pipeline && plan_feasible(plan))
    out << "\nTotal hourly price of the chosen resources: $"
        << fixed(plan.total_hourly_price, 2) << "\n";
}

nlohmann::ordered_json plan_json(const protocol::plan_reply& plan) {
  nlohmann::ordered_json j = nlohmann::ordered_json::object();
  if (plan.tasks.size() == 1) {
    add_task_json(j, plan.tasks.front());
    return j;
  }
  j["tasks"] = nlohmann::ordered_json::array();
  for (const auto& t : plan.tasks) {
    nlohmann::ordered_json task;
    task["name"] = t.name;
    add_task_json(task, t);
    j["tasks"].push_back(std::move(task));
  }
  j["total_hourly_price"] = plan.total_hourly_price;
  return j;
}

size_t hide_managed_clusters(protocol::status_reply& reply) {
  auto& rows = reply.clusters;
  auto before = rows.size();
  rows.erase(std::remove_if(rows.begin(), rows.end(),
                            [](const auto& c) { return !c.owner.empty(); }),
             rows.end());
  return before - rows.size();
}

void print_status(std::ostream& out, const protocol::status_reply& reply,
                  int64_t now_ms, size_t hidden) {
  if (reply.clusters.empty()) {
    out << "No existing clusters.\n";
  } else {
    const bool owners
      = std::any_of(reply.clusters.begin(), reply.clusters.end(),
                    [](const auto& c) { return !c.owner.empty(); });
    std::vector<std::string> header{"NAME",   "INFRA",    "RESOURCES",
                                    "STATUS", "AUTOSTOP", "LAUNCHED",
                                    "PRICE/H"};
    if (owners)
      header.push_back("OWNER");
    table t{std::move(header)};
    for (const auto& c : reply.clusters) {
      const auto& p = c.placement;
      std::vector<std::string> row{
        c.name,
        or_dash(p.infra()),
        p.resources_text(),
        c.status,
        c.autostop.text(),
        time_ago(c.launched_at_ms, now_ms),
        p.hourly_price > 0 ? "$" + fixed(p.hourly_price, 2) : "-"};
      if (owners)
        row.push_back(c.owner.empty() ? "-" : owner_text(c.owner));
      t.add(std::move(row));
    }
    t.print(out);
    // Why a cluster is INIT is the first thing its owner wants to know.
    for (const auto& c : reply.clusters)
      if (!c.reason.empty())
        out << "Cluster " << c.name << ": " << c.reason << "\n";
  }
  if (hidden > 0)
    out << hidden << " managed job cluster" << (hidden == 1 ? "" : "s")
        << " hidden: skyctl status -a shows " << (hidden == 1 ? "it" : "them")
        << "; skyctl jobs queue lists the jobs.\n";
}

void print_queue(std::ostream& out, const protocol::queue_reply& reply,
                 const std::vector<std::string>& requested, int64_t now_ms) {
  // Group by cluster, keeping skyd's order of first appearance, then the
  // requested clusters that have no job at all.
  std::vector<std::pair<std::string, std::vector<const job_summary*>>> groups;
  auto group_of = [&](const std::string& cluster) -> auto& {
    for (auto& g : groups)
      if (g.first == cluster)
        return g.second;
    groups.emplace_back(cluster, std::vector<const job_summary*>{});
    return groups.back().second;
  };
  for (const auto& j : reply.jobs)
    group_of(j.cluster).push_back(&j);
  for (const auto& name : requested)
    group_of(name);
  if (groups.empty()) {
    out << "No jobs.\n";
    return;
  }
  for (size_t i = 0; i < groups.size(); ++i) {
    if (i > 0)
      out << "\n";
    print_cluster_queue(out, groups[i].first, groups[i].second, now_ms);
  }
}

nlohmann::ordered_json queue_json(const protocol::queue_reply& reply) {
  nlohmann::ordered_json jobs = nlohmann::ordered_json::array();
  for (const auto& j : reply.jobs) {
    nlohmann::ordered_json o;
    o["cluster"] = j.cluster;
    o["job_id"] = j.job_id;
    o["name"] = j.name;
    o["command"] = j.command;
    o["status"] = j.status;
    o["submitted_at"] = time_or_null(j.submitted_at_ms);
    o["started_at"] = time_or_null(j.started_at_ms);
    o["ended_at"] = time_or_null(j.ended_at_ms);
    o["exit_code"] = j.exit_code ? nlohmann::ordered_json(*j.exit_code)
                                 : nlohmann::ordered_json(nullptr);
    o["resources"] = j.resources;
    o["num_nodes"] = j.num_nodes;
    jobs.push_back(std::move(o));
  }
  nlohmann::ordered_json out;
  out["jobs"] = std::move(jobs);
  return out;
}

void print_gpus(std::ostream& out, const protocol::show_gpus_reply& reply,
                bool detailed) {
  if (!detailed) {
    table t{{"GPU", "QTY", "MEMORY"}};
    for (const auto& g : reply.accelerators)
      t.add(
        {g.name, counts_text(g.counts),
         g.device_memory_gib ? number_text(*g.device_memory_gib) + "GB" : "-"});
    t.print(out);
    return;
  }
  for (size_t i = 0; i < reply.accelerators.size(); ++i) {
    const auto& g = reply.accelerators[i];
    if (i > 0)
      out << "\n";
    if (g.offers.empty()) {
      out << "No offers of " << g.name << " on the enabled infra.\n";
      continue;
    }
    table t{{"GPU", "QTY", "CLOUD", "REGION", "INSTANCE_TYPE", "vCPUs",
             "HOST_MEMORY", "HOURLY_PRICE", "HOURLY_SPOT_PRICE"}};
    for (const auto& o : g.offers)
      t.add({g.name, number_text(o.count), o.cloud, or_dash(o.region),
             or_dash(o.instance_type), number_text(o.vcpus),
             number_text(o.memory_gib) + "GB", gpu_price(o.price),
             gpu_price(o.spot_price)});
    t.print(out);
  }
}

} // namespace sky::cli
