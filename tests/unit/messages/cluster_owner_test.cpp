// Cluster owners: the snapshot field (old snapshots decode as the user's),
// the status row's field, and the owner texts.

#include <catch2/catch.hpp>

#include "messages/cluster_protocol.hpp"
#include "messages/cluster_snapshot.hpp"
#include "messages/msgpack_util.hpp"

using namespace sky;

namespace {

// The msgpack map of `value` without its key `key`: what a skyd that did
// not know the field wrote.
template <class T>
std::string without(const T& value, const std::string& key) {
  std::string bytes = encode(value);
  auto handle = msgpack::unpack(bytes.data(), bytes.size());
  const auto& map = handle.get().via.map;
  std::vector<uint32_t> kept;
  for (uint32_t i = 0; i < map.size; ++i)
    if (map.ptr[i].key.as<std::string>() != key)
      kept.push_back(i);
  REQUIRE(kept.size() + 1 == map.size); // the field was there
  msgpack::sbuffer buf;
  msgpack::packer<msgpack::sbuffer> pk(buf);
  pk.pack_map(static_cast<uint32_t>(kept.size()));
  for (auto i : kept) {
    pk.pack(map.ptr[i].key);
    pk.pack(map.ptr[i].val);
  }
  return std::string{buf.data(), buf.size()};
}

} // namespace

TEST_CASE("cluster snapshots keep their owner") {
  cluster_snapshot s;
  s.name = "train-7";
  s.status = "UP";
  s.owner = managed_job_owner(7);
  auto back = protocol::decode_as<cluster_snapshot>(encode(s), "snapshot");
  REQUIRE(back);
  CHECK(back->owner == std::optional<std::string>{"managed_job.7"});

  s.owner = std::string{};
  back = protocol::decode_as<cluster_snapshot>(encode(s), "snapshot");
  REQUIRE(back);
  CHECK(back->owner == std::optional<std::string>{""});
}

TEST_CASE("snapshots written before owners existed decode as the user's") {
  cluster_snapshot old;
  old.name = "dev";
  old.status = "UP";
  old.placement.provider = "local";
  old.next_job_id = 4;
  old.reason = "why";
  old.owner = managed_job_owner(3); // dropped below
  auto back
    = protocol::decode_as<cluster_snapshot>(without(old, "owner"), "snapshot");
  REQUIRE(back);
  CHECK_FALSE(back->owner.has_value());
  CHECK(back->owner.value_or("").empty());
  CHECK(back->name == "dev");
  CHECK(back->status == "UP");
  CHECK(back->placement.provider == "local");
  CHECK(back->next_job_id == 4);
  CHECK(back->reason == "why");
}

TEST_CASE(
  "status rows carry the owner, and an older skyd's rows are the user's") {
  cluster_summary c;
  c.name = "train-7";
  c.owner = managed_job_owner(7);
  auto back = protocol::decode_as<protocol::status_reply>(
    encode(protocol::status_reply{{c}}), "status reply");
  REQUIRE(back);
  REQUIRE(back->clusters.size() == 1);
  CHECK(back->clusters[0].owner == "managed_job.7");

  c.jobs_total = 2;
  auto old
    = protocol::decode_as<cluster_summary>(without(c, "owner"), "summary");
  REQUIRE(old);
  CHECK(old->owner.empty());
  CHECK(old->jobs_total == 2);
}

TEST_CASE("owners name managed jobs") {
  CHECK(managed_job_owner(7) == "managed_job.7");
  CHECK(owner_job_id("managed_job.7") == std::optional<uint64_t>{7});
  CHECK(owner_job_id(managed_job_owner(18446744073709551615ULL))
        == std::optional<uint64_t>{18446744073709551615ULL});
  CHECK_FALSE(owner_job_id(""));
  CHECK_FALSE(owner_job_id("managed_job."));
  CHECK_FALSE(owner_job_id("managed_job.7x"));
  CHECK_FALSE(owner_job_id("service.7"));
  CHECK(owner_text("") == "the user");
  CHECK(owner_text("managed_job.7") == "managed job 7");
  CHECK(owner_text("service.web") == "service web");
  CHECK(owner_text("pool.3") == "pool.3"); // unknown owners read as written
}
