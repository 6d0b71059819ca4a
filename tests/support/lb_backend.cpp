// A replica for the load balancer's tests and bench: a small HTTP/1.1 server
// (Beast, one thread per connection, keep-alive) that prints "port N" once
// it listens on 127.0.0.1.
//   any path        200 "NAME METHOD TARGET", headers X-Backend, X-Conn
//                   (this connection's number: shows upstream reuse) and
//                   X-Seen-Headers (the names it received, lower case)
//   /stream?n=N&ms=M  chunked, N pieces "token i\n" M ms apart
//   /echo           the request body back
//   /slow?ms=M      answers after M ms
//   /big?mb=N       N MiB of 'x' with a Content-Length
//   a WebSocket upgrade: echoes each message, prefixed with NAME": "

#include <utility>

#include <atomic>
#include <chrono>
#include <iostream>
#include <string>
#include <thread>

#include <boost/asio/ip/tcp.hpp>
#include <boost/asio/write.hpp>
#include <boost/beast/core.hpp>
#include <boost/beast/http.hpp>
#include <boost/beast/websocket.hpp>

namespace asio = boost::asio;
namespace beast = boost::beast;
namespace http = beast::http;
using tcp = asio::ip::tcp;

namespace {

std::string name = "backend";
std::atomic<int> connections{0};

int query_int(std::string_view target, std::string_view key, int fallback) {
  const auto q = target.find('?');
  if (q == std::string_view::npos)
    return fallback;
  auto rest = target.substr(q + 1);
  while (!rest.empty()) {
    const auto amp = rest.find('&');
    const auto pair = rest.substr(0, amp);
    if (pair.size() > key.size() && pair.substr(0, key.size()) == key
        && pair[key.size()] == '=')
      return std::stoi(std::string{pair.substr(key.size() + 1)});
    if (amp == std::string_view::npos)
      break;
    rest.remove_prefix(amp + 1);
  }
  return fallback;
}

void serve(tcp::socket socket) {
  const int conn = ++connections;
  socket.set_option(tcp::no_delay(true));
  beast::flat_buffer buffer;
  beast::error_code ec;
  for (;;) {
    http::request<http::string_body> req;
    http::read(socket, buffer, req, ec);
    if (ec)
      return;
    if (beast::websocket::is_upgrade(req)) {
      beast::websocket::stream<tcp::socket> ws{std::move(socket)};
      ws.accept(req, ec);
      while (!ec) {
        beast::flat_buffer msg;
        ws.read(msg, ec);
        if (ec)
          break;
        ws.text(ws.got_text());
        ws.write(
          asio::buffer(name + ": " + beast::buffers_to_string(msg.data())), ec);
      }
      return;
    }
    const std::string target{req.target()};
    const std::string path = target.substr(0, target.find('?'));
    if (path == "/stream") {
      const int n = query_int(target, "n", 5);
      const int ms = query_int(target, "ms", 100);
      http::response<http::empty_body> res{http::status::ok, 11};
      res.set(http::field::content_type, "text/event-stream");
      res.set("X-Backend", name);
      res.chunked(true);
      http::response_serializer<http::empty_body> sr{res};
      http::write_header(socket, sr, ec);
      for (int i = 0; i < n && !ec; ++i) {
        if (i > 0)
          std::this_thread::sleep_for(std::chrono::milliseconds(ms));
        const std::string piece = "token " + std::to_string(i) + "\n";
        asio::write(socket, http::make_chunk(asio::buffer(piece)), ec);
      }
      if (!ec)
        asio::write(socket, http::make_chunk_last(), ec);
      if (ec || !req.keep_alive())
        return;
      continue;
    }
    if (path == "/big") {
      const uint64_t size = uint64_t(query_int(target, "mb", 1)) << 20;
      http::response<http::empty_body> res{http::status::ok, 11};
      res.content_length(size);
      http::response_serializer<http::empty_body> sr{res};
      http::write_header(socket, sr, ec);
      const std::string block(64 * 1024, 'x');
      for (uint64_t sent = 0; sent < size && !ec; sent += block.size())
        asio::write(socket, asio::buffer(block), ec);
      if (ec || !req.keep_alive())
        return;
      continue;
    }
    if (path == "/slow")
      std::this_thread::sleep_for(
        std::chrono::milliseconds(query_int(target, "ms", 1000)));
    http::response<http::string_body> res{http::status::ok, 11};
    res.set("X-Backend", name);
    res.set("X-Conn", std::to_string(conn));
    std::string seen;
    for (const auto& f : req) {
      std::string lower{f.name_string()};
      for (auto& c : lower)
        c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
      seen += (seen.empty() ? "" : ",") + lower;
    }
    res.set("X-Seen-Headers", seen);
    res.set("X-Seen-Forwarded-For", req["X-Forwarded-For"]);
    res.set("X-Seen-Forwarded-Proto", req["X-Forwarded-Proto"]);
    if (path == "/echo")
      res.body() = req.body();
    else
      res.body()
        = name + " " + std::string{req.method_string()} + " " + target + "\n";
    res.keep_alive(req.keep_alive());
    res.prepare_payload();
    http::write(socket, res, ec);
    if (ec || !req.keep_alive())
      return;
  }
}

} // namespace

int main(int argc, char** argv) {
  unsigned short port = 0;
  for (int i = 1; i + 1 < argc; i += 2) {
    const std::string flag = argv[i];
    if (flag == "--name")
      name = argv[i + 1];
    else if (flag == "--port")
      port = static_cast<unsigned short>(std::stoi(argv[i + 1]));
  }
  asio::io_context io;
  tcp::acceptor acceptor{io, {asio::ip::make_address("127.0.0.1"), port}};
  std::cout << "port " << acceptor.local_endpoint().port() << std::endl;
  for (;;) {
    tcp::socket socket{io};
    acceptor.accept(socket);
    std::thread{[s = std::move(socket)]() mutable {
      serve(std::move(s));
    }}.detach();
  }
}
