// `skyctl daemon start|stop|status|logs`.

#include <fstream>
#include <iostream>
#include <thread>

#include "messages/protocol.hpp"
#include "skyctl/commands/commands.hpp"
#include "skyctl/daemon_control.hpp"

namespace sky::cli {

namespace {

void start(cli_context& ctx) {
  auto home = ctx.home();
  if (auto pid = client::running_daemon(home)) {
    std::cout << "skyd is already running (pid " << *pid
              << ", SKYD_HOME=" << home.home.string() << ")\n";
    return;
  }
  if (auto ok = client::start_daemon(home); !ok) {
    ctx.exit_code = report(ok.error());
    return;
  }
  auto pid = client::running_daemon(home);
  std::cout << "skyd started (pid " << pid.value_or(0)
            << ", SKYD_HOME=" << home.home.string() << ")\n";
}

void stop(cli_context& ctx) {
  auto stopped = client::stop_daemon(ctx.home(), ctx.timeout());
  if (!stopped) {
    ctx.exit_code = report(stopped.error());
    return;
  }
  std::cout << (*stopped ? "skyd stopped\n" : "skyd is not running\n");
}

void status(cli_context& ctx, const output_option& out) {
  auto home = ctx.home();
  if (!client::running_daemon(home)) {
    if (out.json())
      std::cout << R"({"running": false, "home": )"
                << nlohmann::json(home.home.string()).dump() << "}\n";
    else
      std::cout << "skyd is not running (SKYD_HOME=" << home.home.string()
                << ")\n";
    ctx.exit_code = exit_unavailable;
    return;
  }
  auto conn = client::connection::open(
    home_layout::ipc_endpoint(home.control_socket()));
  if (!conn) {
    ctx.exit_code = report(conn.error());
    return;
  }
  auto reply = conn->call("daemon.status", {}, ctx.timeout());
  if (!reply) {
    ctx.exit_code = report(reply.error());
    return;
  }
  if (out.json()) {
    auto json = body_to_json(reply->body);
    if (!json) {
      ctx.exit_code = report(json.error());
      return;
    }
    (*json)["running"] = true;
    std::cout << json->dump(2) << "\n";
    return;
  }
  auto st = protocol::decode_daemon_status(reply->body);
  if (!st) {
    ctx.exit_code = report(st.error());
    return;
  }
  std::cout << "skyd " << st->version << " is running\n"
            << "  pid:        " << st->pid << "\n"
            << "  home:       " << st->home << "\n"
            << "  started:    " << format_time_ms(st->started_at_ms) << " ("
            << format_duration_ms(st->uptime_ms) << " ago)\n"
            << "  events:     " << st->first_seq << ".." << st->last_seq << "\n"
            << "  state:      " << st->clusters << " clusters, " << st->jobs
            << " jobs, " << st->managed_jobs << " managed jobs\n"
            << "  reconciled: "
            << (st->reconciled_at_ms == 0
                  ? std::string{"in progress"}
                  : format_time_ms(st->reconciled_at_ms) + ", "
                      + std::to_string(st->provider_clusters)
                      + " clusters at the providers, "
                      + (st->orphans.empty()
                           ? std::string{"no orphan"}
                           : "orphans terminated: " + st->orphans)
                      + (st->reconcile_problems.empty()
                           ? std::string{}
                           : "; problems: " + st->reconcile_problems))
            << "\n"
            << "  memory:     " << st->rss_bytes / (1024 * 1024) << " MiB\n"
            << "  log:        " << home.log_file().string() << "\n";
}

void logs(cli_context& ctx, bool follow, int lines) {
  auto file = ctx.home().log_file();
  std::ifstream in{file};
  if (!in) {
    std::cerr << "skyctl: no log at " << file.string()
              << " (skyd has not run for this SKYD_HOME)\n";
    ctx.exit_code = exit_unavailable;
    return;
  }
  std::vector<std::string> tail;
  std::string line;
  while (std::getline(in, line)) {
    tail.push_back(std::move(line));
    if (lines > 0 && tail.size() > static_cast<size_t>(lines))
      tail.erase(tail.begin());
  }
  for (const auto& l : tail)
    std::cout << l << "\n";
  std::cout.flush();
  if (!follow)
    return;
  in.clear();
  while (true) {
    if (std::getline(in, line)) {
      std::cout << line << "\n" << std::flush;
      continue;
    }
    in.clear();
    std::this_thread::sleep_for(std::chrono::milliseconds(200));
  }
}

} // namespace

void add_daemon(CLI::App& app, cli_context& ctx) {
  auto* cmd = app.add_subcommand("daemon", "manage the local skyd");
  cmd->require_subcommand(1);
  cmd->add_subcommand("start", "start skyd in the background")
    ->callback([&ctx] { start(ctx); });
  cmd->add_subcommand("stop", "stop skyd (running jobs keep running)")
    ->callback([&ctx] { stop(ctx); });
  auto* st = cmd->add_subcommand("status", "is skyd running, and how is it");
  auto out = std::make_shared<output_option>();
  out->add_to(st);
  st->callback([&ctx, out] { status(ctx, *out); });
  auto* lg = cmd->add_subcommand("logs", "print skyd's log");
  auto follow = std::make_shared<bool>(false);
  auto lines = std::make_shared<int>(0);
  lg->add_flag("-f,--follow", *follow, "keep printing new lines");
  lg->add_option("-n,--lines", *lines, "only the last N lines");
  lg->callback([&ctx, follow, lines] { logs(ctx, *follow, *lines); });
}

} // namespace sky::cli
