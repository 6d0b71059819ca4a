#include "skyctl/lifecycle.hpp"

#include <iostream>

#include "messages/cluster_protocol.hpp"
#include "messages/msgpack_util.hpp"
#include "skyctl/confirm.hpp"
#include "skyctl/outcomes.hpp"
#include "skyctl/render.hpp"

namespace sky::cli {

namespace {

struct lifecycle_options {
  std::vector<std::string> clusters;
  bool all = false;
  bool yes = false;
};

// The names -a means, for the confirmation prompt: the user's clusters.
result<std::vector<std::string>> existing_clusters(client::connection& conn,
                                                   const cli_context& ctx) {
  protocol::clusters_request req{{}, true};
  auto reply = conn.call("status", sky::encode(req), ctx.timeout());
  if (!reply)
    return reply.error();
  auto status
    = protocol::decode_as<protocol::status_reply>(reply->body, "status reply");
  if (!status)
    return status.error();
  // -a acts on the user's clusters; a managed job's is the job's (skyd
  // skips them too).
  hide_managed_clusters(*status);
  std::vector<std::string> names;
  for (const auto& c : status->clusters)
    names.push_back(c.name);
  return names;
}

int run_lifecycle(cli_context& ctx, const lifecycle_verb& verb,
                  const lifecycle_options& o) {
  if (o.all && !o.clusters.empty())
    return report_usage(
      make_error(errc::invalid_argument, "give cluster names or -a, not both",
                 "skyctl " + verb.name + " -a acts on every cluster"));
  if (!o.all && o.clusters.empty())
    return report_usage(
      make_error(errc::invalid_argument, verb.name + " needs cluster names",
                 verb.supports_all
                   ? "e.g. skyctl " + verb.name + " mycluster, or -a for all"
                   : "e.g. skyctl " + verb.name + " mycluster"));
  for (const auto& name : o.clusters)
    if (auto ok = validate_cluster_name(name); !ok)
      return report_usage(ok.error());
  auto conn = ctx.connect();
  if (!conn)
    return report(conn.error());
  protocol::clusters_request req{o.clusters, o.all};
  if (should_confirm(ctx.term, o.yes)) {
    auto names = o.clusters;
    if (o.all) {
      auto existing = existing_clusters(*conn, ctx);
      if (!existing)
        return report(existing.error());
      if (existing->empty()) {
        std::cout << "No existing clusters.\n";
        return exit_ok;
      }
      // Act on exactly what was confirmed, not on a cluster launched since.
      names = *existing;
      req = protocol::clusters_request{names, false};
    }
    if (!ask_yes_no(verb.gerund + " cluster(s) " + join_names(names)
                      + ". Proceed?",
                    *ctx.prompt_in, std::cerr)) {
      std::cerr << "Aborted.\n";
      return exit_failed;
    }
  }
  auto reply = conn->call(verb.name, sky::encode(req), ctx.long_timeout());
  if (!reply)
    return report(reply.error());
  auto outcomes = read_outcomes(reply->body);
  if (!outcomes)
    return report(outcomes.error());
  if (outcomes->empty()) {
    if (o.all) {
      std::cout << "No existing clusters.\n";
      return exit_ok;
    }
    // An `ok` without details: every named cluster went through.
    for (const auto& name : req.clusters)
      outcomes->push_back(outcome{name, std::nullopt, true, "", ""});
  }
  return print_outcomes(std::cout, std::cerr, *outcomes, [&](const outcome& r) {
    return "Cluster " + r.cluster + " " + verb.past + ".";
  });
}

} // namespace

void add_lifecycle_command(CLI::App& app, cli_context& ctx,
                           lifecycle_verb verb) {
  auto* cmd = app.add_subcommand(verb.name, verb.description);
  auto o = std::make_shared<lifecycle_options>();
  cmd->add_option("clusters", o->clusters, "cluster names");
  if (verb.supports_all)
    cmd->add_flag("-a,--all", o->all,
                  "every cluster of yours (not those of managed jobs)");
  cmd->add_flag("-y,--yes", o->yes, "do not ask for confirmation");
  cmd->footer("Waits until skyd is done (30 min unless --timeout is given). "
              "Exit 1 when any cluster failed.");
  auto v = std::make_shared<lifecycle_verb>(std::move(verb));
  cmd->callback([&ctx, o, v] { ctx.exit_code = run_lifecycle(ctx, *v, *o); });
}

} // namespace sky::cli
