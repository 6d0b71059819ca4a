// `skyctl exec CLUSTER [task.yaml | -- CMD...]`: run a task as a new job on
// an existing cluster (no provisioning, no setup).

#include "messages/cluster_protocol.hpp"
#include "skyctl/commands/commands.hpp"
#include "skyctl/stream_command.hpp"
#include "skyctl/task_flags.hpp"
#include "skyctl/task_input.hpp"

namespace sky::cli {

namespace {

struct exec_options {
  std::string cluster;
  std::vector<std::string> entry;
  bool detach = false;
  task::task_overrides flags;
};

int run_exec(cli_context& ctx, const exec_options& o) {
  if (auto ok = validate_cluster_name(o.cluster); !ok)
    return report_usage(ok.error());
  auto entry = classify_entrypoint(o.entry, ctx.args_after_dash_dash);
  if (!entry)
    return report_usage(entry.error());
  auto task = build_exec_task(*entry, o.flags, local_context::current());
  if (!task)
    return report_usage(task.error());
  auto conn = ctx.connect();
  if (!conn)
    return report(conn.error());
  protocol::exec_request req;
  req.cluster = o.cluster;
  req.task = std::move(*task);
  req.detach = o.detach;
  stream_view view;
  view.kind = stream_kind::exec;
  view.detach = o.detach;
  view.cluster = o.cluster;
  return follow_stream(ctx, *conn, "exec", protocol::encode(req), req.window,
                       std::move(view));
}

} // namespace

void add_exec(CLI::App& app, cli_context& ctx) {
  auto* cmd = app.add_subcommand(
    "exec", "run a task as a new job on an existing cluster (its output is "
            "streamed; Ctrl-C detaches, the job keeps running)");
  auto o = std::make_shared<exec_options>();
  cmd->add_option("cluster", o->cluster, "the cluster")->required();
  cmd->add_option("entrypoint", o->entry,
                  "a task YAML, or a command (after --: skyctl exec c -- "
                  "python train.py)");
  cmd->add_flag("-d,--detach", o->detach,
                "return once the job is submitted; follow it with skyctl logs");
  add_task_flags(cmd, o->flags, task_flag_set::exec);
  cmd->footer("Exit code: the job's (0 when it succeeded, its exit code when "
              "it failed with one, else 1); 0 with -d once submitted; 130 "
              "after Ctrl-C.");
  cmd->callback([&ctx, o] { ctx.exit_code = run_exec(ctx, *o); });
}

} // namespace sky::cli
