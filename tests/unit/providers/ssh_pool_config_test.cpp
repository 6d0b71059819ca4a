// The SSH pool file parser: SkyPilot's shape, defaults, and errors that
// name file:line, the field and the fix.

#include <catch2/catch.hpp>

#include "providers/ssh/pool_config.hpp"

using namespace sky;
using namespace sky::providers::ssh;

namespace {

std::string error_of(const std::string& text) {
  auto r = parse_pool_file(text, "pools.yaml", "/home/me");
  REQUIRE_FALSE(r);
  return describe(r.error()).message + " | " + describe(r.error()).hint;
}

} // namespace

TEST_CASE("ssh pool file: hosts as strings and maps, pool defaults apply",
          "[ssh][pool]") {
  auto r = parse_pool_file(R"(
gpus:
  user: ubuntu
  identity_file: ~/.ssh/id_ed25519
  hosts:
    - 10.0.0.1
    - ip: 10.0.0.2
      user: admin
      port: 2222
    - ip: box.example.com
      identity_file: /keys/other
cpu-only:
  hosts: [192.168.1.5]
)",
                           "pools.yaml", "/home/me");
  REQUIRE(r);
  REQUIRE(r->pools.size() == 2);
  const auto* gpus = r->find("gpus");
  REQUIRE(gpus != nullptr);
  REQUIRE(gpus->hosts.size() == 3);
  CHECK(gpus->hosts[0]
        == pool_host{"10.0.0.1", 22, "ubuntu", "/home/me/.ssh/id_ed25519"});
  CHECK(gpus->hosts[1]
        == pool_host{"10.0.0.2", 2222, "admin", "/home/me/.ssh/id_ed25519"});
  CHECK(gpus->hosts[2]
        == pool_host{"box.example.com", 22, "ubuntu", "/keys/other"});
  CHECK(gpus->hosts[1].key() == "10.0.0.2:2222");
  const auto* cpu = r->find("cpu-only");
  REQUIRE(cpu != nullptr);
  CHECK(cpu->hosts == std::vector<pool_host>{{"192.168.1.5", 22, "", ""}});
  CHECK(r->find("nope") == nullptr);
}

TEST_CASE("ssh pool file: empty or missing means no pools", "[ssh][pool]") {
  auto r = parse_pool_file("", "pools.yaml");
  REQUIRE(r);
  CHECK(r->pools.empty());
  auto missing = load_pool_file("/nonexistent/dir/ssh_node_pools.yaml");
  REQUIRE(missing);
  CHECK(missing->pools.empty());
}

TEST_CASE("ssh pool file: password is refused with the key-based fix",
          "[ssh][pool]") {
  auto msg = error_of("p:\n  hosts:\n    - ip: 1.2.3.4\n      password: x\n");
  CHECK_THAT(msg, Catch::Contains("pools.yaml:4:7"));
  CHECK_THAT(msg, Catch::Contains("p.hosts[0].password"));
  CHECK_THAT(msg, Catch::Contains("not supported"));
  CHECK_THAT(msg, Catch::Contains("identity_file"));
  auto pool_level = error_of("p:\n  password: x\n  hosts: [1.2.3.4]\n");
  CHECK_THAT(pool_level, Catch::Contains("pools.yaml:2:3: p.password"));
}

TEST_CASE("ssh pool file: a typo gets file:line, the field and did-you-mean",
          "[ssh][pool]") {
  auto msg = error_of("p:\n  hosts: [1.2.3.4]\n  usr: ubuntu\n");
  CHECK_THAT(msg, Catch::Contains("pools.yaml:3:3: p.usr: unknown field"));
  CHECK_THAT(msg, Catch::Contains("did you mean 'user'"));
  auto host_typo
    = error_of("p:\n  hosts:\n    - ip: 1.2.3.4\n      prot: 22\n");
  CHECK_THAT(host_typo, Catch::Contains("p.hosts[0].prot"));
  CHECK_THAT(host_typo, Catch::Contains("did you mean 'port'"));
}

TEST_CASE("ssh pool file: bad values name the field and the fix",
          "[ssh][pool]") {
  CHECK_THAT(error_of("p:\n  port: 70000\n  hosts: [1.2.3.4]\n"),
             Catch::Contains("pools.yaml:2:9: p.port"));
  CHECK_THAT(error_of("p:\n  hosts: []\n"),
             Catch::Contains("p.hosts: is an empty list"));
  CHECK_THAT(error_of("p:\n  user: ubuntu\n"), Catch::Contains("has no hosts"));
  CHECK_THAT(error_of("p:\n"), Catch::Contains("p: has no hosts"));
  CHECK_THAT(error_of("p:\n  hosts:\n    - user: x\n"),
             Catch::Contains("p.hosts[0]: has no ip"));
  CHECK_THAT(error_of("p:\n  hosts: [ubuntu@1.2.3.4]\n"),
             Catch::Contains("put the user under 'user:'"));
  CHECK_THAT(error_of("p:\n  hosts: ['1.2.3.4:2222']\n"),
             Catch::Contains("the port under 'port:'"));
  CHECK_THAT(error_of("p:\n  hosts: [1.2.3.4, 1.2.3.4]\n"),
             Catch::Contains("lists 1.2.3.4:22 a second time"));
  CHECK_THAT(error_of("'a/b':\n  hosts: [1.2.3.4]\n"),
             Catch::Contains("not a valid pool name"));
  CHECK_THAT(error_of("p: [1, 2]\n"), Catch::Contains("expected a map"));
  CHECK_THAT(error_of("p:\n  hosts: [1.2.3.4\n"),
             Catch::Contains("invalid YAML"));
  // IPv6 addresses have several colons and are fine.
  auto v6 = parse_pool_file("p:\n  hosts: ['::1']\n", "f");
  REQUIRE(v6);
  CHECK(v6->pools[0].hosts[0].ip == "::1");
}
