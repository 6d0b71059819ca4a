// `skyctl cancel CLUSTER [JOB...] | -a`: cancel jobs on a cluster.

#include <iostream>

#include "messages/cluster_protocol.hpp"
#include "messages/msgpack_util.hpp"
#include "skyctl/commands/commands.hpp"
#include "skyctl/confirm.hpp"
#include "skyctl/outcomes.hpp"

namespace sky::cli {

namespace {

struct cancel_options {
  std::string cluster;
  std::vector<uint64_t> jobs;
  bool all = false;
  bool yes = false;
};

std::string ids_text(const std::vector<uint64_t>& ids) {
  std::string out;
  for (auto id : ids)
    out += (out.empty() ? "" : ", ") + std::to_string(id);
  return out;
}

int run_cancel(cli_context& ctx, const cancel_options& o) {
  if (auto ok = validate_cluster_name(o.cluster); !ok)
    return report_usage(ok.error());
  if (o.all && !o.jobs.empty())
    return report_usage(make_error(errc::invalid_argument,
                                   "give job IDs or -a, not both",
                                   "-a cancels every job of the cluster"));
  if (!o.all && o.jobs.empty())
    return report_usage(make_error(
      errc::invalid_argument, "cancel needs job IDs or -a",
      "e.g. skyctl cancel " + o.cluster + " 3, or skyctl cancel " + o.cluster
        + " -a; `skyctl queue " + o.cluster + "` lists the jobs"));
  if (o.all && should_confirm(ctx.term, o.yes)
      && !ask_yes_no("Cancelling all jobs on cluster " + o.cluster
                       + ". Proceed?",
                     *ctx.prompt_in, std::cerr)) {
    std::cerr << "Aborted.\n";
    return exit_failed;
  }
  auto conn = ctx.connect();
  if (!conn)
    return report(conn.error());
  protocol::cancel_request req{o.cluster, o.jobs, o.all};
  auto reply = conn->call("cancel", sky::encode(req), ctx.timeout());
  if (!reply)
    return report(reply.error());
  auto outcomes = read_outcomes(reply->body);
  if (!outcomes)
    return report(outcomes.error());
  if (outcomes->empty()) {
    // An `ok` without details: everything asked for was cancelled.
    std::cout << (o.all ? "Cancelled all jobs on cluster " + o.cluster + "."
                        : "Cancelled job(s) " + ids_text(o.jobs)
                            + " on cluster " + o.cluster + ".")
              << "\n";
    return exit_ok;
  }
  return print_outcomes(std::cout, std::cerr, *outcomes, [&](const outcome& r) {
    if (r.job_id)
      return "Job " + std::to_string(*r.job_id) + " on cluster " + o.cluster
             + " cancelled.";
    return "Jobs on cluster " + o.cluster + " cancelled.";
  });
}

} // namespace

void add_cancel(CLI::App& app, cli_context& ctx) {
  auto* cmd = app.add_subcommand("cancel", "cancel jobs on a cluster");
  auto o = std::make_shared<cancel_options>();
  cmd->add_option("cluster", o->cluster, "the cluster")->required();
  cmd->add_option("jobs", o->jobs, "job ids");
  cmd->add_flag("-a,--all", o->all, "every job of the cluster");
  cmd->add_flag("-y,--yes", o->yes, "do not ask for confirmation");
  cmd->callback([&ctx, o] { ctx.exit_code = run_cancel(ctx, *o); });
}

} // namespace sky::cli
