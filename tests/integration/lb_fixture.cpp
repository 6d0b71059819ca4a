#include "tests/integration/lb_fixture.hpp"

#include <utility>

#include <fstream>
#include <limits>
#include <sstream>
#include <sys/socket.h>
#include <thread>

#include <boost/asio/ip/tcp.hpp>
#include <boost/asio/write.hpp>
#include <boost/beast/core.hpp>
#include <boost/beast/http.hpp>
#include <catch2/catch.hpp>
#include <zmq.h>

namespace sky::testing {

namespace asio = boost::asio;
namespace beast = boost::beast;
namespace http = beast::http;
using tcp = asio::ip::tcp;
using namespace std::chrono_literals;

lb_process::lb_process(std::vector<std::string> extra_args) {
  control_ = "ipc://" + (dir_.path() / "lb.sock").string();
  std::vector<std::string> argv{built_binary("bin/skyd-lb"), "--control",
                                control_, "--log", log_path().string()};
  argv.insert(argv.end(), extra_args.begin(), extra_args.end());
  child_ = std::make_unique<child>(argv);
  auto line = child_->read_line(10s);
  INFO(log());
  REQUIRE(line);
  REQUIRE(line->rfind("ready", 0) == 0);
}

std::string lb_process::log() const {
  std::ifstream in{log_path()};
  std::stringstream s;
  s << in.rdbuf();
  return s.str();
}

lb::reply lb_process::call(const lb::request& r,
                           std::chrono::milliseconds timeout) {
  void* ctx = zmq_ctx_new();
  void* sock = zmq_socket(ctx, ZMQ_REQ);
  const int linger = 0;
  const int ms = static_cast<int>(timeout.count());
  zmq_setsockopt(sock, ZMQ_LINGER, &linger, sizeof linger);
  zmq_setsockopt(sock, ZMQ_RCVTIMEO, &ms, sizeof ms);
  zmq_connect(sock, control_.c_str());
  const auto bytes = lb::encode(r);
  zmq_send(sock, bytes.data(), bytes.size(), 0);
  zmq_msg_t msg;
  zmq_msg_init(&msg);
  const int n = zmq_msg_recv(&msg, sock, 0);
  std::string got;
  if (n >= 0)
    got.assign(static_cast<const char*>(zmq_msg_data(&msg)), n);
  zmq_msg_close(&msg);
  zmq_close(sock);
  zmq_ctx_term(ctx);
  if (n < 0)
    return lb::error_reply{"no reply from skyd-lb"};
  auto d = lb::decode_reply(got);
  if (!d)
    return lb::error_reply{"undecodable reply: " + d.error};
  return *d.value;
}

lb::routes_ack lb_process::routes(const std::string& service,
                                  std::vector<std::string> endpoints,
                                  lb::policy p, uint64_t queue_timeout_ms,
                                  uint16_t port, uint64_t generation) {
  lb::routes_request r;
  r.service = service;
  r.endpoints = std::move(endpoints);
  r.balancing = p;
  r.queue_timeout_ms = queue_timeout_ms;
  r.port = port;
  r.generation = generation;
  auto answer = call(r);
  INFO((std::holds_alternative<lb::error_reply>(answer)
          ? std::get<lb::error_reply>(answer).message
          : std::string{}));
  REQUIRE(std::holds_alternative<lb::routes_ack>(answer));
  return std::get<lb::routes_ack>(answer);
}

lb::service_report lb_process::report(const std::string& service) {
  auto answer = call(lb::report_request{});
  REQUIRE(std::holds_alternative<lb::report_reply>(answer));
  for (auto& s : std::get<lb::report_reply>(answer).services)
    if (s.service == service)
      return s;
  return {};
}

lb::service_report lb_process::settled_report(const std::string& service) {
  lb::service_report total;
  const auto t0 = std::chrono::steady_clock::now();
  for (;;) {
    auto r = report(service);
    total.requests.insert(total.requests.end(), r.requests.begin(),
                          r.requests.end());
    total.ejected.insert(total.ejected.end(), r.ejected.begin(),
                         r.ejected.end());
    for (const auto& [status_class, n] : r.responses)
      total.responses[status_class] += n;
    total.service = r.service;
    total.generation = r.generation;
    total.in_flight = r.in_flight;
    total.queued = r.queued;
    total.endpoints = r.endpoints;
    if (r.in_flight == 0 || std::chrono::steady_clock::now() - t0 > 2s)
      return total;
    std::this_thread::sleep_for(10ms);
  }
}

backend::backend(std::string name) : name_(std::move(name)) {
  child_ = std::make_unique<child>(std::vector<std::string>{
    built_binary("tests/support/lb_backend"), "--name", name_});
  auto line = child_->read_line(10s);
  REQUIRE(line);
  REQUIRE(line->rfind("port ", 0) == 0);
  port_ = static_cast<uint16_t>(std::stoi(line->substr(5)));
}

void backend::kill() {
  child_->signal(SIGKILL);
  child_->wait(5s);
}

struct http_connection::impl {
  asio::io_context io;
  tcp::socket socket{io};
  beast::flat_buffer buffer;
};

http_connection::http_connection(uint16_t port,
                                 std::chrono::milliseconds timeout)
  : impl_(std::make_unique<impl>()) {
  beast::error_code ec;
  impl_->socket.connect({asio::ip::make_address("127.0.0.1"), port}, ec);
  if (ec)
    return;
  fd_ = impl_->socket.native_handle();
  timeval tv{};
  tv.tv_sec = timeout.count() / 1000;
  tv.tv_usec = (timeout.count() % 1000) * 1000;
  ::setsockopt(fd_, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof tv);
  ::setsockopt(fd_, SOL_SOCKET, SO_SNDTIMEO, &tv, sizeof tv);
  impl_->socket.set_option(tcp::no_delay(true));
}

http_connection::~http_connection() = default;

http_result
http_connection::request(const std::string& method, const std::string& target,
                         const std::string& body,
                         const std::map<std::string, std::string>& headers) {
  http_result out;
  if (fd_ < 0) {
    out.error = "not connected";
    return out;
  }
  http::request<http::string_body> req;
  req.method_string(method);
  req.target(target);
  req.version(11);
  req.set(http::field::host, "127.0.0.1");
  for (const auto& [k, v] : headers)
    req.set(k, v);
  req.body() = body;
  req.prepare_payload();
  beast::error_code ec;
  http::write(impl_->socket, req, ec);
  http::response_parser<http::string_body> parser;
  parser.body_limit(1ull << 32);
  if (method == "HEAD")
    parser.skip(true);
  if (!ec)
    http::read(impl_->socket, impl_->buffer, parser, ec);
  if (ec) {
    out.error = ec.message();
    return out;
  }
  auto res = parser.release();
  out.status = res.result_int();
  out.body = res.body();
  out.keep_alive = res.keep_alive();
  for (const auto& f : res) {
    std::string name{f.name_string()};
    for (auto& c : name)
      c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
    out.headers[name] = std::string{f.value()};
  }
  return out;
}

std::string http_connection::raw(const std::string& bytes) {
  beast::error_code ec;
  asio::write(impl_->socket, asio::buffer(bytes), ec);
  std::string out;
  char buf[4096];
  for (;;) {
    const size_t n = impl_->socket.read_some(asio::buffer(buf), ec);
    if (ec)
      break;
    out.append(buf, n);
  }
  return out;
}

std::vector<std::pair<double, std::string>>
http_connection::stream(const std::string& target) {
  std::vector<std::pair<double, std::string>> pieces;
  http::request<http::empty_body> req{http::verb::get, target, 11};
  req.set(http::field::host, "127.0.0.1");
  const auto t0 = std::chrono::steady_clock::now();
  beast::error_code ec;
  http::write(impl_->socket, req, ec);
  http::response_parser<http::buffer_body> p;
  if (!ec)
    http::read_header(impl_->socket, impl_->buffer, p, ec);
  char buf[4096];
  while (!ec && !p.is_done()) {
    p.get().body().data = buf;
    p.get().body().size = sizeof buf;
    http::read_some(impl_->socket, impl_->buffer, p, ec);
    if (ec == http::error::need_buffer)
      ec = {};
    const size_t n = sizeof buf - p.get().body().size;
    if (n > 0)
      pieces.emplace_back(std::chrono::duration<double, std::milli>(
                            std::chrono::steady_clock::now() - t0)
                            .count(),
                          std::string{buf, n});
  }
  return pieces;
}

uint64_t http_connection::download(const std::string& target) {
  http::request<http::empty_body> req{http::verb::get, target, 11};
  req.set(http::field::host, "127.0.0.1");
  beast::error_code ec;
  http::write(impl_->socket, req, ec);
  http::response_parser<http::buffer_body> p;
  p.body_limit(std::numeric_limits<std::uint64_t>::max());
  if (!ec)
    http::read_header(impl_->socket, impl_->buffer, p, ec);
  uint64_t total = 0;
  std::vector<char> buf(256 * 1024);
  while (!ec && !p.is_done()) {
    p.get().body().data = buf.data();
    p.get().body().size = buf.size();
    http::read(impl_->socket, impl_->buffer, p, ec);
    if (ec == http::error::need_buffer)
      ec = {};
    total += buf.size() - p.get().body().size;
  }
  return total;
}

size_t rss_of(pid_t pid) {
  std::ifstream in{"/proc/" + std::to_string(pid) + "/status"};
  std::string line;
  while (std::getline(in, line))
    if (line.rfind("VmRSS:", 0) == 0)
      return std::stoull(line.substr(6)) * 1024;
  return 0;
}

http_result http_request(uint16_t port, const std::string& method,
                         const std::string& target, const std::string& body,
                         const std::map<std::string, std::string>& headers) {
  http_connection c{port};
  return c.request(method, target, body, headers);
}

} // namespace sky::testing
