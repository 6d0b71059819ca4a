// `skyctl check`: which infra skyd can use; `skyctl sim preempt|capacity`:
// the simulator's admin verbs (docs/SIM.md); `skyctl cost-report`: what
// clusters have cost, from the event log.

#include <chrono>
#include <iostream>
#include <optional>

#include "messages/body_reader.hpp"
#include "messages/cluster_protocol.hpp"
#include "messages/msgpack_util.hpp"
#include "messages/protocol.hpp"
#include "messages/sim_protocol.hpp"
#include "skyctl/commands/commands.hpp"
#include "skyctl/cost_report.hpp"

namespace sky::cli {

namespace {

int print_json_body(const std::string& body) {
  auto json = body_to_json(body);
  if (!json)
    return report(json.error());
  std::cout << json->dump(2) << "\n";
  return exit_ok;
}

int run_check(cli_context& ctx, const output_option& out) {
  auto conn = ctx.connect();
  if (!conn)
    return report(conn.error());
  auto reply = conn->call("check", "", ctx.timeout());
  if (!reply)
    return report(reply.error());
  auto check
    = protocol::decode_as<protocol::check_reply>(reply->body, "check reply");
  if (!check)
    return report(check.error());
  if (out.json())
    return print_json_body(sky::encode(*check));
  table t{{"INFRA", "STATUS", "DETAIL"}};
  for (const auto& r : check->infra)
    t.add(
      {r.name,
       r.status + (r.simulated && r.status == "enabled" ? " (simulated)" : ""),
       r.detail});
  t.print(std::cout);
  bool first = true;
  for (const auto& r : check->infra) {
    if (r.hint.empty())
      continue;
    if (first)
      std::cout << "\nTo enable:\n";
    first = false;
    std::cout << "  " << r.name << ": " << r.hint << "\n";
  }
  return exit_ok;
}

struct preempt_options {
  std::string cluster;
  std::optional<uint32_t> node;
  output_option out;
};

int run_preempt(cli_context& ctx, const preempt_options& o) {
  if (auto ok = validate_cluster_name(o.cluster); !ok)
    return report_usage(ok.error());
  auto conn = ctx.connect();
  if (!conn)
    return report(conn.error());
  protocol::sim_preempt_request req{o.cluster, o.node};
  auto reply = conn->call("sim.preempt", sky::encode(req), ctx.timeout());
  if (!reply)
    return report(reply.error());
  if (o.out.json())
    return print_json_body(reply->body);
  auto r = protocol::decode_as<protocol::sim_preempt_reply>(reply->body,
                                                            "sim reply");
  if (!r)
    return report(r.error());
  for (const auto& n : r->nodes)
    std::cout << "Preempted node " << n.rank << " of cluster '" << r->cluster
              << "' on " << n.cloud << " (simulated).\n";
  return exit_ok;
}

struct capacity_options {
  std::string place;
  std::string type;
  std::string n;
  bool spot = false;
  bool on_demand = false;
};

int run_capacity(cli_context& ctx, const capacity_options& o) {
  protocol::sim_capacity_request req;
  req.place = o.place;
  req.type = o.type;
  if (o.spot && o.on_demand)
    return report_usage(make_error(errc::invalid_argument,
                                   "--spot and --on-demand exclude each other",
                                   "give neither to set both pools"));
  req.pool = o.spot ? "spot" : o.on_demand ? "on_demand" : "both";
  if (o.n != "unlimited") {
    try {
      size_t used = 0;
      auto n = std::stoll(o.n, &used);
      if (used != o.n.size() || n < 0)
        throw std::invalid_argument{o.n};
      req.n = n;
    } catch (const std::exception&) {
      return report_usage(make_error(errc::invalid_argument,
                                     "N must be a number (0 or more) or "
                                     "'unlimited', not '"
                                       + o.n + "'",
                                     "e.g. skyctl sim capacity "
                                     "gcp/us-central1 A100 16"));
    }
  }
  auto conn = ctx.connect();
  if (!conn)
    return report(conn.error());
  auto reply = conn->call("sim.capacity", sky::encode(req), ctx.timeout());
  if (!reply)
    return report(reply.error());
  auto r = body_reader::parse(reply->body, "sim reply");
  std::cout << (r ? value_or(r->str("message", ""), "") : "") << "\n";
  return exit_ok;
}

int64_t now_ms() {
  return std::chrono::duration_cast<std::chrono::milliseconds>(
           std::chrono::system_clock::now().time_since_epoch())
    .count();
}

int run_cost_report(cli_context& ctx, const output_option& out) {
  auto conn = ctx.connect();
  if (!conn)
    return report(conn.error());
  protocol::events_request req;
  req.topic = "cluster.";
  auto stream = conn->open_stream("events", protocol::encode(req), req.window);
  if (!stream)
    return report(stream.error());
  std::vector<event> events;
  while (true) {
    auto next = conn->next(*stream, ctx.timeout());
    if (!next)
      return report(next.error());
    auto frame = protocol::decode_events_frame(next->body);
    if (!frame)
      return report(frame.error());
    for (auto& ev : frame->events)
      events.push_back(std::move(ev));
    if (next->final())
      break;
  }
  auto rows = cost_report(events, now_ms());
  if (out.json())
    std::cout << cost_json(rows).dump(2) << "\n";
  else
    print_cost(std::cout, rows);
  return exit_ok;
}

} // namespace

void add_check(CLI::App& app, cli_context& ctx) {
  auto* cmd = app.add_subcommand(
    "check", "list the infra skyd can use: enabled, simulated, not "
             "configured (and how to enable it)");
  auto out = std::make_shared<output_option>();
  out->add_to(cmd);
  cmd->footer("With -o json: {\"infra\": [{name, kind, status, simulated, "
              "detail, hint}], catalogs_dir, sim_scenario, sim_mode}.");
  cmd->callback([&ctx, out] { ctx.exit_code = run_check(ctx, *out); });
}

void add_sim(CLI::App& app, cli_context& ctx) {
  auto* sim = app.add_subcommand(
    "sim", "steer the simulated clouds by hand (demos, tests; docs/SIM.md)");
  sim->require_subcommand(1);
  auto* preempt = sim->add_subcommand(
    "preempt", "preempt a simulated cluster now, or one node of it");
  auto p = std::make_shared<preempt_options>();
  preempt->add_option("cluster", p->cluster, "the cluster")->required();
  preempt->add_option("node", p->node, "only this node (0 = head)");
  p->out.add_to(preempt);
  preempt->callback([&ctx, p] { ctx.exit_code = run_preempt(ctx, *p); });
  auto* capacity = sim->add_subcommand(
    "capacity", "set the capacity of an instance type or accelerator in a "
                "simulated cloud, region or zone");
  auto c = std::make_shared<capacity_options>();
  capacity
    ->add_option("place", c->place, "CLOUD[/REGION[/ZONE]], e.g. gcp/us-east1")
    ->required();
  capacity
    ->add_option("type", c->type,
                 "instance type (counted in instances) or accelerator "
                 "(counted in devices)")
    ->required();
  capacity->add_option("n", c->n, "the limit, or 'unlimited'")->required();
  capacity->add_flag("--spot", c->spot, "only the spot pool");
  capacity->add_flag("--on-demand", c->on_demand, "only the on-demand pool");
  capacity->callback([&ctx, c] { ctx.exit_code = run_capacity(ctx, *c); });
}

void add_cost_report(CLI::App& app, cli_context& ctx) {
  auto* cmd = app.add_subcommand(
    "cost-report", "what each cluster has cost (torn-down ones included), "
                   "from the event log");
  auto out = std::make_shared<output_option>();
  out->add_to(cmd);
  cmd->footer("Hours count the time a cluster was UP; the price is the "
              "catalog's for all its nodes. With -o json: {\"clusters\": "
              "[{name, infra, instance_type, resources, num_nodes, use_spot, "
              "hours, hourly_price, total, status, launched_at, ended_at}], "
              "\"total\"}.");
  cmd->callback([&ctx, out] { ctx.exit_code = run_cost_report(ctx, *out); });
}

} // namespace sky::cli
