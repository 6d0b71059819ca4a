#include "skyctl/cost_report.hpp"

#include <algorithm>
#include <cstdio>
#include <map>
#include <optional>
#include <ostream>

#include "messages/body_reader.hpp"
#include "skyctl/output.hpp"

namespace sky::cli {

namespace {

constexpr double ms_per_hour = 3'600'000.0;

struct open_row {
  cost_row row;
  /// Billing started at (UP), if it runs now.
  std::optional<int64_t> up_since;
  bool ever_up = false;
  /// Position of its first `cluster.up` in the log: the row order.
  uint64_t first_up_seq = 0;
};

// Reads the placement fields an event carries (cluster.provisioning and
// cluster.up have them; others have only infra and status).
void take_placement(cost_row& row, const body_reader& f) {
  if (f.has("infra"))
    if (auto v = f.str("infra", ""); v && !v->empty())
      row.infra = *v;
  if (f.has("instance_type"))
    if (auto v = f.str("instance_type", ""); v)
      row.instance_type = *v;
  if (f.has("resources"))
    if (auto v = f.str("resources", ""); v)
      row.resources = *v;
  if (f.has("hourly_price"))
    if (auto v = f.f64("hourly_price", 0); v)
      row.hourly_price = *v;
  if (f.has("num_nodes"))
    if (auto v = f.u64("num_nodes", 1); v && *v > 0)
      row.num_nodes = static_cast<uint32_t>(*v);
  if (f.has("use_spot"))
    if (auto v = f.boolean("use_spot", false); v)
      row.use_spot = *v;
}

void stop_billing(open_row& r, int64_t at) {
  if (!r.up_since)
    return;
  auto ms = std::max<int64_t>(0, at - *r.up_since);
  double hours = static_cast<double>(ms) / ms_per_hour;
  r.row.hours += hours;
  r.row.total += hours * r.row.hourly_price;
  r.up_since.reset();
}

std::string money(double v) {
  char buf[64];
  std::snprintf(buf, sizeof(buf), "$%.2f", v);
  return buf;
}

std::string fixed_text(double v, int digits) {
  char buf[64];
  std::snprintf(buf, sizeof(buf), "%.*f", digits, v);
  return buf;
}

} // namespace

std::vector<cost_row> cost_report(const std::vector<event>& events,
                                  int64_t now_ms) {
  // (first up seq, row): rows come out in order of first launch.
  std::vector<std::pair<uint64_t, cost_row>> done;
  std::map<std::string, open_row> open;
  // Rows in order of first launch: remember when each started.
  auto finish
    = [&](const std::string& name, int64_t at, const std::string& status) {
        auto it = open.find(name);
        if (it == open.end())
          return;
        stop_billing(it->second, at);
        if (it->second.ever_up) {
          it->second.row.status = status;
          it->second.row.ended_at_ms = at;
          done.emplace_back(it->second.first_up_seq, std::move(it->second.row));
        }
        open.erase(it);
      };
  for (const auto& ev : events) {
    if (ev.entity.rfind("cluster.", 0) != 0)
      continue;
    auto name = ev.entity.substr(8);
    auto fields = body_reader::parse(ev.fields, "event fields");
    const std::string& k = ev.kind;
    if (k == "cluster.terminated") {
      finish(name, ev.time_ms, "TERMINATED");
      continue;
    }
    if (k == "cluster.launch_failed" && open.count(name) > 0
        && !open[name].ever_up) {
      // Never came up: nothing was billed, and the name is free again.
      open.erase(name);
      continue;
    }
    auto& r = open[name];
    r.row.cluster = name;
    if (fields && (k == "cluster.provisioning" || k == "cluster.up"))
      take_placement(r.row, *fields);
    if (k == "cluster.up") {
      if (!r.up_since)
        r.up_since = ev.time_ms;
      if (!r.ever_up) {
        r.row.launched_at_ms = ev.time_ms;
        r.first_up_seq = ev.seq;
      }
      r.ever_up = true;
      r.row.status = "UP";
    } else if (k == "cluster.stopped") {
      stop_billing(r, ev.time_ms);
      r.row.status = "STOPPED";
    } else if (k == "cluster.preempted" || k == "cluster.node_lost"
               || k == "cluster.lost") {
      stop_billing(r, ev.time_ms);
      if (r.ever_up)
        r.row.status = "INIT";
    }
  }
  // Clusters that still exist are billed until now.
  for (auto& [name, r] : open) {
    if (!r.ever_up)
      continue;
    stop_billing(r, now_ms);
    done.emplace_back(r.first_up_seq, std::move(r.row));
  }
  std::sort(done.begin(), done.end(),
            [](const auto& a, const auto& b) { return a.first < b.first; });
  std::vector<cost_row> rows;
  rows.reserve(done.size());
  for (auto& [seq, row] : done)
    rows.push_back(std::move(row));
  return rows;
}

nlohmann::ordered_json cost_json(const std::vector<cost_row>& rows) {
  nlohmann::ordered_json j;
  j["clusters"] = nlohmann::ordered_json::array();
  double total = 0;
  for (const auto& r : rows) {
    nlohmann::ordered_json c;
    c["name"] = r.cluster;
    c["infra"] = r.infra;
    c["instance_type"] = r.instance_type;
    c["resources"] = r.resources;
    c["num_nodes"] = r.num_nodes;
    c["use_spot"] = r.use_spot;
    c["hours"] = r.hours;
    c["hourly_price"] = r.hourly_price;
    c["total"] = r.total;
    c["status"] = r.status;
    c["launched_at"] = r.launched_at_ms;
    c["ended_at"] = r.ended_at_ms == 0 ? nlohmann::ordered_json(nullptr)
                                       : nlohmann::ordered_json(r.ended_at_ms);
    j["clusters"].push_back(std::move(c));
    total += r.total;
  }
  j["total"] = total;
  return j;
}

void print_cost(std::ostream& out, const std::vector<cost_row>& rows) {
  if (rows.empty()) {
    out << "No cluster has been up yet.\n";
    return;
  }
  table t{{"NAME", "INFRA", "INSTANCE", "NODES", "HOURS", "PRICE/H", "TOTAL",
           "STATUS"}};
  double total = 0;
  for (const auto& r : rows) {
    t.add({r.cluster, r.infra.empty() ? "-" : r.infra,
           r.instance_type.empty()
             ? "-"
             : r.instance_type + (r.use_spot ? " [spot]" : ""),
           std::to_string(r.num_nodes), fixed_text(r.hours, 3),
           money(r.hourly_price), money(r.total), r.status});
    total += r.total;
  }
  t.print(out);
  out << "Total: " << money(total)
      << " (catalog prices; simulated clouds bill nothing)\n";
}

} // namespace sky::cli
