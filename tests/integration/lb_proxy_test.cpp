// skyd-lb's data path: real skyd-lb, real replicas, real HTTP on loopback.

#include <catch2/catch.hpp>

#include <map>
#include <set>
#include <thread>

#include <boost/asio/ip/tcp.hpp>
#include <boost/beast/core.hpp>
#include <boost/beast/websocket.hpp>

#include "tests/integration/lb_fixture.hpp"

using namespace sky;
using namespace sky::testing;

namespace {

std::string first_word(const std::string& s) {
  return s.substr(0, s.find(' '));
}

} // namespace

TEST_CASE("routes pushed: requests are answered, round_robin spreads them") {
  lb_process lb;
  backend a{"a"}, b{"b"}, c{"c"};
  auto ack = lb.routes("web", {a.endpoint(), b.endpoint(), c.endpoint()},
                       lb::policy::round_robin);
  REQUIRE(ack.listening);
  REQUIRE(ack.port != 0);
  CHECK(ack.error.empty());
  std::map<std::string, int> hits;
  http_connection conn{ack.port};
  for (int i = 0; i < 9; ++i) {
    auto r = conn.request("GET", "/hello?x=1");
    REQUIRE(r.status == 200);
    CHECK(r.body.find(" GET /hello?x=1") != std::string::npos);
    ++hits[first_word(r.body)];
  }
  CHECK(hits == std::map<std::string, int>{{"a", 3}, {"b", 3}, {"c", 3}});
}

TEST_CASE("least_load sends new requests away from a busy replica") {
  lb_process lb;
  backend a{"a"}, b{"b"};
  auto ack = lb.routes("web", {a.endpoint(), b.endpoint()});
  REQUIRE(ack.listening);
  // One slow request holds one replica; the next ones go to the other.
  std::string slow_backend;
  std::thread slow{[&] {
    auto r = http_request(ack.port, "GET", "/slow?ms=1500");
    slow_backend = first_word(r.body);
  }};
  std::this_thread::sleep_for(std::chrono::milliseconds(300));
  auto busy = lb.report("web");
  CHECK(busy.in_flight == 1);
  std::set<std::string> others;
  for (int i = 0; i < 4; ++i)
    others.insert(first_word(http_request(ack.port, "GET", "/").body));
  slow.join();
  REQUIRE(others.size() == 1);
  CHECK(*others.begin() != slow_backend);
  auto after = lb.settled_report("web");
  CHECK(after.in_flight == 0);
  for (const auto& e : after.endpoints)
    CHECK(e.in_flight == 0);
}

TEST_CASE("every method and POST bodies are forwarded") {
  lb_process lb;
  backend a{"a"};
  auto ack = lb.routes("web", {a.endpoint()});
  http_connection conn{ack.port};
  const std::string body(300'000, 'x');
  auto r = conn.request("POST", "/echo", body,
                        {{"Content-Type", "application/json"}});
  REQUIRE(r.status == 200);
  CHECK(r.body == body);
  for (const char* m : {"PUT", "PATCH", "DELETE", "OPTIONS", "PURGE"}) {
    auto x = conn.request(m, "/m");
    CHECK(x.status == 200);
    CHECK(x.body == std::string{"a "} + m + " /m\n");
  }
  auto head = conn.request("HEAD", "/h");
  CHECK(head.status == 200);
  CHECK(head.body.empty());
  // The connection still works after HEAD (no body was expected or sent).
  CHECK(conn.request("GET", "/after").body == "a GET /after\n");
}

TEST_CASE("Expect: 100-continue is answered and the body forwarded") {
  lb_process lb;
  backend a{"a"};
  auto ack = lb.routes("web", {a.endpoint()});
  http_connection conn{ack.port};
  auto out = conn.raw("POST /echo HTTP/1.1\r\nHost: x\r\nContent-Length: 5\r\n"
                      "Expect: 100-continue\r\nConnection: close\r\n\r\nhello");
  CHECK(out.rfind("HTTP/1.1 100 Continue\r\n\r\n", 0) == 0);
  CHECK(out.find("HTTP/1.1 200") != std::string::npos);
  CHECK(out.substr(out.size() - 5) == "hello");
}

TEST_CASE("keep-alive to the client and pooled connections to the replica") {
  lb_process lb;
  backend a{"a"};
  auto ack = lb.routes("web", {a.endpoint()});
  http_connection conn{ack.port};
  std::set<std::string> upstream_connections;
  for (int i = 0; i < 20; ++i) {
    auto r = conn.request("GET", "/k");
    REQUIRE(r.status == 200);
    CHECK(r.keep_alive);
    upstream_connections.insert(r.headers["x-conn"]);
  }
  CHECK(upstream_connections.size() == 1);
  // A second client reuses the same pooled upstream connection.
  auto other = http_request(ack.port, "GET", "/k");
  CHECK(upstream_connections.count(other.headers["x-conn"]) == 1);
}

TEST_CASE("X-Forwarded-* are added and hop-by-hop headers dropped") {
  lb_process lb;
  backend a{"a"};
  auto ack = lb.routes("web", {a.endpoint()});
  auto r = http_request(ack.port, "GET", "/h", "",
                        {{"X-Forwarded-For", "203.0.113.9"},
                         {"Connection", "keep-alive, X-Hop"},
                         {"X-Hop", "secret"},
                         {"Keep-Alive", "timeout=5"},
                         {"Proxy-Authorization", "Basic abc"},
                         {"TE", "trailers"},
                         {"Upgrade", "h2c"},
                         {"X-End-To-End", "kept"}});
  REQUIRE(r.status == 200);
  CHECK(r.headers["x-seen-forwarded-for"] == "203.0.113.9, 127.0.0.1");
  CHECK(r.headers["x-seen-forwarded-proto"] == "http");
  const auto seen = "," + r.headers["x-seen-headers"] + ",";
  INFO(seen);
  CHECK(seen.find("x-end-to-end") != std::string::npos);
  for (const char* gone :
       {"x-hop", "keep-alive", "proxy-authorization", "te", "upgrade"})
    CHECK(seen.find(std::string{","} + gone + ",") == std::string::npos);
  CHECK(seen.find(",connection,") == std::string::npos);
}

TEST_CASE("a chunked response streams through piece by piece") {
  lb_process lb;
  backend a{"a"};
  auto ack = lb.routes("web", {a.endpoint()});
  http_connection conn{ack.port};
  auto pieces = conn.stream("/stream?n=5&ms=200");
  REQUIRE(pieces.size() == 5);
  for (size_t i = 0; i < pieces.size(); ++i)
    CHECK(pieces[i].second == "token " + std::to_string(i) + "\n");
  // The first token arrives long before the backend finishes (~800 ms), and
  // each one about when it was sent.
  CHECK(pieces[0].first < 150);
  for (size_t i = 1; i < pieces.size(); ++i) {
    CHECK(pieces[i].first > 200.0 * i - 50);
    CHECK(pieces[i].first < 200.0 * i + 150);
  }
  // The connection carries another request after the stream.
  CHECK(conn.request("GET", "/x").status == 200);
}

TEST_CASE("limits answer with a clear status and the process stays up") {
  lb_process lb{{"--max-header-bytes", "2048", "--max-body-bytes", "1000"}};
  backend a{"a"};
  auto ack = lb.routes("web", {a.endpoint()});
  auto big_header = http_request(ack.port, "GET", "/", "",
                                 {{"X-Big", std::string(4096, 'h')}});
  CHECK(big_header.status == 431);
  auto big_body
    = http_request(ack.port, "POST", "/echo", std::string(2000, 'b'));
  CHECK(big_body.status == 413);
  {
    http_connection raw{ack.port};
    auto out = raw.raw("NOT HTTP AT ALL\r\n\r\n");
    CHECK(out.rfind("HTTP/1.1 400", 0) == 0);
  }
  {
    http_connection raw{ack.port};
    auto out
      = raw.raw("GET / HTTP/1.1\r\nHost: x\r\nContent-Length: zz\r\n\r\n");
    CHECK(out.rfind("HTTP/1.1 400", 0) == 0);
  }
  CHECK(http_request(ack.port, "GET", "/ok").status == 200);
  CHECK(process_alive(lb.proc().pid()));
}

TEST_CASE("an idle client connection is closed after the idle timeout") {
  lb_process lb{{"--idle-timeout-ms", "300"}};
  backend a{"a"};
  auto ack = lb.routes("web", {a.endpoint()});
  http_connection conn{ack.port};
  REQUIRE(conn.request("GET", "/").status == 200);
  std::this_thread::sleep_for(std::chrono::milliseconds(700));
  auto after = conn.request("GET", "/"); // closed by the load balancer
  CHECK(after.status == 0);
}

TEST_CASE("connections beyond the limit get 503") {
  lb_process lb{{"--max-connections", "2"}};
  backend a{"a"};
  auto ack = lb.routes("web", {a.endpoint()});
  http_connection c1{ack.port}, c2{ack.port};
  REQUIRE(c1.request("GET", "/").status == 200);
  REQUIRE(c2.request("GET", "/").status == 200);
  auto third = http_request(ack.port, "GET", "/");
  CHECK(third.status == 503);
  CHECK(third.body.find("too many connections") != std::string::npos);
}

TEST_CASE("a replica silent beyond the upstream timeout gives 504") {
  lb_process lb{{"--upstream-timeout-ms", "300"}};
  backend a{"a"};
  auto ack = lb.routes("web", {a.endpoint()});
  auto r = http_request(ack.port, "GET", "/slow?ms=2000");
  CHECK(r.status == 504);
  CHECK(lb.settled_report("web").in_flight == 0);
}

TEST_CASE("a WebSocket upgrade is passed through both ways") {
  namespace asio = boost::asio;
  namespace websocket = boost::beast::websocket;
  lb_process lb;
  backend a{"a"};
  auto ack = lb.routes("web", {a.endpoint()});
  asio::io_context io;
  websocket::stream<asio::ip::tcp::socket> ws{io};
  ws.next_layer().connect({asio::ip::make_address("127.0.0.1"), ack.port});
  ws.handshake("127.0.0.1", "/ws");
  for (const std::string& text : std::vector<std::string>{
         "hello", "second message", std::string(100000, 'w')}) {
    ws.write(asio::buffer(text));
    boost::beast::flat_buffer got;
    ws.read(got);
    CHECK(boost::beast::buffers_to_string(got.data()) == "a: " + text);
  }
  CHECK(lb.report("web").in_flight == 1); // a tunnel is load while it lasts
  ws.close(websocket::close_code::normal);
  const auto t0 = std::chrono::steady_clock::now();
  while (lb.report("web").in_flight != 0
         && std::chrono::steady_clock::now() - t0 < std::chrono::seconds(3))
    std::this_thread::sleep_for(std::chrono::milliseconds(20));
  CHECK(lb.report("web").in_flight == 0);
  CHECK(http_request(ack.port, "GET", "/").status == 200);
}

TEST_CASE("a large download streams through with bounded memory") {
  lb_process lb;
  backend a{"a"};
  auto ack = lb.routes("web", {a.endpoint()});
  http_connection conn{ack.port, std::chrono::seconds(60)};
  CHECK(conn.download("/big?mb=512") == (512ull << 20));
  const size_t rss = rss_of(lb.proc().pid());
  INFO("skyd-lb RSS " << rss / 1024 << " KiB");
  CHECK(rss > 0);
  CHECK(rss < 30u * 1024 * 1024);
  CHECK(conn.request("GET", "/after").status == 200);
}
