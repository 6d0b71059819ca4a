// skyd-lb: the services' load balancer, a process of its own that skyd
// starts and feeds with routes over --control. It has no CAF and keeps
// serving its last routes when skyd is gone.

#include <utility> // before Asio (Boost 1.74 awaitable.hpp)

#include <chrono>
#include <csignal>
#include <cstdio>
#include <ctime>
#include <future>
#include <iostream>
#include <mutex>

#include <boost/asio/co_spawn.hpp>
#include <boost/asio/detached.hpp>
#include <boost/asio/post.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/asio/use_awaitable.hpp>
#include <boost/asio/signal_set.hpp>
#include <CLI/CLI.hpp>
#include <unistd.h>

#include "skyd/lb/control.hpp"
#include "skyd/lb/proxy.hpp"

namespace sky::lb {
namespace {

std::mutex log_mutex;
std::FILE* log_file = stderr;

} // namespace

void log_line(const std::string& line) {
  const auto now = std::chrono::system_clock::now();
  const auto t = std::chrono::system_clock::to_time_t(now);
  const auto ms = std::chrono::duration_cast<std::chrono::milliseconds>(
                    now.time_since_epoch())
                    .count()
                  % 1000;
  std::tm tm{};
  gmtime_r(&t, &tm);
  char stamp[32];
  std::strftime(stamp, sizeof stamp, "%Y-%m-%dT%H:%M:%S", &tm);
  std::lock_guard lock{log_mutex};
  std::fprintf(log_file, "%s.%03dZ %s\n", stamp, static_cast<int>(ms),
               line.c_str());
  std::fflush(log_file);
}

namespace {

asio::awaitable<void>
drain_then_stop(asio::io_context& io, proxy& lb,
                std::chrono::steady_clock::time_point deadline) {
  asio::steady_timer tick{io};
  while (lb.in_flight() > 0 && std::chrono::steady_clock::now() < deadline) {
    tick.expires_after(20ms);
    co_await tick.async_wait(asio::use_awaitable);
  }
  io.stop();
}

int run(int argc, char** argv) {
  CLI::App app{"skyd-lb: the load balancer of skyd services"};
  std::string control_endpoint;
  std::string log_path;
  limits lim;
  uint64_t idle_ms = lim.idle_timeout.count();
  uint64_t upstream_ms = lim.upstream_timeout.count();
  uint64_t connect_ms = lim.connect_timeout.count();
  uint64_t readmit_ms = lim.readmit_after.count();
  uint64_t drain_ms = 5000;
  app
    .add_option("--control", control_endpoint,
                "ipc:///path of the control socket (created 0600)")
    ->required();
  app.add_option("--log", log_path, "log file (default stderr)");
  app.add_option("--idle-timeout-ms", idle_ms,
                 "client connection idle timeout");
  app.add_option("--upstream-timeout-ms", upstream_ms,
                 "longest wait for a replica's next bytes");
  app.add_option("--connect-timeout-ms", connect_ms, "replica connect timeout");
  app.add_option("--readmit-ms", readmit_ms,
                 "an ejected endpoint is tried again after this");
  app.add_option("--drain-ms", drain_ms,
                 "on SIGTERM, how long requests in flight may take to finish");
  app.add_option("--max-connections", lim.max_connections,
                 "client connections per service (503 beyond)");
  app.add_option("--max-queued", lim.max_queued,
                 "requests waiting for an endpoint per service (503 beyond)");
  app.add_option("--max-body-bytes", lim.body_bytes,
                 "largest request body (413 beyond)");
  app.add_option("--max-header-bytes", lim.header_bytes,
                 "largest request header (431 beyond)");
  CLI11_PARSE(app, argc, argv);
  lim.idle_timeout = std::chrono::milliseconds(idle_ms);
  lim.upstream_timeout = std::chrono::milliseconds(upstream_ms);
  lim.connect_timeout = std::chrono::milliseconds(connect_ms);
  lim.readmit_after = std::chrono::milliseconds(readmit_ms);

  if (!log_path.empty()) {
    log_file = std::fopen(log_path.c_str(), "a");
    if (log_file == nullptr) {
      std::cerr << "skyd-lb: cannot open log " << log_path << "\n";
      return 1;
    }
  }
  // A client or replica closing mid-write must be an error code, not death.
  std::signal(SIGPIPE, SIG_IGN);

  asio::io_context io{1};
  proxy lb{io, lim};
  control ctl{control_endpoint, [&](const request& r) -> reply {
                // Owned by the posted handler: a late run after a timeout
                // (or never, after shutdown) touches nothing of this frame.
                auto task = std::make_shared<std::packaged_task<reply()>>(
                  [&lb, r] { return lb.handle(r); });
                auto answer = task->get_future();
                asio::post(io, [task] { (*task)(); });
                if (answer.wait_for(10s) != std::future_status::ready)
                  return error_reply{"skyd-lb is busy or stopping"};
                return answer.get();
              }};
  if (auto err = ctl.start(); !err.empty()) {
    log_line(err);
    std::cerr << "skyd-lb: " << err << "\n";
    return 1;
  }
  asio::signal_set signals{io, SIGTERM, SIGINT};
  // First signal: stop accepting, let requests in flight finish for up to
  // --drain-ms, then stop. A second signal stops at once.
  signals.async_wait([&](const boost::system::error_code& ec, int sig) {
    if (ec)
      return;
    log_line("signal " + std::to_string(sig) + ": stopping, "
             + std::to_string(lb.in_flight()) + " request(s) in flight");
    lb.close_all();
    signals.async_wait([&](const boost::system::error_code& again, int) {
      if (!again)
        io.stop();
    });
    asio::co_spawn(io,
                   drain_then_stop(io, lb,
                                   std::chrono::steady_clock::now()
                                     + std::chrono::milliseconds(drain_ms)),
                   asio::detached);
  });
  log_line("skyd-lb " + std::to_string(::getpid()) + " serving control on "
           + control_endpoint);
  std::cout << "ready " << ::getpid() << std::endl;
  io.run();
  ctl.stop();
  log_line("skyd-lb stopped");
  std::fflush(nullptr);
  // Sessions still hold sockets and timers of `io`; the kernel closes them.
  // Unwinding them against a stopped io_context buys nothing.
  std::_Exit(0);
}

} // namespace
} // namespace sky::lb

int main(int argc, char** argv) {
  return sky::lb::run(argc, argv);
}
