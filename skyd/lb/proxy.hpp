#pragma once

// The proxy of skyd-lb: one listening port per service, client sessions,
// pooled upstream connections. Everything here runs on the one Asio thread;
// the control thread reaches it only through `asio::post`.

#include <utility> // before Asio: Boost 1.74's awaitable.hpp uses std::exchange

#include <chrono>
#include <cstdint>
#include <list>
#include <map>
#include <memory>
#include <string>
#include <unordered_map>
#include <vector>

#include <boost/asio/awaitable.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/beast/core/tcp_stream.hpp>

#include "messages/lb_protocol.hpp"
#include "skyd/lb/balancer.hpp"
#include "skyd/lb/traffic.hpp"

namespace sky::lb {

namespace asio = boost::asio;
using tcp = asio::ip::tcp;
using namespace std::chrono_literals;

/// What protects the process; beyond each a clear status, never a crash.
struct limits {
  size_t header_bytes = 16 * 1024;                   // 431 beyond
  uint64_t body_bytes = 64ull * 1024 * 1024;         // 413 beyond (buffered)
  std::chrono::milliseconds idle_timeout = 60s;      // between client requests
  std::chrono::milliseconds upstream_timeout = 120s; // between chunks
  std::chrono::milliseconds connect_timeout = 5s;
  std::chrono::milliseconds readmit_after = 5s; // ejected endpoints
  size_t max_connections = 10'000;              // per service; 503 beyond
  size_t max_queued = 10'000;                   // per service; 503 beyond
  size_t max_idle_upstream = 64;                // per endpoint
  // Pooled connections older than this are not reused: uvicorn (vLLM) and
  // Node close idle keep-alive connections after 5 s, and a request sent on
  // one they are closing fails.
  std::chrono::milliseconds upstream_idle_max = 4s;
};

void log_line(const std::string& line); // main.cpp: to --log or stderr
uint64_t unix_ms_now();

struct pooled_connection {
  explicit pooled_connection(const asio::any_io_executor& ex) : stream(ex) {}
  boost::beast::tcp_stream stream;
  std::chrono::steady_clock::time_point idle_since;
};

struct service : std::enable_shared_from_this<service> {
  service(asio::io_context& io, routes_request r, const limits& l)
    : io(io), routes(std::move(r)), lim(l), ejected(l.readmit_after) {}

  /// Wakes every request waiting for an endpoint (routes arrived, an
  /// endpoint was re-admitted, or the service went away).
  void wake();
  /// Out of rotation at once, and a wake-up when the re-admit time passes.
  void eject(const std::string& endpoint, const std::string& reason);
  bool usable(const std::string& endpoint) const;
  /// A response sent to a client, by status class, for `report`.
  void count_response(unsigned status) {
    if (status >= 100 && status < 600)
      ++responses[status / 100];
  }

  std::unique_ptr<pooled_connection> take_idle(const std::string& endpoint);
  void give_back(const std::string& endpoint,
                 std::unique_ptr<pooled_connection> c);

  asio::io_context& io;
  routes_request routes;
  const limits& lim;
  std::shared_ptr<tcp::acceptor> acceptor;
  uint16_t port = 0;
  bool removed = false;
  balancer balance;
  ejections ejected;
  rate_counter rate;
  uint64_t responses[6] = {}; // [1..5]: 1xx..5xx since the last report
  std::list<asio::steady_timer*> waiters;
  size_t connections = 0;
  std::unordered_map<std::string,
                     std::vector<std::unique_ptr<pooled_connection>>>
    idle;
};

/// Serves one client connection until it closes (session.cpp).
asio::awaitable<void> serve_client(std::shared_ptr<service> svc,
                                   tcp::socket socket);

class proxy {
public:
  proxy(asio::io_context& io, limits lim)
    : io_(io), lim_(lim), started_at_ms_(unix_ms_now()) {}

  /// Applies one control request; call on the Asio thread.
  reply handle(const request& r);
  /// Closes every listening port (shutdown).
  void close_all();
  /// Requests in flight over all services.
  uint64_t in_flight() const;

private:
  routes_ack apply(const routes_request& r);
  remove_ack remove(const std::string& name);
  report_reply report();
  hello_reply hello() const;
  std::string listen(service& s);

  asio::io_context& io_;
  limits lim_;
  std::map<std::string, std::shared_ptr<service>> services_;
  uint64_t started_at_ms_;
};

} // namespace sky::lb
