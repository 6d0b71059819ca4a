// `skyctl serve up|update|status|down|logs`: services (docs/SERVICES.md), a
// task with a `service:` section run as replicas behind skyd's load
// balancer, as SkyServe's `sky serve` does.

#include <algorithm>
#include <chrono>
#include <iostream>

#include "messages/msgpack_util.hpp"
#include "messages/protocol.hpp"
#include "messages/serve_protocol.hpp"
#include "skyctl/commands/commands.hpp"
#include "skyctl/confirm.hpp"
#include "skyctl/serve_render.hpp"
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

// The one task of a service YAML, flags applied, with its `service:`
// section.
result<task::task_spec> build_service_task(const std::string& yaml,
                                           const task::task_overrides& flags) {
  entrypoint entry;
  entry.yaml = yaml;
  auto pipeline = build_pipeline(entry, flags, local_context::current());
  if (!pipeline)
    return pipeline.error();
  if (pipeline->tasks.size() != 1)
    return make_error(errc::invalid_argument,
                      yaml + " holds a pipeline of "
                        + std::to_string(pipeline->tasks.size())
                        + " tasks; a service runs one task",
                      "give a single-task YAML with a service: section");
  auto task = std::move(pipeline->tasks.front());
  if (!task.service)
    return make_error(
      errc::invalid_argument, yaml + " has no service: section",
      "add one, e.g. `service: {readiness_probe: /health, replicas: 2}` "
      "(docs/SERVICES.md); to run the task once, use skyctl launch");
  return task;
}

// Asks on a terminal; false (after "Aborted.") when declined.
bool confirmed(const cli_context& ctx, bool yes, const std::string& question) {
  if (!should_confirm(ctx.term, yes))
    return true;
  if (ask_yes_no(question, *ctx.prompt_in, std::cerr))
    return true;
  std::cerr << "Aborted.\n";
  return false;
}

result<protocol::service_row> call_up(const cli_context& ctx,
                                      const std::string& verb,
                                      const protocol::serve_up_request& req) {
  auto conn = ctx.connect();
  if (!conn)
    return conn.error();
  auto reply = conn->call(verb, protocol::encode(req), ctx.long_timeout());
  if (!reply)
    return reply.error();
  return protocol::decode_as<protocol::service_row>(reply->body,
                                                    verb + " reply");
}

// -- up / update -------------------------------------------------------------

struct serve_up_options {
  std::string yaml;
  bool yes = false;
  task::task_overrides flags;
};

int run_serve_up(cli_context& ctx, const serve_up_options& o) {
  const std::string name = o.flags.name.value_or("");
  if (!name.empty())
    if (auto ok = protocol::validate_service_name(name); !ok)
      return report_usage(ok.error());
  auto task = build_service_task(o.yaml, o.flags);
  if (!task)
    return report_usage(task.error());
  print_spec_lines(std::cout,
                   service_spec_lines(*task->service, task_uses_spot(*task)));
  std::cout.flush();
  if (!confirmed(ctx, o.yes,
                 name.empty()
                   ? std::string{"Launching a new service. Proceed?"}
                   : "Launching a new service '" + name + "'. Proceed?"))
    return exit_failed;
  protocol::serve_up_request req;
  req.name = name;
  req.task = std::move(*task);
  auto row = call_up(ctx, "serve.up", req);
  if (!row)
    return report(row.error());
  print_serve_up(std::cout, *row);
  return exit_ok;
}

struct serve_update_options {
  std::string name;
  std::string yaml;
  std::string mode = "rolling";
  bool yes = false;
  task::task_overrides flags;
};

int run_serve_update(cli_context& ctx, const serve_update_options& o) {
  if (auto ok = protocol::validate_service_name(o.name); !ok)
    return report_usage(ok.error());
  auto task = build_service_task(o.yaml, o.flags);
  if (!task)
    return report_usage(task.error());
  print_spec_lines(std::cout,
                   service_spec_lines(*task->service, task_uses_spot(*task)));
  std::cout.flush();
  if (!confirmed(ctx, o.yes,
                 "Updating service '" + o.name + "' (" + o.mode
                   + " update). Proceed?"))
    return exit_failed;
  protocol::serve_up_request req;
  req.name = o.name;
  req.task = std::move(*task);
  req.mode = o.mode;
  auto row = call_up(ctx, "serve.update", req);
  if (!row)
    return report(row.error());
  print_serve_update(std::cout, *row, o.mode);
  return exit_ok;
}

// -- status ------------------------------------------------------------------

result<protocol::serve_status_reply>
fetch_status(const cli_context& ctx, client::connection& conn,
             const std::vector<std::string>& names) {
  protocol::serve_status_request req{names};
  auto reply = conn.call("serve.status", sky::encode(req), ctx.timeout());
  if (!reply)
    return reply.error();
  return protocol::decode_as<protocol::serve_status_reply>(reply->body,
                                                           "serve.status "
                                                           "reply");
}

struct serve_status_options {
  std::vector<std::string> names;
  bool verbose = false;
  std::string endpoint;
  output_option out;
};

int run_serve_status(cli_context& ctx, const serve_status_options& o) {
  if (!o.endpoint.empty() && !o.names.empty())
    return report_usage(make_error(
      errc::invalid_argument, "--endpoint takes one service; give no others",
      "e.g. curl $(skyctl serve status --endpoint " + o.endpoint + ")"));
  const auto names
    = o.endpoint.empty() ? o.names : std::vector<std::string>{o.endpoint};
  for (const auto& name : names)
    if (auto ok = protocol::validate_service_name(name); !ok)
      return report_usage(ok.error());
  auto conn = ctx.connect();
  if (!conn)
    return report(conn.error());
  auto status = fetch_status(ctx, *conn, names);
  if (!status)
    return report(status.error());
  if (!o.endpoint.empty()) {
    auto url = service_endpoint(*status, o.endpoint);
    if (!url)
      return report(url.error());
    std::cout << *url << "\n";
    return exit_ok;
  }
  if (o.out.json()) {
    auto json = serve_status_json(*status);
    if (!json)
      return report(json.error());
    std::cout << json->dump(2) << "\n";
  } else {
    serve_status_style style;
    style.verbose = o.verbose;
    print_serve_status(std::cout, *status, now_ms(), style);
  }
  std::vector<std::string> missing;
  for (const auto& name : names)
    if (std::none_of(status->services.begin(), status->services.end(),
                     [&](const auto& s) { return s.name == name; }))
      missing.push_back(name);
  if (missing.empty())
    return exit_ok;
  std::cerr << "Service(s) not found: " << join_names(missing) << ".\n";
  return exit_failed;
}

// -- down --------------------------------------------------------------------

struct serve_down_options {
  std::vector<std::string> names;
  bool all = false;
  bool purge = false;
  std::optional<uint64_t> replica_id;
  bool yes = false;
};

int run_serve_down(cli_context& ctx, const serve_down_options& o) {
  const uint64_t replica = o.replica_id.value_or(0);
  if (auto ok = check_serve_down_args(o.names, o.all, replica); !ok)
    return report_usage(ok.error());
  auto conn = ctx.connect();
  if (!conn)
    return report(conn.error());
  protocol::serve_down_request req{o.names, o.all, o.purge, replica};
  if (should_confirm(ctx.term, o.yes)) {
    auto names = o.names;
    if (o.all) {
      auto status = fetch_status(ctx, *conn, {});
      if (!status)
        return report(status.error());
      if (status->services.empty()) {
        std::cout << "No existing services.\n";
        return exit_ok;
      }
      // Tear down exactly what was confirmed, not a service started since.
      names.clear();
      for (const auto& s : status->services)
        names.push_back(s.name);
      req.names = names;
      req.all = false;
    }
    if (!confirmed(ctx, false, serve_down_question(names, replica)))
      return exit_failed;
  }
  auto reply = conn->call("serve.down", sky::encode(req), ctx.long_timeout());
  if (!reply)
    return report(reply.error());
  auto down = protocol::decode_as<protocol::serve_down_reply>(
    reply->body, "serve.down reply");
  if (!down)
    return report(down.error());
  if (down->results.empty()) {
    if (req.all) {
      std::cout << "No existing services.\n";
      return exit_ok;
    }
    // An answer without details: every named service went through.
    for (const auto& name : req.names)
      down->results.push_back(protocol::serve_outcome{name, true, ""});
  }
  return print_serve_down(std::cout, std::cerr, *down, replica);
}

// -- logs --------------------------------------------------------------------

struct serve_logs_options {
  std::string name;
  std::optional<uint64_t> replica_id;
  bool load_balancer = false;
  bool follow = true;
};

int run_serve_logs(cli_context& ctx, const serve_logs_options& o) {
  if (auto ok = check_serve_logs_args(o.name, o.replica_id, o.load_balancer);
      !ok)
    return report_usage(ok.error());
  auto conn = ctx.connect();
  if (!conn)
    return report(conn.error());
  protocol::serve_logs_request req;
  req.name = o.name;
  req.replica_id = o.replica_id.value_or(0);
  req.load_balancer = o.load_balancer;
  req.follow = o.follow;
  stream_view view;
  view.kind = stream_kind::serve;
  view.resume_command = serve_logs_command(req);
  return follow_stream(ctx, *conn, "serve.logs", sky::encode(req), req.window,
                       std::move(view));
}

} // namespace

void add_serve(CLI::App& app, cli_context& ctx) {
  auto* serve = app.add_subcommand(
    "serve", "services: a task with a service: section run as replicas "
             "behind skyd's load balancer, autoscaled, probed and replaced "
             "when they fail");
  serve->require_subcommand(1);

  auto* up = serve->add_subcommand(
    "up", "start a service from a task YAML with a service: section; "
          "prints its endpoint");
  auto uo = std::make_shared<serve_up_options>();
  up->add_option("service_yaml", uo->yaml, "the task YAML, with service:")
    ->required();
  // -n/--name comes with the task flags: it names the task, and the service.
  up->add_flag("-y,--yes", uo->yes, "do not ask for confirmation");
  add_task_flags(up, uo->flags, task_flag_set::launch);
  up->footer("Waits until skyd has registered the service (30 min unless "
             "--timeout is given); replicas keep coming up after it returns. "
             "A name in use is refused: use skyctl serve update.");
  up->callback([&ctx, uo] { ctx.exit_code = run_serve_up(ctx, *uo); });

  auto* update = serve->add_subcommand(
    "update", "roll a service to a new version of its task YAML");
  auto uu = std::make_shared<serve_update_options>();
  update->add_option("service_name", uu->name, "the service")->required();
  update->add_option("service_yaml", uu->yaml, "the new task YAML")->required();
  update
    ->add_option("--mode", uu->mode,
                 "rolling (default: replicas replaced as new ones become "
                 "ready, traffic mixed) or blue_green (traffic moves once "
                 "the new version is ready)")
    ->check(CLI::IsMember({"rolling", "blue_green"}));
  update->add_flag("-y,--yes", uu->yes, "do not ask for confirmation");
  add_task_flags(update, uu->flags, task_flag_set::launch);
  update->callback([&ctx, uu] { ctx.exit_code = run_serve_update(ctx, *uu); });

  auto* status = serve->add_subcommand(
    "status", "show services and their replicas, like sky serve status");
  auto so = std::make_shared<serve_status_options>();
  status->add_option("service_names", so->names,
                     "services to show (default: all)");
  status->add_flag("-v,--verbose", so->verbose,
                   "also each service's policies, QPS and routed versions, "
                   "each replica's cluster and reason, the last output of "
                   "failed replicas, and every replica");
  status->add_option("--endpoint", so->endpoint,
                     "print only this service's endpoint URL (e.g. curl "
                     "$(skyctl serve status --endpoint svc))");
  so->out.add_to(status);
  status->footer("With -o json: {\"services\": [...], \"replicas\": [...]} "
                 "with every field skyd reports (times in Unix "
                 "milliseconds). Exit 1 when a named service does not exist "
                 "or --endpoint's service has no endpoint yet.");
  status->callback([&ctx, so] { ctx.exit_code = run_serve_status(ctx, *so); });

  auto* down = serve->add_subcommand(
    "down", "tear services down (their replicas and load balancer port), "
            "or one replica");
  auto dn = std::make_shared<serve_down_options>();
  down->add_option("service_names", dn->names, "services to tear down");
  down->add_flag("-a,--all", dn->all, "every service");
  down->add_flag("-p,--purge", dn->purge,
                 "also drop a service that failed to come down (what is "
                 "left of it is then yours to clean up)");
  down
    ->add_option("--replica-id", dn->replica_id,
                 "tear down only this replica of the one named service (it "
                 "is replaced if the service still wants as many)")
    ->check(CLI::PositiveNumber);
  down->add_flag("-y,--yes", dn->yes, "do not ask for confirmation");
  down->footer("Waits until skyd is done (30 min unless --timeout is given). "
               "Exit 1 when any service failed to come down.");
  down->callback([&ctx, dn] { ctx.exit_code = run_serve_down(ctx, *dn); });

  auto* logs = serve->add_subcommand(
    "logs", "print a replica's output (by default following it), or the "
            "load balancer's log");
  auto lo = std::make_shared<serve_logs_options>();
  logs->add_option("service_name", lo->name, "the service")->required();
  logs->add_option("replica_id", lo->replica_id,
                   "replica id (default: the first live replica)");
  logs->add_flag("--load-balancer", lo->load_balancer,
                 "the load balancer's log of this service");
  logs->add_flag("--follow,!--no-follow", lo->follow,
                 "keep printing (default), or print what there is and "
                 "return");
  logs->footer("Ctrl-C stops following; the service keeps running.");
  logs->callback([&ctx, lo] { ctx.exit_code = run_serve_logs(ctx, *lo); });
}

} // namespace sky::cli
