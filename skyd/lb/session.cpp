// One client connection: read requests (Beast's parser, with limits), pick an
// endpoint, forward on a pooled upstream connection, relay the response as
// it arrives (buffer_body: each piece is written to the client as soon as
// it is read, so server-sent events stream token by token).

#include "skyd/lb/proxy.hpp"

#include <limits>

#include <boost/asio/co_spawn.hpp>
#include <boost/asio/detached.hpp>
#include <boost/asio/redirect_error.hpp>
#include <boost/asio/use_awaitable.hpp>
#include <boost/asio/write.hpp>
#include <boost/beast/core/flat_buffer.hpp>
#include <boost/beast/http.hpp>

namespace sky::lb {
namespace {

namespace beast = boost::beast;
namespace http = beast::http;
using error_code = boost::system::error_code;

auto nothrow(error_code& ec) {
  return asio::redirect_error(asio::use_awaitable, ec);
}

bool is_http_error(const error_code& ec) {
  return ec.category()
         == http::make_error_code(http::error::bad_method).category();
}

void set_nodelay(tcp::socket& s) {
  error_code ignored;
  // Nagle plus delayed ACKs would hold small SSE tokens for 40 ms.
  s.set_option(tcp::no_delay(true), ignored);
}

asio::awaitable<void> write_plain(service& svc, beast::tcp_stream& client,
                                  http::status status, std::string body,
                                  bool keep_alive) {
  http::response<http::string_body> res{status, 11};
  res.set(http::field::content_type, "text/plain; charset=utf-8");
  res.keep_alive(keep_alive);
  res.body() = std::move(body);
  res.prepare_payload();
  svc.count_response(res.result_int());
  error_code ec;
  client.expires_after(30s);
  co_await http::async_write(client, res, nothrow(ec));
}

template <class Fields>
hop_by_hop hop_set(const Fields& f) {
  hop_by_hop h;
  auto [it, end] = f.equal_range(http::field::connection);
  for (; it != end; ++it)
    h.add_connection_tokens(it->value());
  return h;
}

bool idempotent(http::verb v) {
  switch (v) {
    case http::verb::get:
    case http::verb::head:
    case http::verb::options:
    case http::verb::put:
    case http::verb::delete_:
    case http::verb::trace:
      return true;
    default:
      return false;
  }
}

struct endpoint_address {
  std::string host;
  std::string port;
};

endpoint_address split(const std::string& endpoint) {
  const auto colon = endpoint.rfind(':');
  std::string host = endpoint.substr(0, colon);
  if (host.size() > 2 && host.front() == '[' && host.back() == ']')
    host = host.substr(1, host.size() - 2);
  return {host, endpoint.substr(colon + 1)};
}

/// A fresh connection to `endpoint`; nullptr and `ec` when it fails.
asio::awaitable<std::unique_ptr<pooled_connection>>
connect(service& svc, const std::string& endpoint, error_code& ec) {
  auto c = std::make_unique<pooled_connection>(svc.io.get_executor());
  const auto where = split(endpoint);
  c->stream.expires_after(svc.lim.connect_timeout);
  const auto address = asio::ip::make_address(where.host, ec);
  if (!ec) {
    unsigned long port = std::stoul(where.port);
    co_await c->stream.async_connect(
      tcp::endpoint{address, static_cast<uint16_t>(port)}, nothrow(ec));
  } else {
    tcp::resolver resolver{svc.io};
    auto results
      = co_await resolver.async_resolve(where.host, where.port, nothrow(ec));
    if (!ec)
      co_await c->stream.async_connect(results, nothrow(ec));
  }
  if (ec)
    co_return nullptr;
  set_nodelay(c->stream.socket());
  co_return c;
}

/// Watches the client while its request is upstream. A client that closes
/// closes the upstream connection too: the replica stops working for nobody
/// (vLLM aborts a generation whose connection closes) and least_load's count
/// drops at once instead of when the replica finally answers.
class client_watch {
public:
  explicit client_watch(tcp::socket& client) : client_(client) {}
  ~client_watch() { disarm(); }
  client_watch(const client_watch&) = delete;
  client_watch& operator=(const client_watch&) = delete;

  void arm(tcp::socket& upstream) {
    state_->upstream = &upstream;
    if (armed_)
      return;
    armed_ = true;
    client_.async_wait(tcp::socket::wait_read, [st = state_,
                                                &c = client_](error_code ec) {
      if (ec || st->upstream == nullptr)
        return; // cancelled or disarmed: `c` may be gone, not touched
      char byte;
      error_code peek;
      if (c.receive(asio::buffer(&byte, 1), tcp::socket::message_peek, peek) > 0
          && !peek)
        return; // a pipelined request: the client is there
      st->gone = true;
      error_code ignored;
      st->upstream->close(ignored);
    });
  }
  /// Before the upstream connection goes back to the pool or away.
  void disarm() {
    state_->upstream = nullptr;
    if (armed_) {
      armed_ = false;
      error_code ignored;
      client_.cancel(ignored);
    }
  }
  bool gone() const { return state_->gone; }

private:
  struct state {
    tcp::socket* upstream = nullptr;
    bool gone = false;
  };
  tcp::socket& client_;
  std::shared_ptr<state> state_ = std::make_shared<state>();
  bool armed_ = false;
};

class forwarding {
public:
  forwarding(std::shared_ptr<service> svc, beast::tcp_stream& client,
             beast::flat_buffer& client_buffer,
             http::request<http::string_body>& req,
             const std::string& client_ip)
    : svc_(std::move(svc)), client_(client), client_buffer_(client_buffer),
      req_(req), watch_(client.socket()) {
    build_upstream_request(client_ip);
  }

  /// Forwards the request and relays the answer; false when the client
  /// connection cannot carry another request.
  asio::awaitable<bool> run();

private:
  void build_upstream_request(const std::string& client_ip);
  std::string no_endpoint_body() const;
  asio::awaitable<bool>
  wait_for_endpoint(std::chrono::steady_clock::time_point deadline);
  /// Relays the response of `up`; false when the client is gone.
  asio::awaitable<bool> relay(const std::string& endpoint,
                              std::unique_ptr<pooled_connection> up,
                              http::response_parser<http::buffer_body>& rp,
                              beast::flat_buffer& ubuf);

  /// After a 101 from the replica: bytes both ways until either side ends.
  asio::awaitable<bool> tunnel(std::unique_ptr<pooled_connection> up,
                               http::response_parser<http::buffer_body>& rp,
                               beast::flat_buffer& ubuf);

  std::shared_ptr<service> svc_;
  beast::tcp_stream& client_;
  beast::flat_buffer& client_buffer_;
  http::request<http::string_body>& req_;
  bool upgrade_ = false;
  http::request<http::string_body> up_;
  client_watch watch_;
};

void forwarding::build_upstream_request(const std::string& client_ip) {
  up_.method_string(req_.method_string());
  up_.target(req_.target());
  up_.version(11);
  const auto hop = hop_set(req_);
  std::string prior_xff;
  for (const auto& f : req_) {
    if (hop.drop(f.name_string()) || f.name() == http::field::expect)
      continue; // the body is already read, so 100-continue is answered
    if (iequals(f.name_string(), "x-forwarded-for")) {
      prior_xff = forwarded_for(prior_xff, f.value());
      continue;
    }
    if (iequals(f.name_string(), "x-forwarded-proto"))
      continue;
    up_.insert(f.name_string(), f.value());
  }
  // An upgrade (WebSocket) is the one hop-by-hop exchange passed on: the
  // replica answers 101 and the connection becomes a tunnel.
  upgrade_ = hop.names("upgrade") && !req_[http::field::upgrade].empty();
  if (upgrade_) {
    up_.set(http::field::upgrade, req_[http::field::upgrade]);
    up_.set(http::field::connection, "Upgrade");
  }
  up_.set("X-Forwarded-For", forwarded_for(prior_xff, client_ip));
  up_.set("X-Forwarded-Proto", "http");
  up_.body() = std::move(req_.body());
  up_.prepare_payload();
}

std::string forwarding::no_endpoint_body() const {
  const auto& name = svc_->routes.service;
  return "service " + name + " has no ready replica (waited "
         + std::to_string(svc_->routes.queue_timeout_ms)
         + " ms); see `skyctl serve status " + name + "`\n";
}

asio::awaitable<bool>
forwarding::wait_for_endpoint(std::chrono::steady_clock::time_point deadline) {
  if (svc_->removed || std::chrono::steady_clock::now() >= deadline
      || svc_->waiters.size() >= svc_->lim.max_queued)
    co_return false;
  asio::steady_timer timer{svc_->io};
  timer.expires_at(deadline);
  svc_->waiters.push_back(&timer);
  const auto place = std::prev(svc_->waiters.end());
  error_code ec;
  co_await timer.async_wait(nothrow(ec));
  svc_->waiters.erase(place);
  // Woken (cancelled) means something changed: look again.
  co_return ec == asio::error::operation_aborted && !svc_->removed;
}

asio::awaitable<bool> forwarding::run() {
  const auto deadline
    = std::chrono::steady_clock::now()
      + std::chrono::milliseconds(svc_->routes.queue_timeout_ms);
  const bool keep = req_.keep_alive();
  std::vector<std::string> refused; // by this request: never picked again
  int stale_retries = 0;
  bool fresh_only = false;
  for (;;) {
    auto endpoint = svc_->balance.pick([&](const std::string& e) {
      return svc_->usable(e)
             && std::find(refused.begin(), refused.end(), e) == refused.end();
    });
    if (!endpoint) {
      if (co_await wait_for_endpoint(deadline)) {
        refused.clear(); // new routes or a re-admit: everyone may be back
        continue;
      }
      co_await write_plain(*svc_, client_, http::status::service_unavailable,
                           no_endpoint_body(), keep);
      co_return keep;
    }
    flight in_flight{svc_->balance, *endpoint};
    error_code ec;
    std::unique_ptr<pooled_connection> up;
    if (!fresh_only)
      up = svc_->take_idle(*endpoint);
    const bool reused = up != nullptr;
    if (!up) {
      up = co_await connect(*svc_, *endpoint, ec);
      if (!up) {
        // Nothing was sent: retry on a different endpoint, and take this
        // one out of rotation at once.
        svc_->eject(*endpoint, "connect: " + ec.message());
        refused.push_back(*endpoint);
        continue;
      }
    }
    watch_.arm(up->stream.socket());
    up->stream.expires_after(svc_->lim.upstream_timeout);
    co_await http::async_write(up->stream, up_, nothrow(ec));
    beast::flat_buffer ubuf;
    http::response_parser<http::buffer_body> rp;
    rp.body_limit(std::numeric_limits<std::uint64_t>::max());
    if (req_.method() == http::verb::head)
      rp.skip(true);
    if (!ec)
      co_await http::async_read_header(up->stream, ubuf, rp, nothrow(ec));
    if (ec && watch_.gone()) {
      log_line("service " + svc_->routes.service + ": client went away, "
               + *endpoint + " request abandoned");
      co_return false;
    }
    if (ec) {
      watch_.disarm();
      // A pooled connection the replica closed while idle fails before any
      // answer byte; a fresh connection to the same endpoint is safe for
      // requests that may be repeated.
      if (reused && stale_retries < 2 && idempotent(req_.method())
          && ubuf.size() == 0) {
        ++stale_retries;
        fresh_only = true;
        svc_->idle.erase(*endpoint);
        continue;
      }
      const bool timed_out = ec == beast::error::timeout;
      log_line("service " + svc_->routes.service + ": " + *endpoint + ": "
               + ec.message());
      co_await write_plain(
        *svc_, client_,
        timed_out ? http::status::gateway_timeout : http::status::bad_gateway,
        "replica " + *endpoint + " of service " + svc_->routes.service
          + " failed: " + ec.message() + "\n",
        keep);
      co_return keep;
    }
    if (upgrade_ && rp.get().result() == http::status::switching_protocols)
      co_return co_await tunnel(std::move(up), rp, ubuf);
    co_return co_await relay(*endpoint, std::move(up), rp, ubuf) && keep;
  }
}

asio::awaitable<bool> forwarding::relay(
  const std::string& endpoint, std::unique_ptr<pooled_connection> up,
  http::response_parser<http::buffer_body>& rp, beast::flat_buffer& ubuf) {
  const auto& head = rp.get();
  http::response<http::buffer_body> res;
  res.result(head.result_int());
  res.reason(head.reason());
  const bool http10 = req_.version() < 11;
  res.version(http10 ? 10 : 11);
  const auto hop = hop_set(head);
  for (const auto& f : head)
    if (!hop.drop(f.name_string()))
      res.insert(f.name_string(), f.value());
  const bool upstream_reusable = rp.keep_alive() && !rp.need_eof();
  // No Content-Length from the replica: chunked to the client (framing is
  // per hop), unless there is no body at all (HEAD, 204, 304). An HTTP/1.0
  // client knows no chunks: it reads to the close.
  bool client_keep = req_.keep_alive();
  if (!rp.is_done() && !rp.content_length()) {
    if (http10)
      client_keep = false;
    else
      res.chunked(true);
  }
  res.keep_alive(client_keep);

  svc_->count_response(res.result_int());
  http::response_serializer<http::buffer_body> sr{res};
  error_code ec;
  client_.expires_after(svc_->lim.upstream_timeout);
  co_await http::async_write_header(client_, sr, nothrow(ec));
  if (ec)
    co_return false;
  char piece[16 * 1024];
  bool done = rp.is_done();
  while (!sr.is_done()) {
    size_t n = 0;
    if (!done) {
      rp.get().body().data = piece;
      rp.get().body().size = sizeof piece;
      up->stream.expires_after(svc_->lim.upstream_timeout);
      co_await http::async_read_some(up->stream, ubuf, rp, nothrow(ec));
      if (ec == http::error::need_buffer)
        ec = {};
      if (ec) {
        // Mid-response: the client can only learn of it by the connection
        // closing before the message ends.
        log_line("service " + svc_->routes.service + ": " + endpoint
                 + (watch_.gone() ? " abandoned: client went away"
                                  : " mid-response: " + ec.message()));
        co_return false;
      }
      n = sizeof piece - rp.get().body().size;
      done = rp.is_done();
      if (n == 0 && !done)
        continue;
    }
    res.body().data = n > 0 ? piece : nullptr;
    res.body().size = n;
    res.body().more = !done;
    client_.expires_after(svc_->lim.upstream_timeout);
    co_await http::async_write(client_, sr, nothrow(ec));
    if (ec == http::error::need_buffer)
      ec = {};
    if (ec)
      co_return false; // client gone; the flight guard still counts down
  }
  watch_.disarm();
  if (upstream_reusable)
    svc_->give_back(endpoint, std::move(up));
  co_return client_keep;
}

/// Copies bytes from one socket to the other until either fails or ends,
/// then passes the end on (shutdown of the sending side).
asio::awaitable<void> pump(tcp::socket& from, tcp::socket& to) {
  char piece[16 * 1024];
  error_code ec;
  for (;;) {
    const size_t n
      = co_await from.async_read_some(asio::buffer(piece), nothrow(ec));
    if (ec)
      break;
    co_await asio::async_write(to, asio::buffer(piece, n), nothrow(ec));
    if (ec)
      break;
  }
  to.shutdown(tcp::socket::shutdown_send, ec);
}

asio::awaitable<void> pump_then_signal(tcp::socket& from, tcp::socket& to,
                                       bool& finished,
                                       asio::steady_timer& done) {
  co_await pump(from, to);
  finished = true;
  done.cancel();
}

asio::awaitable<bool>
forwarding::tunnel(std::unique_ptr<pooled_connection> up,
                   http::response_parser<http::buffer_body>& rp,
                   beast::flat_buffer& ubuf) {
  watch_.disarm(); // the tunnel reads the client itself
  http::response<http::empty_body> res;
  res.result(http::status::switching_protocols);
  res.version(11);
  for (const auto& f : rp.get())
    res.insert(f.name_string(), f.value());
  svc_->count_response(101);
  error_code ec;
  client_.expires_after(30s);
  co_await http::async_write(client_, res, nothrow(ec));
  client_.expires_never();
  up->stream.expires_never();
  auto& client = client_.socket();
  auto& upstream = up->stream.socket();
  // Bytes already read past either header belong to the tunnel.
  if (!ec && ubuf.size() > 0)
    co_await asio::async_write(client, ubuf.data(), nothrow(ec));
  if (!ec && client_buffer_.size() > 0)
    co_await asio::async_write(upstream, client_buffer_.data(), nothrow(ec));
  client_buffer_.clear();
  if (ec)
    co_return false;
  bool finished = false;
  asio::steady_timer done{svc_->io, asio::steady_timer::time_point::max()};
  asio::co_spawn(svc_->io, pump_then_signal(upstream, client, finished, done),
                 asio::detached);
  co_await pump(client, upstream);
  // The client is done: give the replica a while to close its side, then
  // close it; the other pump refers to this frame, so it must end first.
  if (!finished) {
    done.expires_after(30s);
    co_await done.async_wait(nothrow(ec));
  }
  if (!finished) {
    upstream.close(ec);
    done.expires_at(asio::steady_timer::time_point::max());
    co_await done.async_wait(nothrow(ec));
  }
  co_return false;
}

} // namespace

asio::awaitable<void> serve_client(std::shared_ptr<service> svc,
                                   tcp::socket socket) {
  set_nodelay(socket);
  error_code ec;
  const auto peer = socket.remote_endpoint(ec);
  const std::string client_ip = ec ? "unknown" : peer.address().to_string();
  beast::tcp_stream client{std::move(socket)};
  if (svc->connections >= svc->lim.max_connections) {
    co_await write_plain(*svc, client, http::status::service_unavailable,
                         "skyd-lb: too many connections to service "
                           + svc->routes.service + "\n",
                         false);
    co_return;
  }
  ++svc->connections;
  struct count_down {
    service& s;
    ~count_down() { --s.connections; }
  } guard{*svc};

  beast::flat_buffer buffer;
  while (!svc->removed) {
    http::request_parser<http::string_body> parser;
    parser.header_limit(static_cast<uint32_t>(svc->lim.header_bytes));
    parser.body_limit(svc->lim.body_bytes);
    client.expires_after(svc->lim.idle_timeout);
    co_await http::async_read_header(client, buffer, parser, nothrow(ec));
    if (!ec && parser.get()[http::field::expect] == "100-continue"
        && !parser.is_done()) {
      static constexpr std::string_view go_on = "HTTP/1.1 100 Continue\r\n\r\n";
      co_await asio::async_write(client, asio::buffer(go_on), nothrow(ec));
    }
    if (!ec && !parser.is_done()) {
      client.expires_after(svc->lim.idle_timeout);
      co_await http::async_read(client, buffer, parser, nothrow(ec));
    }
    if (ec == http::error::header_limit) {
      co_await write_plain(
        *svc, client, http::status::request_header_fields_too_large,
        "request header larger than " + std::to_string(svc->lim.header_bytes)
          + " bytes\n",
        false);
      co_return;
    }
    if (ec == http::error::body_limit) {
      co_await write_plain(*svc, client, http::status::payload_too_large,
                           "request body larger than "
                             + std::to_string(svc->lim.body_bytes) + " bytes\n",
                           false);
      co_return;
    }
    if (ec && is_http_error(ec) && ec != http::error::end_of_stream
        && ec != http::error::partial_message) {
      co_await write_plain(*svc, client, http::status::bad_request,
                           "malformed HTTP request: " + ec.message() + "\n",
                           false);
      co_return;
    }
    if (ec)
      co_return; // closed, reset or idle timeout
    auto req = parser.release();
    svc->rate.add(static_cast<int64_t>(unix_ms_now() / 1000));
    forwarding x{svc, client, buffer, req, client_ip};
    if (!co_await x.run())
      break;
  }
  client.socket().shutdown(tcp::socket::shutdown_send, ec);
}

} // namespace sky::lb
