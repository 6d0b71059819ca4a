// `skyctl status`: the clusters skyd manages, like `sky status`.

#include <algorithm>
#include <chrono>
#include <iostream>

#include "messages/cluster_protocol.hpp"
#include "messages/msgpack_util.hpp"
#include "skyctl/commands/commands.hpp"
#include "skyctl/render.hpp"

namespace sky::cli {

namespace {

struct status_options {
  std::vector<std::string> clusters;
  bool refresh = false;
  /// Also the clusters of managed jobs (hidden otherwise: they are their
  /// job's to launch and tear down).
  bool all = false;
  bool ip = false;
  bool endpoints = false;
  output_option out;
};

int64_t now_ms() {
  return std::chrono::duration_cast<std::chrono::milliseconds>(
           std::chrono::system_clock::now().time_since_epoch())
    .count();
}

// `--ip`: the head node's address of the one named cluster.
int print_head_ip(const protocol::status_reply& reply,
                  const std::string& name) {
  auto it = std::find_if(reply.clusters.begin(), reply.clusters.end(),
                         [&](const auto& c) { return c.name == name; });
  if (it == reply.clusters.end())
    return report(make_error(errc::not_found,
                             "cluster '" + name + "' does not exist",
                             "list clusters with `skyctl status`"));
  if (it->head_ip.empty())
    return report(make_error(errc::conflict,
                             "cluster '" + name + "' has no IP address yet "
                               + "(status " + it->status + ")",
                             it->status == "STOPPED"
                               ? "start it with `skyctl start " + name + "`"
                               : "wait until it is UP"));
  std::cout << it->head_ip << "\n";
  return exit_ok;
}

int run_status(cli_context& ctx, const status_options& o) {
  if (o.endpoints)
    // The status reply carries no ports yet: refuse rather than print an
    // empty list that looks like "no endpoints".
    return report_usage(make_error(
      errc::unsupported,
      "--endpoints is not supported yet: skyd does not report the ports "
      "clusters expose",
      "use `skyctl status --ip CLUSTER` and the ports of your task"));
  if (o.ip && o.clusters.size() != 1)
    return report_usage(make_error(errc::invalid_argument,
                                   "--ip needs exactly one cluster name, got "
                                     + std::to_string(o.clusters.size()),
                                   "e.g. skyctl status --ip mycluster"));
  for (const auto& name : o.clusters)
    if (auto ok = validate_cluster_name(name); !ok)
      return report_usage(ok.error());
  auto conn = ctx.connect();
  if (!conn)
    return report(conn.error());
  protocol::clusters_request req{o.clusters, o.clusters.empty()};
  auto reply = conn->call("status", sky::encode(req), ctx.timeout());
  if (!reply)
    return report(reply.error());
  auto status
    = protocol::decode_as<protocol::status_reply>(reply->body, "status reply");
  if (!status)
    return report(status.error());
  if (o.ip)
    return print_head_ip(*status, o.clusters.front());
  // Named clusters are shown whoever owns them: they were asked for.
  size_t hidden = 0;
  if (!o.all && o.clusters.empty())
    hidden = hide_managed_clusters(*status);
  if (o.out.json()) {
    // Re-encoding the decoded reply gives every field, defaults included,
    // whatever an older or newer skyd left out.
    auto json = body_to_json(sky::encode(*status));
    if (!json)
      return report(json.error());
    std::cout << json->dump(2) << "\n";
  } else {
    print_status(std::cout, *status, now_ms(), hidden);
  }
  std::vector<std::string> missing;
  for (const auto& name : o.clusters)
    if (std::none_of(status->clusters.begin(), status->clusters.end(),
                     [&](const auto& c) { return c.name == name; }))
      missing.push_back(name);
  if (missing.empty())
    return exit_ok;
  std::string names;
  for (const auto& n : missing)
    names += (names.empty() ? "" : ", ") + n;
  std::cerr << "Cluster(s) not found: " << names << ".\n";
  return exit_failed;
}

} // namespace

void add_status(CLI::App& app, cli_context& ctx) {
  auto* cmd = app.add_subcommand(
    "status", "show clusters: where they run, on what, their state, "
              "autostop and price");
  auto o = std::make_shared<status_options>();
  cmd->add_option("clusters", o->clusters,
                  "clusters to show (default: all of yours)");
  cmd->add_flag("-a,--all", o->all,
                "also show the clusters of managed jobs, with the job that "
                "owns each");
  cmd->add_flag("-r,--refresh", o->refresh,
                "accepted for sky compatibility: skyd keeps cluster states "
                "current on its own, so every status is fresh");
  cmd->add_flag("--ip", o->ip, "print the head node's IP of one cluster");
  cmd->add_flag("--endpoints", o->endpoints,
                "print the cluster's exposed ports (not supported yet)");
  o->out.add_to(cmd);
  cmd->footer("Clusters of managed jobs are hidden unless -a is given or "
              "they are named. With -o json: {\"clusters\": [...]} with "
              "every field skyd reports (times in Unix milliseconds; owner: "
              "\"\" or \"managed_job.<id>\").");
  cmd->callback([&ctx, o] { ctx.exit_code = run_status(ctx, *o); });
}

} // namespace sky::cli
