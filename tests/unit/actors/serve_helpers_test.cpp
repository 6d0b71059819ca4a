// The service actors' pure helpers: port pools, replica tasks, the owner of
// a replica cluster.

#include <catch2/catch.hpp>

#include <arpa/inet.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include <unistd.h>

#include "actors/service/port_pool.hpp"
#include "actors/service/replica_actor.hpp"
#include "actors/service/services.hpp"

using namespace sky;
using namespace sky::actors;

namespace {

// A listener on 127.0.0.1:port (another program holding the port).
int listen_on(uint16_t port) {
  int fd = ::socket(AF_INET, SOCK_STREAM, 0);
  sockaddr_in a{};
  a.sin_family = AF_INET;
  a.sin_port = htons(port);
  a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  if (::bind(fd, reinterpret_cast<sockaddr*>(&a), sizeof a) != 0
      || ::listen(fd, 1) != 0) {
    ::close(fd);
    return -1;
  }
  return fd;
}

} // namespace

TEST_CASE("port ranges parse as first-last or one port") {
  auto r = parse_port_range("30001-30999");
  REQUIRE(r);
  CHECK(r->first == 30001);
  CHECK(r->last == 30999);
  auto one = parse_port_range("8080");
  REQUIRE(one);
  CHECK(one->first == 8080);
  CHECK(one->last == 8080);
  CHECK_FALSE(parse_port_range(""));
  CHECK_FALSE(parse_port_range("0-10"));
  CHECK_FALSE(parse_port_range("200-100"));
  CHECK_FALSE(parse_port_range("1-70000"));
  CHECK_FALSE(parse_port_range("12a"));
}

TEST_CASE("a port pool hands out each port once, skips ports in use, and "
          "moves on past a released one") {
  // Find four consecutive free ports to work in.
  uint16_t base = 0;
  for (uint16_t b = 47000; b < 48000 && base == 0; b += 10) {
    bool all = true;
    for (uint16_t p = b; p < b + 4; ++p)
      all = all && port_free_here(p);
    if (all)
      base = b;
  }
  REQUIRE(base != 0);
  port_pool pool{{base, static_cast<uint16_t>(base + 3)}};
  int holder = listen_on(static_cast<uint16_t>(base + 1));
  REQUIRE(holder >= 0);
  CHECK(pool.take() == base);
  CHECK(pool.take() == base + 2); // base + 1 is some other program's
  pool.hold(static_cast<uint16_t>(base + 3)); // a restored replica's
  CHECK_FALSE(pool.take());
  pool.release(base);
  CHECK(pool.take() == base);
  ::close(holder);
  CHECK(pool.take() == base + 1);
}

TEST_CASE("a replica's task carries its id and port, its spot choice, and "
          "no service section") {
  task::task_spec t;
  t.run = "serve --port $SKYD_REPLICA_PORT";
  t.service = task::service_spec{};
  t.envs.push_back({"SKYD_REPLICA_PORT", "1"});
  t.envs.push_back({"MODEL", "llama"});
  t.resources.use_spot = true;
  optimizer::replica_snapshot r;
  r.service = "svc";
  r.r.id = 7;
  r.r.spot = false; // an on-demand fallback replica of a spot service
  r.port = 20005;
  auto out = replica_task(t, r);
  CHECK_FALSE(out.service);
  CHECK(out.resources.use_spot == false);
  std::map<std::string, std::string> env;
  for (const auto& v : out.envs)
    env[v.name] = v.value.value_or("");
  CHECK(env["SKYPILOT_SERVE_REPLICA_ID"] == "7");
  CHECK(env["SKYD_REPLICA_PORT"] == "20005");
  CHECK(env["MODEL"] == "llama");
  CHECK(out.envs.size() == 3);
  CHECK(replica_task_id("svc", 7) == "sky-serve-svc-7");
}

TEST_CASE("a replica cluster's name leads to its service") {
  std::map<std::string, caf::actor> names{{"web", {}}, {"web-api", {}}};
  CHECK(service_of_cluster(names, "web-1") == "web");
  CHECK(service_of_cluster(names, "web-api-12") == "web-api");
  CHECK_FALSE(service_of_cluster(names, "web-x"));
  CHECK_FALSE(service_of_cluster(names, "other-1"));
  CHECK_FALSE(service_of_cluster(names, "web-"));
}
