// The cluster snapshot stores its phase as a number; snapshots written
// before the phase was typed hold its text and must still load. Outcomes
// carry an error code that older peers do not send.

#include <catch2/catch.hpp>

#include "messages/cluster_protocol.hpp"
#include "messages/cluster_snapshot.hpp"
#include "messages/msgpack_util.hpp"

using namespace sky;

namespace {

// A cluster snapshot as skyd wrote it before the phase was typed: every
// field of today's map, with `phase` a string.
std::string old_snapshot(const std::string& phase) {
  cluster_snapshot today;
  today.name = "dev";
  today.status = "UP";
  today.placement.provider = "aws";
  today.nodes = {{0, "i-0", "10.0.0.1"}};
  today.attempts = 2;
  today.reason = "why";
  auto bytes = encode(today);
  auto handle = msgpack::unpack(bytes.data(), bytes.size());
  const auto& map = handle.get().via.map;
  msgpack::sbuffer buf;
  msgpack::packer<msgpack::sbuffer> pk(buf);
  pk.pack_map(map.size);
  bool found = false;
  for (uint32_t i = 0; i < map.size; ++i) {
    pk.pack(map.ptr[i].key);
    if (map.ptr[i].key.as<std::string>() == "phase") {
      pk.pack(phase);
      found = true;
    } else {
      pk.pack(map.ptr[i].val);
    }
  }
  REQUIRE(found);
  return std::string{buf.data(), buf.size()};
}

// A msgpack map of strings: what a peer of another version sends.
std::string
string_map(const std::vector<std::pair<std::string, std::string>>& fields) {
  msgpack::sbuffer buf;
  msgpack::packer<msgpack::sbuffer> pk(buf);
  pk.pack_map(static_cast<uint32_t>(fields.size()));
  for (const auto& [key, value] : fields) {
    pk.pack(key);
    pk.pack(value);
  }
  return std::string{buf.data(), buf.size()};
}

} // namespace

TEST_CASE("old cluster snapshots with a text phase still load") {
  struct row {
    std::string text;
    cluster_phase phase;
  };
  const row rows[] = {{"", cluster_phase::none},
                      {"provisioning", cluster_phase::provisioning},
                      {"starting", cluster_phase::starting},
                      {"stopping", cluster_phase::stopping},
                      {"terminating", cluster_phase::terminating}};
  for (const auto& r : rows) {
    CAPTURE(r.text);
    auto back
      = protocol::decode_as<cluster_snapshot>(old_snapshot(r.text), "old");
    REQUIRE(back);
    CHECK(back->phase == r.phase);
    CHECK(back->name == "dev");
    CHECK(back->status == "UP");
    CHECK(back->reason == "why");
    CHECK(back->attempts == 2);
    REQUIRE(back->nodes.size() == 1);
    CHECK(back->nodes[0].instance_id == "i-0");
    // The text is the phase's name, so events read as before.
    CHECK(to_string(back->phase) == r.text);
  }
}

TEST_CASE("a phase this build does not know fails the snapshot's decode") {
  CHECK_FALSE(
    protocol::decode_as<cluster_snapshot>(old_snapshot("resizing"), "old"));
}

TEST_CASE("new cluster snapshots store the phase as a number") {
  cluster_snapshot s;
  s.name = "dev";
  s.phase = cluster_phase::stopping;
  auto bytes = encode(s);
  auto handle = msgpack::unpack(bytes.data(), bytes.size());
  const auto& map = handle.get().via.map;
  bool found = false;
  for (uint32_t i = 0; i < map.size; ++i)
    if (map.ptr[i].key.as<std::string>() == "phase") {
      CHECK(map.ptr[i].val.type == msgpack::type::POSITIVE_INTEGER);
      found = true;
    }
  CHECK(found);
  auto back = protocol::decode_as<cluster_snapshot>(bytes, "new");
  REQUIRE(back);
  CHECK(back->phase == cluster_phase::stopping);
}

TEST_CASE("cluster outcomes carry an error code; older peers send none") {
  protocol::cluster_outcome o{"c", false, "", "cluster 'c' does not exist",
                              errc::not_found};
  auto back = protocol::decode_as<protocol::cluster_outcome>(encode(o), "o");
  REQUIRE(back);
  CHECK(back->code == errc::not_found);
  CHECK(back->message == "cluster 'c' does not exist");

  // An older skyd's outcome has no code.
  auto old = protocol::decode_as<protocol::cluster_outcome>(
    string_map({{"cluster", "c"}, {"status", ""}, {"message", "boom"}}),
    "old outcome");
  REQUIRE(old);
  CHECK(old->code == errc::none);
  CHECK(old->message == "boom");

  // A code a newer peer added reads as none.
  auto later = protocol::decode_as<protocol::cluster_outcome>(
    string_map({{"cluster", "c"}, {"code", "some_future_code"}}),
    "newer outcome");
  REQUIRE(later);
  CHECK(later->code == errc::none);
}
