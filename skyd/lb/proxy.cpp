#include "skyd/lb/proxy.hpp"

#include <boost/asio/co_spawn.hpp>
#include <boost/asio/redirect_error.hpp>
#include <boost/asio/use_awaitable.hpp>
#include <unistd.h>

namespace sky::lb {

uint64_t unix_ms_now() {
  return static_cast<uint64_t>(
    std::chrono::duration_cast<std::chrono::milliseconds>(
      std::chrono::system_clock::now().time_since_epoch())
      .count());
}

void service::wake() {
  for (auto* t : waiters)
    t->cancel();
}

void service::eject(const std::string& endpoint, const std::string& reason) {
  ejected.eject(endpoint, reason, std::chrono::steady_clock::now(),
                unix_ms_now());
  idle.erase(endpoint);
  log_line("service " + routes.service + ": endpoint " + endpoint + " ejected ("
           + reason + ")");
  auto timer = std::make_shared<asio::steady_timer>(io, lim.readmit_after);
  timer->async_wait(
    [timer, weak = weak_from_this()](const boost::system::error_code&) {
      if (auto s = weak.lock())
        s->wake();
    });
}

bool service::usable(const std::string& endpoint) const {
  return !ejected.ejected(endpoint, std::chrono::steady_clock::now());
}

namespace {

/// An idle keep-alive connection has nothing to read; one that is readable
/// was closed by its replica (a killed replica's FIN arrives at once) or
/// sent garbage. Checking costs one non-blocking peek and saves a request
/// that would otherwise fail on it, which a POST could not retry.
bool still_open(boost::beast::tcp_stream& stream) {
  auto& s = stream.socket();
  if (!s.is_open())
    return false;
  boost::system::error_code ec;
  s.non_blocking(true, ec);
  char byte;
  s.receive(asio::buffer(&byte, 1), tcp::socket::message_peek, ec);
  return ec == asio::error::would_block;
}

} // namespace

std::unique_ptr<pooled_connection>
service::take_idle(const std::string& endpoint) {
  auto it = idle.find(endpoint);
  if (it == idle.end())
    return nullptr;
  const auto now = std::chrono::steady_clock::now();
  while (!it->second.empty()) {
    auto c = std::move(it->second.back());
    it->second.pop_back();
    if (now - c->idle_since < lim.upstream_idle_max && still_open(c->stream))
      return c;
  }
  return nullptr;
}

void service::give_back(const std::string& endpoint,
                        std::unique_ptr<pooled_connection> c) {
  if (removed)
    return;
  if (std::find(balance.endpoints().begin(), balance.endpoints().end(),
                endpoint)
      == balance.endpoints().end())
    return; // no longer routed: let it close
  auto& pool = idle[endpoint];
  if (pool.size() >= lim.max_idle_upstream)
    return;
  c->stream.expires_never();
  c->idle_since = std::chrono::steady_clock::now();
  pool.push_back(std::move(c));
}

namespace {

/// A coroutine that throws ends alone, said in the log; the process and
/// every other connection carry on.
auto log_failure(const char* what) {
  return [what](std::exception_ptr e) {
    if (!e)
      return;
    try {
      std::rethrow_exception(e);
    } catch (const std::exception& x) {
      log_line(std::string{what} + " failed: " + x.what());
    } catch (...) {
      log_line(std::string{what} + " failed");
    }
  };
}

asio::awaitable<void> accept_loop(std::shared_ptr<service> svc,
                                  std::shared_ptr<tcp::acceptor> acceptor) {
  for (;;) {
    boost::system::error_code ec;
    tcp::socket socket = co_await acceptor->async_accept(
      asio::redirect_error(asio::use_awaitable, ec));
    if (ec == asio::error::operation_aborted || !acceptor->is_open())
      co_return; // closed: removed, re-bound or shutting down
    if (ec) {
      // EMFILE and the like: say so and pause instead of spinning.
      log_line("service " + svc->routes.service + ": accept: " + ec.message());
      asio::steady_timer pause(svc->io, 100ms);
      co_await pause.async_wait(asio::redirect_error(asio::use_awaitable, ec));
      continue;
    }
    asio::co_spawn(svc->io, serve_client(svc, std::move(socket)),
                   log_failure("client session"));
  }
}

} // namespace

std::string proxy::listen(service& s) {
  boost::system::error_code ec;
  const auto address = asio::ip::make_address(s.routes.bind_address, ec);
  if (ec)
    return "bind_address '" + s.routes.bind_address + "' is not an IP address";
  auto acceptor = std::make_shared<tcp::acceptor>(io_);
  const tcp::endpoint where{address, s.routes.port};
  acceptor->open(where.protocol(), ec);
  if (!ec)
    acceptor->set_option(tcp::acceptor::reuse_address(true), ec);
  if (!ec)
    acceptor->bind(where, ec);
  if (!ec)
    acceptor->listen(asio::socket_base::max_listen_connections, ec);
  if (ec)
    return "cannot listen on " + s.routes.bind_address + ":"
           + std::to_string(s.routes.port) + ": " + ec.message();
  s.acceptor = acceptor;
  s.port = acceptor->local_endpoint().port();
  asio::co_spawn(io_, accept_loop(s.shared_from_this(), acceptor),
                 log_failure("accept loop"));
  return {};
}

routes_ack proxy::apply(const routes_request& r) {
  routes_ack ack{r.service, r.generation, false, 0, {}};
  auto it = services_.find(r.service);
  std::shared_ptr<service> s;
  if (it == services_.end()) {
    s = std::make_shared<service>(io_, r, lim_);
  } else {
    s = it->second;
    const bool same_socket = s->acceptor && s->acceptor->is_open()
                             && s->routes.bind_address == r.bind_address
                             && (r.port == 0 || r.port == s->port);
    if (!same_socket && s->acceptor) {
      boost::system::error_code ignored;
      s->acceptor->close(ignored);
      s->acceptor.reset();
    }
    s->routes = r;
  }
  s->balance.set(r.balancing, r.endpoints);
  s->ejected.readmit();
  for (auto i = s->idle.begin(); i != s->idle.end();) {
    if (std::find(r.endpoints.begin(), r.endpoints.end(), i->first)
        == r.endpoints.end())
      i = s->idle.erase(i);
    else
      ++i;
  }
  if (!s->acceptor)
    ack.error = listen(*s);
  if (ack.error.empty()) {
    services_[r.service] = s;
    ack.listening = true;
    ack.port = s->port;
    log_line("service " + r.service + ": generation "
             + std::to_string(r.generation) + ", "
             + std::to_string(r.endpoints.size()) + " endpoint(s), port "
             + std::to_string(s->port));
  } else {
    log_line("service " + r.service + ": " + ack.error);
    if (it != services_.end())
      services_[r.service] = s; // keeps its routes; the port is closed
  }
  s->wake();
  return ack;
}

remove_ack proxy::remove(const std::string& name) {
  auto it = services_.find(name);
  if (it == services_.end())
    return {name, false};
  auto s = it->second;
  services_.erase(it);
  s->removed = true;
  if (s->acceptor) {
    boost::system::error_code ignored;
    s->acceptor->close(ignored);
  }
  s->idle.clear();
  s->wake(); // queued requests get their 503 now
  log_line("service " + name + ": removed");
  return {name, true};
}

report_reply proxy::report() {
  report_reply out;
  for (auto& [name, s] : services_) {
    service_report r;
    r.service = name;
    r.generation = s->routes.generation;
    r.requests = s->rate.drain();
    r.in_flight = s->balance.total_in_flight();
    r.queued = s->waiters.size();
    r.endpoints = s->balance.loads();
    r.ejected = s->ejected.drain_events();
    for (unsigned c = 1; c <= 5; ++c)
      if (s->responses[c] > 0)
        r.responses[std::to_string(c) + "xx"]
          = std::exchange(s->responses[c], 0);
    out.services.push_back(std::move(r));
  }
  return out;
}

hello_reply proxy::hello() const {
  hello_reply h;
  h.pid = ::getpid();
  h.started_at_ms = started_at_ms_;
  for (const auto& [name, s] : services_)
    h.services.push_back({name, s->routes.generation, s->port,
                          s->acceptor && s->acceptor->is_open()});
  return h;
}

reply proxy::handle(const request& r) {
  struct visitor {
    proxy& p;
    reply operator()(const hello_request&) { return p.hello(); }
    reply operator()(const routes_request& r) { return p.apply(r); }
    reply operator()(const remove_request& r) { return p.remove(r.service); }
    reply operator()(const report_request&) { return p.report(); }
  };
  return std::visit(visitor{*this}, r);
}

uint64_t proxy::in_flight() const {
  uint64_t n = 0;
  for (const auto& [name, s] : services_)
    n += s->balance.total_in_flight();
  return n;
}

void proxy::close_all() {
  for (auto& [name, s] : services_) {
    if (s->acceptor) {
      boost::system::error_code ignored;
      s->acceptor->close(ignored);
    }
    s->removed = true;
    s->wake();
  }
}

} // namespace sky::lb
