#include "skyctl/serve_render.hpp"

#include <algorithm>
#include <ostream>
#include <utility>

#include "messages/cluster.hpp"
#include "messages/msgpack_util.hpp"
#include "skyctl/confirm.hpp"
#include "skyctl/output.hpp"
#include "skyctl/render.hpp"

namespace sky::cli {

namespace {

std::string or_dash(const std::string& s) {
  return s.empty() ? "-" : s;
}

std::string count_text(int64_t n, const char* unit) {
  return std::to_string(n) + " " + unit + (n == 1 ? "" : "s");
}

std::string quoted(const std::string& name) {
  return "'" + name + "'";
}

bool failed_replica(const protocol::replica_row& r) {
  return r.status.rfind("FAILED", 0) == 0;
}

// One line for a table cell: newlines and tabs become spaces.
std::string one_line(std::string text) {
  for (auto& c : text)
    if (c == '\n' || c == '\r' || c == '\t')
      c = ' ';
  while (!text.empty() && text.back() == ' ')
    text.pop_back();
  return text;
}

std::string versions_text(const std::vector<uint64_t>& versions) {
  std::string out;
  for (auto v : versions)
    out += (out.empty() ? "" : ", ") + std::to_string(v);
  return out.empty() ? "none" : out;
}

caf::error bad_args(std::string message, std::string hint) {
  return make_error(errc::invalid_argument, std::move(message),
                    std::move(hint));
}

void print_services_table(std::ostream& out,
                          const protocol::serve_status_reply& reply,
                          int64_t now_ms) {
  table t{{"NAME", "VERSION", "UPTIME", "STATUS", "REPLICAS", "ENDPOINT"}};
  for (const auto& s : reply.services)
    t.add({s.name, std::to_string(s.version),
           uptime_text(s.ready_since_ms, now_ms), or_dash(s.status),
           replicas_text(s), or_dash(endpoint_url(s.endpoint))});
  t.print(out);
}

void print_service_details(std::ostream& out, const protocol::service_row& s) {
  out << "Service " << s.name << ":\n";
  for (const auto& line : s.policy)
    out << "  " << line << "\n";
  out << "  QPS: " << number_text(s.qps) << "\n";
  out << "  Routed versions: " << versions_text(s.routed_versions) << "\n";
  if (!s.update_mode.empty())
    out << "  Update mode: " << s.update_mode << "\n";
  if (!s.reason.empty())
    out << "  Reason: " << one_line(s.reason) << "\n";
}

void print_replicas_table(std::ostream& out,
                          const protocol::serve_status_reply& reply,
                          int64_t now_ms, const serve_status_style& style) {
  std::vector<std::string> header{"SERVICE_NAME", "ID",       "VERSION",
                                  "ENDPOINT",     "LAUNCHED", "INFRA",
                                  "RESOURCES",    "STATUS"};
  if (style.verbose) {
    header.emplace_back("CLUSTER");
    header.emplace_back("REASON");
  }
  table t{header};
  size_t shown = 0;
  for (const auto& r : reply.replicas) {
    if (!style.verbose && shown >= style.max_replicas)
      break;
    std::vector<std::string> row{r.service,
                                 std::to_string(r.id),
                                 std::to_string(r.version),
                                 or_dash(r.endpoint),
                                 time_ago(r.launched_at_ms, now_ms),
                                 or_dash(r.infra),
                                 or_dash(r.resources),
                                 or_dash(r.status)};
    if (style.verbose) {
      row.push_back(or_dash(r.cluster));
      row.push_back(or_dash(one_line(r.reason)));
    }
    t.add(std::move(row));
    ++shown;
  }
  t.print(out);
  if (shown < reply.replicas.size())
    out << "... and "
        << count_text(reply.replicas.size() - shown, "more replica")
        << " (-v shows all)\n";
}

void print_log_tails(std::ostream& out,
                     const protocol::serve_status_reply& reply) {
  for (const auto& r : reply.replicas) {
    if (!failed_replica(r) || r.log_tail.empty())
      continue;
    out << "\nReplica " << r.id << " of service " << r.service << " ("
        << r.status << "), last output:\n";
    size_t start = 0;
    while (start < r.log_tail.size()) {
      auto end = r.log_tail.find('\n', start);
      if (end == std::string::npos)
        end = r.log_tail.size();
      out << "  " << r.log_tail.substr(start, end - start) << "\n";
      start = end + 1;
    }
  }
}

} // namespace

// -- spec --------------------------------------------------------------------

bool task_uses_spot(const task::task_spec& task) {
  const auto& res = task.resources;
  if (res.use_spot)
    return *res.use_spot;
  const auto& alternatives = !res.any_of.empty() ? res.any_of : res.ordered;
  if (alternatives.empty())
    return false;
  return std::all_of(alternatives.begin(), alternatives.end(),
                     [](const auto& r) { return r.use_spot.value_or(false); });
}

std::string autoscaling_policy_text(const task::replica_policy_spec& p) {
  const int min = p.min_replicas;
  const int max = p.max_replicas.value_or(min);
  const std::string extra
    = p.num_overprovision > 0
        ? std::to_string(p.num_overprovision) + " overprovisioned"
        : std::string{};
  if (max == min)
    return "Fixed " + count_text(min, "replica")
           + (extra.empty() ? "" : " (+" + extra + ")");
  std::string text = "Autoscaling from " + std::to_string(min) + " to "
                     + count_text(max, "replica");
  std::string detail;
  if (p.target_qps_per_replica)
    detail
      = "target QPS per replica: " + number_text(*p.target_qps_per_replica);
  if (!extra.empty())
    detail += (detail.empty() ? "" : ", ") + extra;
  return detail.empty() ? text : text + " (" + detail + ")";
}

std::string spot_policy_text(const task::replica_policy_spec& p,
                             bool use_spot) {
  if (!use_spot)
    return "No spot policy (on-demand replicas)";
  const int base = p.base_ondemand_fallback_replicas.value_or(0);
  const std::string base_text = count_text(base, "base on-demand replica");
  if (p.dynamic_ondemand_fallback.value_or(false))
    return base > 0 ? "Dynamic on-demand fallback with " + base_text
                    : std::string{"Dynamic on-demand fallback"};
  if (base > 0)
    return "Static spot mixture with " + base_text;
  return "Spot replicas, no on-demand fallback";
}

std::vector<std::string> service_spec_lines(const task::service_spec& spec,
                                            bool use_spot) {
  const auto& probe = spec.readiness_probe;
  std::string method = probe.post_data ? "POST " : "GET ";
  std::vector<std::string> lines;
  lines.push_back("Readiness probe method: " + method + probe.path
                  + (probe.headers.empty() ? "" : " with custom headers"));
  lines.push_back("Readiness initial delay seconds: "
                  + std::to_string(probe.initial_delay_seconds));
  lines.push_back("Readiness probe timeout seconds: "
                  + std::to_string(probe.timeout_seconds));
  lines.push_back(
    "Readiness failure timeout seconds: "
    + std::to_string(spec.consecutive_failure_threshold_timeout_seconds));
  lines.push_back("Replica autoscaling policy: "
                  + autoscaling_policy_text(spec.replica_policy));
  lines.push_back("Spot policy: "
                  + spot_policy_text(spec.replica_policy, use_spot));
  lines.push_back("Load balancing policy: " + spec.load_balancing_policy);
  if (spec.port)
    lines.push_back("Replica port: " + std::to_string(*spec.port));
  return lines;
}

void print_spec_lines(std::ostream& out,
                      const std::vector<std::string>& lines) {
  out << "Service spec:\n";
  for (const auto& line : lines)
    out << "  " << line << "\n";
}

// -- up / update -------------------------------------------------------------

void print_serve_up(std::ostream& out, const protocol::service_row& row) {
  const auto url = endpoint_url(row.endpoint);
  out << "Service name: " << row.name << "\n";
  out << "Endpoint URL: "
      << (url.empty() ? "none yet (the load balancer is not listening)" : url)
      << "\n";
  if (!row.status.empty())
    out << "Status: " << row.status << " (" << replicas_text(row)
        << " replicas ready)\n";
  const auto curl
    = url.empty() ? "curl $(skyctl serve status --endpoint " + row.name + ")"
                  : "curl " + url;
  const std::vector<std::pair<std::string, std::string>> commands{
    {"check the service:", "skyctl serve status " + row.name},
    {"send a request:", curl},
    {"follow replica logs:", "skyctl serve logs " + row.name},
    {"tear it down:", "skyctl serve down " + row.name}};
  size_t width = 0;
  for (const auto& [what, cmd] : commands)
    width = std::max(width, what.size());
  out << "Useful commands:\n";
  for (const auto& [what, cmd] : commands)
    out << "  " << what << std::string(width - what.size() + 2, ' ') << cmd
        << "\n";
}

void print_serve_update(std::ostream& out, const protocol::service_row& row,
                        const std::string& mode) {
  const std::string how = mode.empty() ? "rolling" : mode;
  out << "Service " << quoted(row.name) << " updated to version " << row.version
      << " (" << how << ").\n";
  if (how == "blue_green")
    out << "Traffic moves to version " << row.version
        << " once enough of its replicas are ready; the old ones then "
           "leave.\n";
  else
    out << "Replicas of version " << row.version
        << " replace the old ones as they become ready.\n";
  out << "Watch it with: skyctl serve status " << row.name << "\n";
}

// -- status ------------------------------------------------------------------

std::string uptime_text(int64_t ready_since_ms, int64_t now_ms) {
  if (ready_since_ms <= 0)
    return "-";
  return format_duration_ms(std::max<int64_t>(0, now_ms - ready_since_ms));
}

std::string replicas_text(const protocol::service_row& row) {
  return std::to_string(row.ready_replicas) + "/"
         + std::to_string(row.replicas);
}

std::string endpoint_url(const std::string& endpoint) {
  if (endpoint.empty() || endpoint.find("://") != std::string::npos)
    return endpoint;
  return "http://" + endpoint;
}

void print_serve_status(std::ostream& out,
                        const protocol::serve_status_reply& reply,
                        int64_t now_ms, const serve_status_style& style) {
  if (reply.services.empty()) {
    out << "No existing services.\n";
    return;
  }
  out << "Services\n";
  print_services_table(out, reply, now_ms);
  if (style.verbose)
    for (const auto& s : reply.services) {
      out << "\n";
      print_service_details(out, s);
    }
  out << "\nService Replicas\n";
  if (reply.replicas.empty())
    out << "No existing replicas.\n";
  else
    print_replicas_table(out, reply, now_ms, style);
  if (style.verbose)
    print_log_tails(out, reply);
}

result<nlohmann::ordered_json>
serve_status_json(const protocol::serve_status_reply& reply) {
  // Re-encoding the decoded reply gives every field, defaults included,
  // whatever an older or newer skyd left out (as `status -o json`).
  return body_to_json(sky::encode(reply));
}

result<std::string> service_endpoint(const protocol::serve_status_reply& reply,
                                     const std::string& name) {
  auto it = std::find_if(reply.services.begin(), reply.services.end(),
                         [&](const auto& s) { return s.name == name; });
  if (it == reply.services.end())
    return make_error(errc::not_found,
                      "service " + quoted(name) + " does not exist",
                      "list services with `skyctl serve status`");
  if (it->endpoint.empty())
    return make_error(
      errc::conflict,
      "service " + quoted(name) + " has no endpoint yet"
        + (it->status.empty() ? "" : " (status " + it->status + ")"),
      "its load balancer is not listening yet; check "
      "`skyctl serve status "
        + name + "`");
  return endpoint_url(it->endpoint);
}

// -- down --------------------------------------------------------------------

result<void> check_serve_down_args(const std::vector<std::string>& names,
                                   bool all, uint64_t replica_id) {
  if (all && !names.empty())
    return bad_args("give service names or -a, not both",
                    "skyctl serve down -a tears down every service");
  if (!all && names.empty())
    return bad_args("serve down needs service names",
                    "e.g. skyctl serve down mysvc, or -a for all");
  if (replica_id != 0 && names.size() != 1)
    return bad_args(
      "--replica-id needs exactly one service name, got "
        + (all ? std::string{"-a"} : std::to_string(names.size())),
      "e.g. skyctl serve down mysvc --replica-id 2");
  for (const auto& name : names)
    if (auto ok = protocol::validate_service_name(name); !ok)
      return ok;
  return {};
}

std::string serve_down_question(const std::vector<std::string>& names,
                                uint64_t replica_id) {
  if (replica_id != 0 && names.size() == 1)
    return "Terminating replica " + std::to_string(replica_id) + " of service "
           + quoted(names.front()) + ". Proceed?";
  return "Terminating service(s) " + quoted(join_names(names)) + ". Proceed?";
}

int print_serve_down(std::ostream& out, std::ostream& err,
                     const protocol::serve_down_reply& reply,
                     uint64_t replica_id) {
  int rc = exit_ok;
  for (const auto& r : reply.results) {
    if (r.ok) {
      if (!r.message.empty())
        out << r.message << "\n";
      else if (replica_id != 0)
        out << "Replica " << replica_id << " of service " << quoted(r.service)
            << " terminated.\n";
      else
        out << "Service " << quoted(r.service) << " terminated.\n";
    } else {
      err << "skyctl: service " << quoted(r.service) << ": "
          << (r.message.empty() ? std::string{"failed"} : r.message) << "\n";
      rc = exit_failed;
    }
  }
  out.flush();
  err.flush();
  return rc;
}

// -- names and logs ----------------------------------------------------------

result<void> check_serve_logs_args(const std::string& name,
                                   std::optional<uint64_t> replica_id,
                                   bool load_balancer) {
  if (auto ok = protocol::validate_service_name(name); !ok)
    return ok;
  if (replica_id && load_balancer)
    return bad_args("give a replica id or --load-balancer, not both",
                    "skyctl serve logs " + name
                      + " --load-balancer prints "
                        "the load balancer's log");
  if (replica_id && *replica_id == 0)
    return bad_args("replica ids start at 1",
                    "`skyctl serve status " + name + "` lists the replicas");
  return {};
}

std::string serve_logs_command(const protocol::serve_logs_request& req) {
  std::string cmd = "skyctl serve logs " + req.name;
  if (req.load_balancer)
    cmd += " --load-balancer";
  else if (req.replica_id != 0)
    cmd += " " + std::to_string(req.replica_id);
  return cmd;
}

} // namespace sky::cli
