// `skyctl jobs launch|queue|cancel|logs`: managed jobs (docs/MANAGED_JOBS.md),
// which skyd launches on clusters of their own, recovers, and cleans up.

#include <chrono>
#include <iostream>

#include "messages/managed_job_protocol.hpp"
#include "messages/msgpack_util.hpp"
#include "skyctl/commands/commands.hpp"
#include "skyctl/confirm.hpp"
#include "skyctl/jobs_render.hpp"
#include "skyctl/stream_command.hpp"
#include "skyctl/task_flags.hpp"
#include "skyctl/task_input.hpp"

namespace sky::cli {

namespace {

int64_t now_ms() {
  return std::chrono::duration_cast<std::chrono::milliseconds>(
           std::chrono::system_clock::now().time_since_epoch())
    .count();
}

struct jobs_launch_options {
  std::string name;
  std::string job_recovery;
  bool detach = false;
  bool yes = false;
  std::vector<std::string> entry;
  task::task_overrides flags;
};

int run_jobs_launch(cli_context& ctx, const jobs_launch_options& o) {
  if (!o.job_recovery.empty()) {
    std::string upper;
    for (char c : o.job_recovery)
      upper += static_cast<char>(std::toupper(static_cast<unsigned char>(c)));
    if (upper != "EAGER_NEXT_REGION" && upper != "FAILOVER")
      return report_usage(
        make_error(errc::invalid_argument,
                   "--job-recovery: unknown strategy '" + o.job_recovery + "'",
                   "use EAGER_NEXT_REGION (default) or FAILOVER"));
  }
  auto entry = classify_entrypoint(o.entry, ctx.args_after_dash_dash);
  if (!entry)
    return report_usage(entry.error());
  // Unlike `launch` (which may only bring a cluster up), a managed job with
  // nothing to run would launch a cluster for nothing.
  if (entry->empty())
    return report_usage(make_error(errc::invalid_argument,
                                   "jobs launch needs a task to run",
                                   "give a task YAML or a command after --"));
  auto pipeline = build_pipeline(*entry, o.flags, local_context::current());
  if (!pipeline)
    return report_usage(pipeline.error());
  if (should_confirm(ctx.term, o.yes)) {
    auto what
      = pipeline->tasks.size() > 1
          ? "a pipeline of " + std::to_string(pipeline->tasks.size()) + " tasks"
          : std::string{"a task"};
    if (!ask_yes_no("Launching a managed job (" + what
                      + ") on a new cluster of its own. Proceed?",
                    *ctx.prompt_in, std::cerr)) {
      std::cerr << "Aborted.\n";
      return exit_failed;
    }
  }
  auto conn = ctx.connect();
  if (!conn)
    return report(conn.error());
  protocol::jobs_launch_request req;
  req.name = o.name;
  req.pipeline = std::move(*pipeline);
  req.job_recovery = o.job_recovery;
  req.detach = o.detach;
  stream_view view;
  view.kind = stream_kind::managed;
  view.detach = o.detach;
  return follow_stream(ctx, *conn, "jobs.launch", protocol::encode(req),
                       req.window, std::move(view));
}

struct jobs_queue_options {
  output_option out;
  bool skip_finished = false;
};

int run_jobs_queue(cli_context& ctx, const jobs_queue_options& o) {
  auto conn = ctx.connect();
  if (!conn)
    return report(conn.error());
  protocol::jobs_queue_request req{!o.skip_finished};
  auto reply = conn->call("jobs.queue", sky::encode(req), ctx.timeout());
  if (!reply)
    return report(reply.error());
  auto queue = protocol::decode_as<protocol::jobs_queue_reply>(
    reply->body, "jobs.queue reply");
  if (!queue)
    return report(queue.error());
  if (o.out.json())
    std::cout << managed_queue_json(*queue, now_ms()).dump(2) << "\n";
  else
    print_managed_queue(std::cout, *queue, now_ms());
  return exit_ok;
}

struct jobs_cancel_options {
  std::vector<uint64_t> ids;
  std::string name;
  bool all = false;
  bool yes = false;
};

int run_jobs_cancel(cli_context& ctx, const jobs_cancel_options& o) {
  int given
    = (o.ids.empty() ? 0 : 1) + (o.name.empty() ? 0 : 1) + (o.all ? 1 : 0);
  if (given != 1)
    return report_usage(make_error(
      errc::invalid_argument,
      given == 0 ? "jobs cancel needs job IDs, -n NAME or -a"
                 : "give only one of: job IDs, -n NAME, -a",
      "e.g. skyctl jobs cancel 3; `skyctl jobs queue` lists the jobs"));
  if (should_confirm(ctx.term, o.yes)) {
    std::string what = o.all             ? "all managed jobs"
                       : !o.name.empty() ? "managed jobs named '" + o.name + "'"
                                         : "managed job(s) " + [&] {
                                             std::string s;
                                             for (auto id : o.ids)
                                               s += (s.empty() ? "" : ", ")
                                                    + std::to_string(id);
                                             return s;
                                           }();
    if (!ask_yes_no("Cancelling " + what + ". Proceed?", *ctx.prompt_in,
                    std::cerr)) {
      std::cerr << "Aborted.\n";
      return exit_failed;
    }
  }
  auto conn = ctx.connect();
  if (!conn)
    return report(conn.error());
  protocol::jobs_cancel_request req{o.ids, o.name, o.all};
  auto reply = conn->call("jobs.cancel", sky::encode(req), ctx.timeout());
  if (!reply)
    return report(reply.error());
  auto out = protocol::decode_as<protocol::jobs_cancel_reply>(
    reply->body, "jobs.cancel reply");
  if (!out)
    return report(out.error());
  if (out->results.empty()) {
    std::cout << "No live managed job to cancel.\n";
    return exit_ok;
  }
  int rc = exit_ok;
  for (const auto& r : out->results) {
    if (r.ok) {
      std::cout << "Managed job " << r.job_id
                << (r.status == "CANCELLED" ? " cancelled."
                                            : " is " + r.status
                                                + "; its cluster is being torn "
                                                  "down.")
                << "\n";
    } else {
      std::cerr << "Managed job " << r.job_id << ": " << r.message << "\n";
      rc = exit_failed;
    }
  }
  return rc;
}

struct jobs_logs_options {
  std::optional<uint64_t> id;
  bool follow = true;
};

int run_jobs_logs(cli_context& ctx, const jobs_logs_options& o) {
  auto conn = ctx.connect();
  if (!conn)
    return report(conn.error());
  protocol::jobs_logs_request req;
  req.job_id = o.id.value_or(0);
  req.follow = o.follow;
  stream_view view;
  view.kind = stream_kind::managed;
  return follow_stream(ctx, *conn, "jobs.logs", sky::encode(req), req.window,
                       std::move(view));
}

} // namespace

void add_jobs(CLI::App& app, cli_context& ctx) {
  auto* jobs = app.add_subcommand(
    "jobs", "managed jobs: skyd launches each on a cluster of its own, "
            "recovers it when the cluster is lost, and tears the cluster "
            "down when it ends");
  jobs->require_subcommand(1);

  auto* launch = jobs->add_subcommand(
    "launch", "submit a managed job (a task YAML, a pipeline of several "
              "documents, or a command after --) and follow its output; "
              "Ctrl-C detaches, the job goes on");
  auto lo = std::make_shared<jobs_launch_options>();
  launch->add_option("entrypoint", lo->entry,
                     "a task YAML (several documents: a pipeline), or a "
                     "command after --");
  // -n/--name comes with the task flags: it names the task, and so the job.
  launch->add_option("--job-recovery", lo->job_recovery,
                     "recovery strategy of every task: EAGER_NEXT_REGION "
                     "(default) or FAILOVER");
  launch->add_flag("-d,--detach-run", lo->detach,
                   "return once the job is submitted; follow it with skyctl "
                   "jobs logs");
  launch->add_flag("-y,--yes", lo->yes, "do not ask for confirmation");
  add_task_flags(launch, lo->flags, task_flag_set::launch);
  launch->footer("Exit code: 0 when the job succeeded (or with -d once "
                 "submitted), 1 when it failed or was cancelled, 130 after "
                 "Ctrl-C.");
  launch->callback([&ctx, lo] { ctx.exit_code = run_jobs_launch(ctx, *lo); });

  auto* queue
    = jobs->add_subcommand("queue", "list managed jobs, newest first");
  auto qo = std::make_shared<jobs_queue_options>();
  qo->out.add_to(queue);
  queue->add_flag("-s,--skip-finished", qo->skip_finished,
                  "only jobs that have not ended");
  queue->callback([&ctx, qo] { ctx.exit_code = run_jobs_queue(ctx, *qo); });

  auto* cancel = jobs->add_subcommand(
    "cancel", "cancel managed jobs: their clusters are torn down");
  auto co = std::make_shared<jobs_cancel_options>();
  cancel->add_option("ids", co->ids, "managed job ids");
  cancel->add_option("-n,--name", co->name, "every live job with this name");
  cancel->add_flag("-a,--all", co->all, "every live managed job");
  cancel->add_flag("-y,--yes", co->yes, "do not ask for confirmation");
  cancel->callback([&ctx, co] { ctx.exit_code = run_jobs_cancel(ctx, *co); });

  auto* logs = jobs->add_subcommand(
    "logs", "print a managed job's output, every task and recovery in "
            "order (kept after its clusters are gone)");
  auto go = std::make_shared<jobs_logs_options>();
  logs->add_option("id", go->id, "managed job id (default: the latest)");
  logs->add_flag("--follow,!--no-follow", go->follow,
                 "keep printing until the job ends (default), or print what "
                 "there is and return");
  logs->callback([&ctx, go] { ctx.exit_code = run_jobs_logs(ctx, *go); });
}

} // namespace sky::cli
