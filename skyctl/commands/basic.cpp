// `skyctl version` and `skyctl ping`.

#include <algorithm>
#include <chrono>
#include <cstdio>
#include <iostream>
#include <numeric>
#include <thread>
#include <vector>

#include "messages/body_reader.hpp"
#include "messages/version.hpp"
#include "skyctl/commands/commands.hpp"

namespace sky::cli {

void add_version(CLI::App& app, cli_context& ctx) {
  auto* cmd
    = app.add_subcommand("version", "print skyctl's and skyd's versions");
  auto out = std::make_shared<output_option>();
  out->add_to(cmd);
  cmd->callback([&ctx, out] {
    // Never starts a daemon just to ask its version.
    std::string daemon_version;
    if (client::running_daemon(ctx.home())) {
      auto conn = client::connection::open(
        home_layout::ipc_endpoint(ctx.home().control_socket()));
      if (conn)
        if (auto pong = conn->call("ping", {}, std::chrono::seconds(2)))
          if (auto r = body_reader::parse(pong->body, "ping reply"))
            daemon_version = value_or(r->str("version", ""), "");
    }
    if (out->json()) {
      nlohmann::ordered_json j;
      j["skyctl"] = sky::version;
      j["skyd"] = daemon_version.empty()
                    ? nlohmann::ordered_json(nullptr)
                    : nlohmann::ordered_json(daemon_version);
      std::cout << j.dump() << "\n";
    } else {
      std::cout << "skyctl " << sky::version << "\n";
      std::cout << "skyd   "
                << (daemon_version.empty() ? "(not running)" : daemon_version)
                << "\n";
    }
  });
}

void add_ping(CLI::App& app, cli_context& ctx) {
  auto* cmd = app.add_subcommand("ping", "measure the round trip to skyd");
  auto count = std::make_shared<int>(1);
  auto interval = std::make_shared<double>(0.2);
  cmd->add_option("-c,--count", *count, "number of pings (default 1)")
    ->check(CLI::Range(1, 1000000));
  cmd
    ->add_option("-i,--interval", *interval,
                 "seconds between pings (default 0.2)")
    ->check(CLI::Range(0.0, 60.0));
  cmd->callback([&ctx, count, interval] {
    auto conn = ctx.connect();
    if (!conn) {
      ctx.exit_code = report(conn.error());
      return;
    }
    std::vector<double> micros;
    for (int i = 0; i < *count; ++i) {
      if (i > 0 && *interval > 0)
        std::this_thread::sleep_for(std::chrono::duration<double>(*interval));
      auto start = std::chrono::steady_clock::now();
      auto pong = conn->call("ping", {}, ctx.timeout());
      auto us = std::chrono::duration<double, std::micro>(
                  std::chrono::steady_clock::now() - start)
                  .count();
      if (!pong) {
        ctx.exit_code = report(pong.error());
        return;
      }
      micros.push_back(us);
      std::string version;
      int64_t pid = 0;
      if (auto r = body_reader::parse(pong->body, "ping reply")) {
        version = value_or(r->str("version", ""), "");
        pid = value_or(r->i64("pid", 0), 0);
      }
      std::printf("pong from skyd %s (pid %lld): seq=%d time=%.0f us\n",
                  version.c_str(), static_cast<long long>(pid), i + 1, us);
    }
    if (micros.size() > 1) {
      auto sorted = micros;
      std::sort(sorted.begin(), sorted.end());
      double avg = std::accumulate(sorted.begin(), sorted.end(), 0.0)
                   / static_cast<double>(sorted.size());
      std::printf("%zu pings: min %.0f us, avg %.0f us, p50 %.0f us, "
                  "max %.0f us\n",
                  sorted.size(), sorted.front(), avg, sorted[sorted.size() / 2],
                  sorted.back());
    }
  });
}

} // namespace sky::cli
