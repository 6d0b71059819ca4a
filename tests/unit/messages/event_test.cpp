#include <catch2/catch.hpp>

#include "messages/event.hpp"
#include "messages/msgpack_util.hpp"

using namespace sky;

TEST_CASE("events round-trip through msgpack") {
  event ev;
  ev.seq = 123456789;
  ev.time_ms = 1'790'000'000'000;
  ev.entity = "cluster.train-1";
  ev.kind = "cluster.state_changed";
  ev.fields = map_writer{2}.add("state", "UP").add("nodes", 2).bytes();
  auto back = decode_event(encode_event(ev));
  REQUIRE(back);
  CHECK(*back == ev);
}

TEST_CASE("events without fields encode fields as an empty map") {
  event ev{1, 2, "daemon", "daemon.started", ""};
  auto bytes = encode_event(ev);
  auto doc = decode_document(bytes, "event");
  REQUIRE(doc);
  auto* fields = find_key(doc->get(), "fields");
  REQUIRE(fields != nullptr);
  CHECK(fields->type == msgpack::type::MAP);
  auto back = decode_event(bytes);
  REQUIRE(back);
  CHECK(*back == ev);
}

TEST_CASE("malformed events are rejected with the field named") {
  auto no_seq = map_writer{1}.add("time", 1).bytes();
  auto ev = decode_event(no_seq);
  REQUIRE_FALSE(ev);
  CHECK(describe(ev.error()).message.find("'seq'") != std::string::npos);
}

TEST_CASE("topic prefixes and entity validation") {
  CHECK(topic_matches("cluster.a", ""));
  CHECK(topic_matches("cluster.a", "cluster."));
  CHECK_FALSE(topic_matches("job.a.1", "cluster"));
  CHECK(validate_entity("job.a.1"));
  CHECK_FALSE(validate_entity(""));
  CHECK_FALSE(validate_entity("has space"));
  CHECK_FALSE(validate_entity(std::string(300, 'a')));
}
