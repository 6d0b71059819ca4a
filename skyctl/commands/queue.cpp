// `skyctl queue [CLUSTER...]`: the jobs of clusters, like `sky queue`.

#include <chrono>
#include <iostream>

#include "messages/cluster_protocol.hpp"
#include "messages/msgpack_util.hpp"
#include "skyctl/commands/commands.hpp"
#include "skyctl/render.hpp"

namespace sky::cli {

namespace {

struct queue_options {
  std::vector<std::string> clusters;
  output_option out;
};

int run_queue(cli_context& ctx, const queue_options& o) {
  for (const auto& name : o.clusters)
    if (auto ok = validate_cluster_name(name); !ok)
      return report_usage(ok.error());
  auto conn = ctx.connect();
  if (!conn)
    return report(conn.error());
  protocol::queue_request req{o.clusters};
  auto reply = conn->call("queue", sky::encode(req), ctx.timeout());
  if (!reply)
    return report(reply.error());
  auto queue
    = protocol::decode_as<protocol::queue_reply>(reply->body, "queue reply");
  if (!queue)
    return report(queue.error());
  if (o.out.json()) {
    std::cout << queue_json(*queue).dump(2) << "\n";
    return exit_ok;
  }
  auto now = std::chrono::duration_cast<std::chrono::milliseconds>(
               std::chrono::system_clock::now().time_since_epoch())
               .count();
  print_queue(std::cout, *queue, o.clusters, now);
  return exit_ok;
}

} // namespace

void add_queue(CLI::App& app, cli_context& ctx) {
  auto* cmd = app.add_subcommand("queue", "show the job queues of clusters");
  auto o = std::make_shared<queue_options>();
  cmd->add_option("clusters", o->clusters, "clusters (default: all)");
  o->out.add_to(cmd);
  cmd->footer("With -o json: {\"jobs\": [{cluster, job_id, name, command, "
              "status, submitted_at, started_at, ended_at, exit_code, "
              "resources, num_nodes}]}; times are Unix milliseconds, null "
              "until they happen.");
  cmd->callback([&ctx, o] { ctx.exit_code = run_queue(ctx, *o); });
}

} // namespace sky::cli
