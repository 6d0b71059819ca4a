// `skyctl show-gpus [NAME[:COUNT]]` (alias `skyctl gpus list`): the
// accelerators the enabled infra offers, and their prices.

#include <iostream>

#include "messages/cluster_protocol.hpp"
#include "messages/msgpack_util.hpp"
#include "skyctl/commands/commands.hpp"
#include "skyctl/render.hpp"

namespace sky::cli {

namespace {

struct gpus_options {
  std::string filter;
  std::string infra;
  output_option out;
};

int run_show_gpus(cli_context& ctx, const gpus_options& o) {
  auto conn = ctx.connect();
  if (!conn)
    return report(conn.error());
  protocol::show_gpus_request req{o.filter, o.infra};
  auto reply = conn->call("show_gpus", sky::encode(req), ctx.timeout());
  if (!reply)
    return report(reply.error());
  auto gpus = protocol::decode_as<protocol::show_gpus_reply>(reply->body,
                                                             "show_gpus reply");
  if (!gpus)
    return report(gpus.error());
  if (o.out.json()) {
    auto json = body_to_json(sky::encode(*gpus));
    if (!json)
      return report(json.error());
    std::cout << json->dump(2) << "\n";
    return exit_ok;
  }
  if (gpus->accelerators.empty()) {
    if (o.filter.empty()) {
      std::cout << "No accelerators are offered by "
                << (o.infra.empty() ? "the enabled infra" : o.infra) << ".\n";
      return exit_ok;
    }
    return report(make_error(
      errc::not_found,
      "no accelerator matches '" + o.filter + "'"
        + (o.infra.empty() ? "" : " on " + o.infra),
      "`skyctl show-gpus` lists every accelerator the enabled infra offers"));
  }
  print_gpus(std::cout, *gpus, !o.filter.empty());
  return exit_ok;
}

void configure_gpus(CLI::App* cmd, cli_context& ctx) {
  auto o = std::make_shared<gpus_options>();
  cmd->add_option("accelerator", o->filter,
                  "an accelerator (A100) or with a count (A100:8): show its "
                  "offers and prices");
  cmd->add_option("--infra", o->infra,
                  "only this infra: gcp, gcp/us-central1, local, ...");
  o->out.add_to(cmd);
  cmd->callback([&ctx, o] { ctx.exit_code = run_show_gpus(ctx, *o); });
}

} // namespace

void add_show_gpus(CLI::App& app, cli_context& ctx) {
  configure_gpus(
    app.add_subcommand("show-gpus",
                       "list accelerators and their prices (alias: gpus list)"),
    ctx);
  auto* gpus = app.add_subcommand("gpus", "accelerators");
  gpus->require_subcommand(1);
  configure_gpus(gpus->add_subcommand(
                   "list", "list accelerators and their prices (as show-gpus)"),
                 ctx);
}

} // namespace sky::cli
