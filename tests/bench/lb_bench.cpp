// skyd-lb's added latency: the same keep-alive GETs straight to a replica
// (tests/support/lb_backend) and through skyd-lb, one client connection,
// sequential, then 8 connections in parallel for throughput. A small Asio
// client (wrk is not assumed). Usage: lb_bench [requests]

#include <utility>

#include <chrono>
#include <cstdio>
#include <thread>

#include <boost/asio/ip/tcp.hpp>
#include <boost/beast/core.hpp>
#include <boost/beast/http.hpp>
#include <zmq.h>

#include "messages/lb_protocol.hpp"
#include "tests/bench/bench_util.hpp"
#include "tests/support/process.hpp"
#include "tests/support/test_support.hpp"

namespace asio = boost::asio;
namespace beast = boost::beast;
namespace http = beast::http;
using tcp = asio::ip::tcp;
using namespace std::chrono_literals;
using sky::testing::child;

namespace {

/// `n` sequential keep-alive GETs; the latency of each in microseconds.
std::vector<double> run_client(uint16_t port, int n) {
  asio::io_context io;
  tcp::socket s{io};
  s.connect({asio::ip::make_address("127.0.0.1"), port});
  s.set_option(tcp::no_delay(true));
  beast::flat_buffer buf;
  http::request<http::empty_body> req{http::verb::get, "/bench", 11};
  req.set(http::field::host, "127.0.0.1");
  std::vector<double> out;
  out.reserve(n);
  for (int i = 0; i < n; ++i) {
    const auto t0 = std::chrono::steady_clock::now();
    http::write(s, req);
    http::response<http::string_body> res;
    http::read(s, buf, res);
    out.push_back(std::chrono::duration<double, std::micro>(
                    std::chrono::steady_clock::now() - t0)
                    .count());
  }
  return out;
}

double throughput(uint16_t port, int connections, int per_connection) {
  const auto t0 = std::chrono::steady_clock::now();
  std::vector<std::thread> threads;
  for (int i = 0; i < connections; ++i)
    threads.emplace_back([&] { run_client(port, per_connection); });
  for (auto& t : threads)
    t.join();
  const double s
    = std::chrono::duration<double>(std::chrono::steady_clock::now() - t0)
        .count();
  return connections * per_connection / s;
}

uint16_t push_routes(const std::string& control, const std::string& endpoint) {
  void* ctx = zmq_ctx_new();
  void* sock = zmq_socket(ctx, ZMQ_REQ);
  const int timeout = 5000;
  zmq_setsockopt(sock, ZMQ_RCVTIMEO, &timeout, sizeof timeout);
  zmq_connect(sock, control.c_str());
  sky::lb::routes_request r;
  r.service = "bench";
  r.endpoints = {endpoint};
  const auto bytes = sky::lb::encode(sky::lb::request{r});
  zmq_send(sock, bytes.data(), bytes.size(), 0);
  char buf[4096];
  const int n = zmq_recv(sock, buf, sizeof buf, 0);
  zmq_close(sock);
  zmq_ctx_term(ctx);
  if (n < 0)
    return 0;
  auto d = sky::lb::decode_reply({buf, static_cast<size_t>(n)});
  if (!d || !std::holds_alternative<sky::lb::routes_ack>(*d.value))
    return 0;
  return std::get<sky::lb::routes_ack>(*d.value).port;
}

struct figures {
  double mean, p50, p99;
};

size_t rss_of(pid_t pid) {
  std::FILE* f
    = std::fopen(("/proc/" + std::to_string(pid) + "/status").c_str(), "r");
  if (f == nullptr)
    return 0;
  char line[256];
  size_t kib = 0;
  while (std::fgets(line, sizeof line, f) != nullptr)
    if (std::sscanf(line, "VmRSS: %zu kB", &kib) == 1)
      break;
  std::fclose(f);
  return kib * 1024;
}

figures summarize(std::vector<double> v) {
  double sum = 0;
  for (double x : v)
    sum += x;
  return {sum / v.size(), sky::bench::percentile(v, 50),
          sky::bench::percentile(v, 99)};
}

} // namespace

int main(int argc, char** argv) {
  const int n = argc > 1 ? std::stoi(argv[1]) : 5000;
  sky::testing::temp_dir dir{"lbb"};
  child replica{
    {sky::testing::built_binary("tests/support/lb_backend"), "--name", "r"}};
  const auto line = replica.read_line(10s);
  if (!line) {
    std::fprintf(stderr, "lb_backend did not start\n");
    return 1;
  }
  const auto replica_port = static_cast<uint16_t>(std::stoi(line->substr(5)));
  const std::string control = "ipc://" + (dir.path() / "lb.sock").string();
  child lb{{sky::testing::built_binary("bin/skyd-lb"), "--control", control,
            "--log", (dir.path() / "lb.log").string()}};
  if (!lb.read_line(10s)) {
    std::fprintf(stderr, "skyd-lb did not start\n");
    return 1;
  }
  const uint16_t lb_port
    = push_routes(control, "127.0.0.1:" + std::to_string(replica_port));
  if (lb_port == 0) {
    std::fprintf(stderr, "routes were not accepted\n");
    return 1;
  }
  run_client(replica_port, 500); // warm-up
  run_client(lb_port, 500);
  const auto direct = summarize(run_client(replica_port, n));
  const auto via = summarize(run_client(lb_port, n));
  std::printf("lb_bench: %d sequential keep-alive GETs, one connection\n", n);
  sky::bench::note("direct to replica, mean", direct.mean, "us");
  sky::bench::note("direct to replica, p50", direct.p50, "us");
  sky::bench::note("direct to replica, p99", direct.p99, "us");
  sky::bench::note("through skyd-lb, mean", via.mean, "us");
  sky::bench::note("through skyd-lb, p50", via.p50, "us");
  sky::bench::note("through skyd-lb, p99", via.p99, "us");
  const double added = via.mean - direct.mean;
  sky::bench::report("added latency per request, mean", added, "us",
                     "HAProxy/Envoy add ~100-200 us", added <= 200);
  sky::bench::report("added latency per request, p50", via.p50 - direct.p50,
                     "us", "HAProxy/Envoy add ~100-200 us",
                     via.p50 - direct.p50 <= 200);
  const double t_direct = throughput(replica_port, 8, n / 8);
  const double t_via = throughput(lb_port, 8, n / 8);
  sky::bench::note("throughput direct, 8 connections", t_direct, "req/s");
  sky::bench::note("throughput through skyd-lb, 8 connections", t_via, "req/s");
  // 1,000 client connections, each having sent one request, held open.
  {
    asio::io_context io;
    std::vector<tcp::socket> held;
    http::request<http::empty_body> req{http::verb::get, "/", 11};
    req.set(http::field::host, "127.0.0.1");
    for (int i = 0; i < 1000; ++i) {
      held.emplace_back(io);
      held.back().connect({asio::ip::make_address("127.0.0.1"), lb_port});
      http::write(held.back(), req);
      beast::flat_buffer buf;
      http::response<http::string_body> res;
      http::read(held.back(), buf, res);
    }
    const double rss_mib = rss_of(lb.pid()) / 1048576.0;
    sky::bench::report("skyd-lb RSS with 1,000 open connections", rss_mib,
                       "MiB", "< 30 MiB", rss_mib < 30);
  }
  lb.signal(SIGTERM);
  lb.wait(5s);
  replica.signal(SIGKILL);
  replica.wait(5s);
  return 0;
}
