#include <catch2/catch.hpp>

#include <filesystem>
#include <memory>

#include "messages/msgpack_util.hpp"
#include "storage/memory_event_log.hpp"
#include "storage/rocksdb_event_log.hpp"

using namespace sky;
using namespace sky::storage;

namespace {

struct temp_dir {
  std::filesystem::path path;
  temp_dir() {
    char tmpl[] = "/tmp/sky-storage-XXXXXX";
    path = mkdtemp(tmpl);
  }
  ~temp_dir() { std::filesystem::remove_all(path); }
};

event_draft draft(std::string entity, std::string kind, int n = 0) {
  event_draft d;
  d.entity = std::move(entity);
  d.kind = std::move(kind);
  d.fields = map_writer{1}.add("n", n).bytes();
  return d;
}

event_draft with_snapshot(event_draft d, std::string value) {
  d.snapshot = snapshot_op::put;
  d.snapshot_value = std::move(value);
  return d;
}

// The same contract holds for every implementation.
void check_contract(event_log& log) {
  REQUIRE(log.last_seq() == 0);
  REQUIRE(log.first_seq() == 1);

  auto first = log.append({draft("cluster.a", "cluster.created", 1),
                           draft("cluster.b", "cluster.created", 2)});
  REQUIRE(first);
  REQUIRE(first->size() == 2);
  CHECK((*first)[0].seq == 1);
  CHECK((*first)[1].seq == 2);
  CHECK((*first)[0].time_ms > 0);
  CHECK(log.last_seq() == 2);

  auto pinned = draft("job.a.1", "job.submitted", 3);
  pinned.time_ms = 42;
  auto second = log.append({pinned});
  REQUIRE(second);
  CHECK((*second)[0].seq == 3);
  CHECK((*second)[0].time_ms == 42);

  auto all = log.read(1, 100);
  REQUIRE(all);
  REQUIRE(all->size() == 3);
  for (size_t i = 0; i < all->size(); ++i)
    CHECK((*all)[i].seq == i + 1);
  CHECK((*all)[2].entity == "job.a.1");
  CHECK((*all)[2].fields == map_writer{1}.add("n", 3).bytes());

  auto page = log.read(2, 1);
  REQUIRE(page);
  REQUIRE(page->size() == 1);
  CHECK(page->front().seq == 2);
  auto beyond = log.read(10, 5);
  REQUIRE(beyond);
  CHECK(beyond->empty());

  SECTION("snapshots change atomically with their events") {
    REQUIRE(log.append({with_snapshot(draft("cluster.a", "up"), "A1"),
                        with_snapshot(draft("cluster.b", "up"), "B1"),
                        with_snapshot(draft("job.a.1", "run"), "J1")}));
    REQUIRE(log.append({with_snapshot(draft("cluster.a", "stop"), "A2")}));
    auto a = log.load_snapshot("cluster.a");
    REQUIRE(a);
    CHECK(*a == std::optional<std::string>{"A2"});
    auto clusters = log.load_snapshots("cluster.");
    REQUIRE(clusters);
    REQUIRE(clusters->size() == 2);
    CHECK((*clusters)[0]
          == std::pair<std::string, std::string>{"cluster.a", "A2"});
    CHECK((*clusters)[1].first == "cluster.b");
    CHECK(log.count_snapshots("cluster.") == uint64_t{2});
    CHECK(log.count_snapshots("job.") == uint64_t{1});
    CHECK(log.count_snapshots("managed_job.") == uint64_t{0});
    auto gone = draft("cluster.b", "down");
    gone.snapshot = snapshot_op::erase;
    REQUIRE(log.append({gone}));
    auto b = log.load_snapshot("cluster.b");
    REQUIRE(b);
    CHECK_FALSE(b->has_value());
    auto everything = log.load_snapshots("");
    REQUIRE(everything);
    CHECK(everything->size() == 2);
    CHECK(log.count_snapshots("cluster.") == uint64_t{1});
    CHECK(log.count_snapshots("") == uint64_t{2});
  }

  SECTION("a batch with an invalid entity appends nothing") {
    auto bad = log.append({draft("cluster.c", "ok"), draft("", "bad")});
    REQUIRE_FALSE(bad);
    CHECK(log.last_seq() == 3);
  }

  SECTION("trimming keeps the numbering and the snapshots") {
    REQUIRE(log.append({with_snapshot(draft("cluster.z", "up"), "Z")}));
    auto removed = log.trim_before(3);
    REQUIRE(removed);
    CHECK(*removed == 2);
    CHECK(log.first_seq() == 3);
    auto rest = log.read(0, 10);
    REQUIRE(rest);
    REQUIRE(rest->size() == 2);
    CHECK(rest->front().seq == 3);
    auto next = log.append({draft("cluster.z", "down")});
    REQUIRE(next);
    CHECK(next->front().seq == 5);
    CHECK(log.load_snapshot("cluster.z")->value() == "Z");
  }
}

} // namespace

TEST_CASE("memory event log honours the contract") {
  memory_event_log log;
  check_contract(log);
}

TEST_CASE("rocksdb event log honours the contract") {
  temp_dir dir;
  auto log = open_rocksdb_event_log(dir.path / "db");
  REQUIRE(log);
  check_contract(**log);
}

TEST_CASE("memory event log injects append failures") {
  memory_event_log log;
  log.fail_next_appends(1);
  auto failed = log.append({draft("cluster.a", "x")});
  REQUIRE_FALSE(failed);
  CHECK(describe(failed.error()).code == errc::storage_error);
  CHECK(log.last_seq() == 0);
  REQUIRE(log.append({draft("cluster.a", "x")}));
}

TEST_CASE("rocksdb event log keeps events and position across reopen") {
  temp_dir dir;
  {
    auto log = open_rocksdb_event_log(dir.path / "db");
    REQUIRE(log);
    for (int i = 0; i < 10; ++i)
      REQUIRE((*log)->append(
        {with_snapshot(draft("cluster.a", "tick", i), std::to_string(i))}));
  }
  {
    auto log = open_rocksdb_event_log(dir.path / "db");
    REQUIRE(log);
    CHECK((*log)->last_seq() == 10);
    auto events = (*log)->read(1, 100);
    REQUIRE(events);
    REQUIRE(events->size() == 10);
    CHECK(events->back().fields == map_writer{1}.add("n", 9).bytes());
    CHECK((*log)->load_snapshot("cluster.a")->value() == "9");
    // Trim everything: the numbering must survive another reopen.
    REQUIRE((*log)->trim_before(11));
  }
  {
    auto log = open_rocksdb_event_log(dir.path / "db");
    REQUIRE(log);
    CHECK((*log)->last_seq() == 10);
    CHECK((*log)->first_seq() == 11);
    auto next = (*log)->append({draft("cluster.a", "again")});
    REQUIRE(next);
    CHECK(next->front().seq == 11);
  }
}

TEST_CASE("a second open of the same rocksdb log is refused clearly") {
  temp_dir dir;
  auto first = open_rocksdb_event_log(dir.path / "db");
  REQUIRE(first);
  auto second = open_rocksdb_event_log(dir.path / "db");
  REQUIRE_FALSE(second);
  auto info = describe(second.error());
  CHECK(info.code == errc::storage_error);
  CHECK(info.message.find((dir.path / "db").string()) != std::string::npos);
}
