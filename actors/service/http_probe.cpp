#include "actors/service/http_probe.hpp"

#include <thread>
#include <utility>

#include <boost/asio/co_spawn.hpp>
#include <boost/asio/detached.hpp>
#include <boost/asio/executor_work_guard.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/asio/redirect_error.hpp>
#include <boost/asio/use_awaitable.hpp>
#include <boost/beast/core.hpp>
#include <boost/beast/http.hpp>

namespace sky::actors {

namespace asio = boost::asio;
namespace beast = boost::beast;
namespace http = beast::http;
using tcp = asio::ip::tcp;

namespace {

/// An answer larger than this is cut: a probe only needs the status line.
constexpr size_t max_probe_body = 64 * 1024;

std::string seconds_text(std::chrono::milliseconds d) {
  auto ms = d.count();
  if (ms % 1000 == 0)
    return std::to_string(ms / 1000) + " s";
  return std::to_string(ms / 1000) + "." + std::to_string(ms % 1000 / 100)
         + " s";
}

std::string failure_text(const beast::error_code& ec,
                         std::chrono::milliseconds timeout) {
  if (ec == beast::error::timeout)
    return "timed out after " + seconds_text(timeout)
           + " (readiness_probe.timeout_seconds)";
  return ec.message();
}

asio::awaitable<void> attempt(probe_request req,
                              std::function<void(probe_result)>& done) {
  auto started = std::chrono::steady_clock::now();
  probe_result out;
  out.what = probe_text(req);
  beast::error_code ec;
  auto finish = [&](std::string error) {
    out.error = std::move(error);
    out.elapsed = std::chrono::duration_cast<std::chrono::milliseconds>(
      std::chrono::steady_clock::now() - started);
    auto callback = std::exchange(done, nullptr);
    callback(std::move(out));
  };
  auto executor = co_await asio::this_coro::executor;
  tcp::resolver resolver{executor};
  beast::tcp_stream stream{executor};
  // One deadline for the whole probe: resolve, connect, write, read.
  stream.expires_after(req.timeout);
  auto endpoints = co_await resolver.async_resolve(
    req.host, std::to_string(req.port),
    asio::redirect_error(asio::use_awaitable, ec));
  if (ec) {
    finish("cannot resolve " + req.host + ": " + ec.message());
    co_return;
  }
  co_await stream.async_connect(endpoints,
                                asio::redirect_error(asio::use_awaitable, ec));
  if (ec) {
    finish(failure_text(ec, req.timeout));
    co_return;
  }
  http::request<http::string_body> request{
    req.post_data ? http::verb::post : http::verb::get, req.path, 11};
  request.set(http::field::host, req.host + ":" + std::to_string(req.port));
  request.set(http::field::user_agent, "skyd-probe");
  for (const auto& [name, value] : req.headers)
    request.set(name, value);
  if (req.post_data) {
    request.set(http::field::content_type, "application/json");
    request.body() = *req.post_data;
  }
  request.prepare_payload();
  co_await http::async_write(stream, request,
                             asio::redirect_error(asio::use_awaitable, ec));
  if (ec) {
    finish(failure_text(ec, req.timeout));
    co_return;
  }
  beast::flat_buffer buffer;
  http::response_parser<http::string_body> parser;
  parser.body_limit(max_probe_body);
  co_await http::async_read_header(
    stream, buffer, parser, asio::redirect_error(asio::use_awaitable, ec));
  if (ec) {
    finish(failure_text(ec, req.timeout));
    co_return;
  }
  out.http_status = static_cast<int>(parser.get().result_int());
  beast::error_code ignored;
  stream.socket().shutdown(tcp::socket::shutdown_both, ignored);
  finish("");
}

/// Every probe answers exactly once, whatever goes wrong.
asio::awaitable<void> run_probe(probe_request req,
                                std::function<void(probe_result)> done) {
  auto what = probe_text(req);
  try {
    co_await attempt(std::move(req), done);
  } catch (const std::exception& e) {
    if (done) {
      probe_result out;
      out.what = std::move(what);
      out.error = e.what();
      done(std::move(out));
    }
  }
}

} // namespace

struct http_prober::impl {
  asio::io_context io{1};
  asio::executor_work_guard<asio::io_context::executor_type> work{
    io.get_executor()};
  std::thread thread{[this] { io.run(); }};

  ~impl() {
    work.reset();
    io.stop();
    thread.join();
  }
};

http_prober::http_prober() : impl_(std::make_unique<impl>()) {}

http_prober::~http_prober() = default;

void http_prober::probe(probe_request request,
                        std::function<void(probe_result)> done) {
  asio::co_spawn(impl_->io, run_probe(std::move(request), std::move(done)),
                 asio::detached);
}

std::string probe_text(const probe_request& r) {
  return (r.post_data ? "POST " : "GET ") + r.path;
}

} // namespace sky::actors
