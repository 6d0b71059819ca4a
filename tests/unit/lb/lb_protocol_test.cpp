#include <catch2/catch.hpp>

#include <msgpack.hpp>

#include "messages/lb_protocol.hpp"

using namespace sky::lb;

namespace {

template <class... KV>
std::string map_of(KV&&... kv) {
  msgpack::sbuffer buf;
  msgpack::packer<msgpack::sbuffer> p{buf};
  p.pack_map(sizeof...(kv) / 2);
  (p.pack(kv), ...);
  return {buf.data(), buf.size()};
}

} // namespace

TEST_CASE("routes round-trip with every field") {
  routes_request r;
  r.service = "llm";
  r.bind_address = "0.0.0.0";
  r.port = 30001;
  r.balancing = policy::round_robin;
  r.endpoints = {"127.0.0.1:8080", "[::1]:8081"};
  r.queue_timeout_ms = 1500;
  r.generation = 7;
  auto d = decode_request(encode(request{r}));
  REQUIRE(d);
  const auto& got = std::get<routes_request>(*d.value);
  CHECK(got.service == "llm");
  CHECK(got.bind_address == "0.0.0.0");
  CHECK(got.port == 30001);
  CHECK(got.balancing == policy::round_robin);
  CHECK(got.endpoints == r.endpoints);
  CHECK(got.queue_timeout_ms == 1500);
  CHECK(got.generation == 7);
}

TEST_CASE("routes defaults, and unknown fields are ignored") {
  auto d = decode_request(
    map_of("v", 1, "verb", "routes", "service", "a", "future_field", 3));
  REQUIRE(d);
  const auto& got = std::get<routes_request>(*d.value);
  CHECK(got.bind_address == "127.0.0.1");
  CHECK(got.balancing == policy::least_load);
  CHECK(got.endpoints.empty());
  CHECK(got.queue_timeout_ms == 30'000);
}

TEST_CASE("decode errors name the field") {
  CHECK(decode_request(map_of("v", 1, "verb", "routes")).error
        == "service is missing");
  CHECK(decode_request(
          map_of("v", 1, "verb", "routes", "service", "a", "port", "80"))
          .error
        == "port must be a non-negative integer");
  CHECK(decode_request(
          map_of("v", 1, "verb", "routes", "service", "a", "port", 70000))
          .error
        == "port must be at most 65535");
  CHECK(
    decode_request(map_of("verb", "routes", "service", "a", "policy", "random"))
      .error.find("policy must be least_load or round_robin")
    != std::string::npos);
  CHECK(decode_request(map_of("verb", "routes", "service", "a", "endpoints",
                              std::vector<std::string>{"ok:1", "nocolon"}))
          .error.find("endpoints[1] must be host:port")
        != std::string::npos);
  for (const char* bad : {"h:0", "h:65536", "h:8o", "h:", ":80", "h:123456"})
    CHECK(decode_request(map_of("verb", "routes", "service", "a", "endpoints",
                                std::vector<std::string>{bad}))
            .error.find("endpoints[0] must be host:port")
          != std::string::npos);
  CHECK(decode_request(map_of("verb", "routes", "service", "a", "endpoints",
                              std::vector<std::string>{"[::1]:65535"})));
  CHECK(decode_request(map_of("v", 2, "verb", "hello")).error
        == "v is 2, this side speaks 1");
  CHECK(decode_request(map_of("v", 1)).error == "verb is missing");
  CHECK(decode_request(map_of("verb", "launch")).error.find("verb 'launch'")
        != std::string::npos);
  CHECK(decode_request("").error == "message is empty");
  CHECK(decode_request("\x92").error == "message is truncated");
  CHECK(decode_request(std::string{"\x01"}).error == "message is not a map");
  CHECK(decode_request(map_of("verb", "hello") + "x").error
        == "message has trailing bytes");
}

TEST_CASE("a tiny frame declaring a huge array is refused, not allocated") {
  // fixmap{verb: "report", x: array32 of 4e9}
  std::string bytes = map_of("verb", "report");
  bytes[0] = static_cast<char>(0x82);
  bytes += "\xa1x\xdd\xee\x6b\x28\x00";
  CHECK_FALSE(decode_request(bytes));
}

TEST_CASE("hello, remove and report requests round-trip") {
  CHECK(std::holds_alternative<hello_request>(
    *decode_request(encode(request{hello_request{}})).value));
  CHECK(std::holds_alternative<report_request>(
    *decode_request(encode(request{report_request{}})).value));
  auto rm = decode_request(encode(request{remove_request{"svc"}}));
  REQUIRE(rm);
  CHECK(std::get<remove_request>(*rm.value).service == "svc");
}

TEST_CASE("replies round-trip") {
  hello_reply h{1, 42, 1000, {{"a", 3, 30001, true}}};
  auto hd = decode_reply(encode(reply{h}));
  REQUIRE(hd);
  const auto& hg = std::get<hello_reply>(*hd.value);
  CHECK(hg.pid == 42);
  CHECK(hg.started_at_ms == 1000);
  REQUIRE(hg.services.size() == 1);
  CHECK(hg.services[0].port == 30001);
  CHECK(hg.services[0].listening);

  auto ad = decode_reply(encode(reply{routes_ack{"a", 4, false, 0, "in use"}}));
  REQUIRE(ad);
  CHECK(std::get<routes_ack>(*ad.value).error == "in use");
  CHECK(std::get<routes_ack>(*ad.value).generation == 4);

  service_report s;
  s.service = "a";
  s.generation = 2;
  s.requests = {{1700000000, 5}, {1700000001, 9}};
  s.in_flight = 3;
  s.queued = 1;
  s.endpoints = {{"h:1", 2}, {"h:2", 1}};
  s.ejected = {{"h:3", "connect: refused", 123}};
  s.responses = {{"2xx", 40}, {"5xx", 2}};
  auto rd = decode_reply(encode(reply{report_reply{{s}}}));
  REQUIRE(rd);
  const auto& rg = std::get<report_reply>(*rd.value).services.at(0);
  CHECK(rg.requests == s.requests);
  CHECK(rg.in_flight == 3);
  CHECK(rg.queued == 1);
  CHECK(rg.endpoints.at(1).endpoint == "h:2");
  CHECK(rg.ejected.at(0).reason == "connect: refused");
  CHECK(rg.ejected.at(0).at_ms == 123);
  CHECK(rg.responses == s.responses);

  auto ed = decode_reply(encode(reply{error_reply{"bad"}}));
  REQUIRE(ed);
  CHECK(std::get<error_reply>(*ed.value).message == "bad");
}

TEST_CASE("report decode errors carry the path") {
  auto bytes = map_of("verb", "report", "services",
                      std::vector<std::map<std::string, std::string>>{
                        {{"service", "a"}, {"in_flight", "x"}}});
  CHECK(decode_reply(bytes).error
        == "services[0].in_flight must be a "
           "non-negative integer");
}
