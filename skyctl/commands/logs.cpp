// `skyctl logs CLUSTER [JOB]`: a job's output, followed until it ends.

#include "messages/cluster_protocol.hpp"
#include "messages/msgpack_util.hpp"
#include "skyctl/commands/commands.hpp"
#include "skyctl/stream_command.hpp"

namespace sky::cli {

namespace {

struct logs_options {
  std::string cluster;
  std::optional<uint64_t> job;
  bool follow = true;
  bool status = false;
};

int run_logs(cli_context& ctx, const logs_options& o) {
  if (auto ok = validate_cluster_name(o.cluster); !ok)
    return report_usage(ok.error());
  auto conn = ctx.connect();
  if (!conn)
    return report(conn.error());
  protocol::logs_request req;
  req.cluster = o.cluster;
  req.job_id = o.job.value_or(0);
  req.follow = o.follow && !o.status;
  req.status_only = o.status;
  stream_view view;
  view.kind = stream_kind::logs;
  view.status_only = o.status;
  view.cluster = o.cluster;
  return follow_stream(ctx, *conn, "logs", sky::encode(req), req.window,
                       std::move(view));
}

} // namespace

void add_logs(CLI::App& app, cli_context& ctx) {
  auto* cmd = app.add_subcommand(
    "logs", "print a job's output (by default following it until the job "
            "ends); Ctrl-C stops following, the job keeps running");
  auto o = std::make_shared<logs_options>();
  cmd->add_option("cluster", o->cluster, "the cluster")->required();
  cmd->add_option("job", o->job, "job id (default: the latest job)");
  cmd->add_flag("--follow,!--no-follow", o->follow,
                "keep printing until the job ends (default), or print what "
                "there is and return");
  cmd->add_flag("--status", o->status,
                "print only the job's status: exit 0 when it succeeded or is "
                "still pending/running, 1 when it failed or was cancelled");
  cmd->footer("Following to the end, the exit code is the job's: 0 when it "
              "succeeded, its own exit code when it failed with one, else "
              "1; 130 after Ctrl-C.");
  cmd->callback([&ctx, o] { ctx.exit_code = run_logs(ctx, *o); });
}

} // namespace sky::cli
