// `skyctl launch [task.yaml | -- CMD...]`: provision a cluster (or reuse
// one) and run the task as a job, streaming its output; `--dryrun` only
// shows where it would run.

#include <iostream>

#include "messages/cluster_protocol.hpp"
#include "messages/msgpack_util.hpp"
#include "skyctl/commands/commands.hpp"
#include "skyctl/confirm.hpp"
#include "skyctl/render.hpp"
#include "skyctl/stream_command.hpp"
#include "skyctl/task_flags.hpp"
#include "skyctl/task_input.hpp"

namespace sky::cli {

namespace {

struct launch_options {
  std::string cluster;
  bool dryrun = false;
  bool detach = false;
  bool down = false;
  std::optional<int32_t> idle_minutes;
  bool retry_until_up = false;
  bool yes = false;
  bool no_setup = false;
  std::vector<std::string> entry;
  task::task_overrides flags;
  output_option out;
};

caf::error infeasible_error() {
  return make_error(errc::no_capacity,
                    "no infra can run the task (the reasons are listed above)",
                    "relax its resources (--gpus, --cpus, --memory, --infra) "
                    "or enable more infra");
}

result<protocol::plan_reply> optimize(client::connection& conn,
                                      const cli_context& ctx,
                                      const task::pipeline_spec& pipeline) {
  auto reply = conn.call("optimize",
                         protocol::encode(protocol::optimize_request{pipeline}),
                         ctx.timeout());
  if (!reply)
    return reply.error();
  return protocol::decode_as<protocol::plan_reply>(reply->body,
                                                   "optimize reply");
}

// --dryrun: the plan, nothing launched. Exit 1 when some task fits nowhere.
int run_dryrun(const cli_context& ctx, client::connection& conn,
               const task::pipeline_spec& pipeline, bool json) {
  auto plan = optimize(conn, ctx, pipeline);
  if (!plan)
    return report(plan.error());
  const bool feasible = plan_feasible(*plan);
  if (json)
    std::cout << plan_json(*plan).dump(2) << "\n";
  else
    print_plan(std::cout, *plan, plan_style{ctx.term.utf8, 20});
  std::cout.flush();
  if (!feasible)
    return report(infeasible_error());
  return exit_ok;
}

// What the confirmation decided: go on (having shown the plan or not), or
// stop with an exit code.
struct confirmation {
  std::optional<int> stop_with;
  bool plan_shown = false;
};

// The state of the named cluster, or nullopt when it does not exist.
result<std::optional<cluster_summary>> find_cluster(client::connection& conn,
                                                    const cli_context& ctx,
                                                    const std::string& name) {
  protocol::clusters_request req{{name}, false};
  auto reply = conn.call("status", sky::encode(req), ctx.timeout());
  if (!reply) {
    if (describe(reply.error()).code == errc::not_found)
      return std::optional<cluster_summary>{};
    return reply.error();
  }
  auto status
    = protocol::decode_as<protocol::status_reply>(reply->body, "status reply");
  if (!status)
    return status.error();
  for (auto& c : status->clusters)
    if (c.name == name)
      return std::optional<cluster_summary>{std::move(c)};
  return std::optional<cluster_summary>{};
}

// `sky launch` asks before it provisions on a terminal; a cluster that is
// already UP is simply reused.
confirmation confirm_launch(const cli_context& ctx, client::connection& conn,
                            const launch_options& o,
                            const task::pipeline_spec& pipeline) {
  confirmation c;
  auto ask = [&](const std::string& question) {
    if (!ask_yes_no(question, *ctx.prompt_in, std::cerr)) {
      std::cerr << "Aborted.\n";
      c.stop_with = exit_failed;
    }
    return c;
  };
  if (!o.cluster.empty()) {
    auto existing = find_cluster(conn, ctx, o.cluster);
    if (!existing) {
      c.stop_with = report(existing.error());
      return c;
    }
    if (*existing) {
      const auto& status = (*existing)->status;
      if (status == "UP" || status == "AUTOSTOPPING")
        return c;
      if (status == "STOPPED")
        return ask("Restarting the stopped cluster '" + o.cluster + "'.");
      return ask("Launching on cluster '" + o.cluster + "' (status " + status
                 + ").");
    }
  }
  auto plan = optimize(conn, ctx, pipeline);
  if (!plan) {
    c.stop_with = report(plan.error());
    return c;
  }
  print_plan(std::cerr, *plan, plan_style{ctx.term.utf8, 20});
  c.plan_shown = true;
  if (!plan_feasible(*plan)) {
    c.stop_with = report(infeasible_error());
    return c;
  }
  return ask(o.cluster.empty()
               ? std::string{"Launching a new cluster. Proceed?"}
               : "Launching a new cluster '" + o.cluster + "'. Proceed?");
}

int run_launch(cli_context& ctx, const launch_options& o) {
  if (!o.cluster.empty())
    if (auto ok = validate_cluster_name(o.cluster); !ok)
      return report_usage(ok.error());
  if (o.out.json() && !o.dryrun)
    return report_usage(make_error(
      errc::invalid_argument, "-o json needs --dryrun",
      "a launch streams the task's output; use -o json with --dryrun to get "
      "the plan as JSON"));
  auto entry = classify_entrypoint(o.entry, ctx.args_after_dash_dash);
  if (!entry)
    return report_usage(entry.error());
  auto pipeline = build_pipeline(*entry, o.flags, local_context::current());
  if (!pipeline)
    return report_usage(pipeline.error());
  auto conn = ctx.connect();
  if (!conn)
    return report(conn.error());
  if (o.dryrun)
    return run_dryrun(ctx, *conn, *pipeline, o.out.json());
  bool plan_shown = false;
  if (should_confirm(ctx.term, o.yes)) {
    auto c = confirm_launch(ctx, *conn, o, *pipeline);
    if (c.stop_with)
      return *c.stop_with;
    plan_shown = c.plan_shown;
  }
  protocol::launch_request req;
  req.cluster = o.cluster;
  req.pipeline = std::move(*pipeline);
  req.detach = o.detach;
  req.down = o.down;
  req.idle_minutes = o.idle_minutes.value_or(-1);
  req.retry_until_up = o.retry_until_up;
  req.no_setup = o.no_setup;
  stream_view view;
  view.kind = stream_kind::launch;
  view.detach = o.detach;
  view.plan_shown = plan_shown;
  view.cluster = o.cluster;
  return follow_stream(ctx, *conn, "launch", protocol::encode(req), req.window,
                       std::move(view));
}

} // namespace

void add_launch(CLI::App& app, cli_context& ctx) {
  auto* cmd = app.add_subcommand(
    "launch", "provision a cluster (or reuse one) and run a task on it; its "
              "output is streamed, Ctrl-C detaches (the job keeps running)");
  auto o = std::make_shared<launch_options>();
  cmd->add_option("entrypoint", o->entry,
                  "a task YAML, or a command (after --: skyctl launch -- "
                  "python train.py); with neither, only provisions");
  cmd->add_option("-c,--cluster", o->cluster,
                  "cluster name: reused when it exists (default: skyd picks "
                  "one)");
  cmd->add_flag("--dryrun", o->dryrun,
                "show where the task would run and what it would cost; "
                "launch nothing");
  cmd->add_flag("-d,--detach", o->detach,
                "return once the job is submitted; follow it with skyctl logs");
  cmd->add_flag("--down", o->down,
                "tear the cluster down once idle (after -i minutes, default "
                "0: right after the job)");
  cmd
    ->add_option_function<int32_t>(
      "-i,--idle-minutes-to-autostop",
      [o](int32_t minutes) { o->idle_minutes = minutes; },
      "stop the cluster after this many idle minutes (with --down: tear "
      "it down)")
    ->check(CLI::Range(0, 525600));
  cmd->add_flag("-r,--retry-until-up", o->retry_until_up,
                "when no candidate has capacity, retry the whole round until "
                "one does");
  cmd->add_flag("-y,--yes", o->yes, "do not ask for confirmation");
  cmd->add_flag("--no-setup", o->no_setup,
                "skip the task's setup on a reused cluster");
  o->out.add_to(cmd);
  add_task_flags(cmd, o->flags, task_flag_set::launch);
  cmd->footer(
    "Exit code: the job's (0 when it succeeded, its exit code when it "
    "failed with one, else 1); 0 with -d once submitted; 130 after Ctrl-C. "
    "--dryrun: 0 when some resources fit, 1 when none do.");
  cmd->callback([&ctx, o] { ctx.exit_code = run_launch(ctx, *o); });
}

} // namespace sky::cli
