// `skyctl autostop CLUSTER [-i MIN] [--down] | --cancel`: stop (or tear
// down) a cluster once it has been idle that long.

#include <iostream>

#include "messages/cluster_protocol.hpp"
#include "messages/msgpack_util.hpp"
#include "skyctl/commands/commands.hpp"
#include "skyctl/outcomes.hpp"

namespace sky::cli {

namespace {

// SkyPilot's default when -i is not given.
constexpr int32_t default_idle_minutes = 5;

struct autostop_options {
  std::string cluster;
  std::optional<int32_t> idle_minutes;
  bool down = false;
  bool cancel = false;
};

std::string describe_setting(const protocol::autostop_request& req) {
  if (req.cancel)
    return "Autostop of cluster " + req.cluster + " cancelled.";
  return "Cluster " + req.cluster + " will be "
         + (req.down ? "torn down" : "stopped") + " after "
         + std::to_string(req.idle_minutes) + " idle minute"
         + (req.idle_minutes == 1 ? "" : "s") + ".";
}

int run_autostop(cli_context& ctx, const autostop_options& o) {
  if (auto ok = validate_cluster_name(o.cluster); !ok)
    return report_usage(ok.error());
  if (o.cancel && (o.idle_minutes || o.down))
    return report_usage(make_error(
      errc::invalid_argument, "--cancel cannot be combined with -i or --down",
      "cancel with `skyctl autostop " + o.cluster
        + " --cancel`, or set it with -i MIN"));
  protocol::autostop_request req;
  req.cluster = o.cluster;
  req.cancel = o.cancel;
  req.down = o.down;
  req.idle_minutes
    = o.cancel ? -1 : o.idle_minutes.value_or(default_idle_minutes);
  auto conn = ctx.connect();
  if (!conn)
    return report(conn.error());
  auto reply = conn->call("autostop", sky::encode(req), ctx.timeout());
  if (!reply)
    return report(reply.error());
  auto outcomes = read_outcomes(reply->body);
  if (!outcomes)
    return report(outcomes.error());
  if (outcomes->empty())
    outcomes->push_back(outcome{o.cluster, std::nullopt, true, "", ""});
  return print_outcomes(std::cout, std::cerr, *outcomes,
                        [&](const outcome&) { return describe_setting(req); });
}

} // namespace

void add_autostop(CLI::App& app, cli_context& ctx) {
  auto* cmd = app.add_subcommand(
    "autostop", "stop (or tear down) a cluster after it has been idle (no job "
                "pending or running) for some minutes");
  auto o = std::make_shared<autostop_options>();
  cmd->add_option("cluster", o->cluster, "the cluster")->required();
  cmd
    ->add_option_function<int32_t>(
      "-i,--idle-minutes", [o](int32_t minutes) { o->idle_minutes = minutes; },
      "idle minutes before autostop (default 5; 0 = as soon as idle)")
    ->check(CLI::Range(0, 525600));
  cmd->add_flag("--down", o->down, "tear the cluster down instead of stopping");
  cmd->add_flag("--cancel", o->cancel, "cancel the cluster's autostop");
  cmd->callback([&ctx, o] { ctx.exit_code = run_autostop(ctx, *o); });
}

} // namespace sky::cli
