#include <catch2/catch.hpp>

#include "actors/core/event_log_actor.hpp"
#include "deterministic.hpp"
#include "storage/memory_event_log.hpp"

using namespace sky;
using namespace sky::actors;

namespace {

// Counts how often the actor calls the storage: one call = one group commit
// (one WAL sync with RocksDB).
class counting_log : public storage::memory_event_log {
public:
  result<std::vector<event>> append(std::vector<event_draft> drafts) override {
    ++appends;
    return memory_event_log::append(std::move(drafts));
  }
  int appends = 0;
};

event_draft draft(std::string entity, std::string kind = "test") {
  event_draft d;
  d.entity = std::move(entity);
  d.kind = std::move(kind);
  return d;
}

} // namespace

TEST_CASE("concurrent appends are group-committed and answered in order") {
  testing::deterministic_system ds;
  auto storage = std::make_shared<counting_log>();
  auto log = ds.sys.spawn(event_log, storage);
  caf::scoped_actor client{ds.sys};
  // Five appenders queue up before the log actor runs: one group.
  for (int i = 0; i < 5; ++i)
    client->send(log, append_atom_v,
                 std::vector<event_draft>{draft("job.c." + std::to_string(i)),
                                          draft("job.c.x")});
  ds.run();
  std::vector<uint64_t> acks;
  for (int i = 0; i < 5; ++i)
    client->receive([&](uint64_t seq) { acks.push_back(seq); });
  CHECK(acks == std::vector<uint64_t>{2, 4, 6, 8, 10});
  CHECK(storage->appends == 1);
  CHECK(storage->last_seq() == 10);
  // A later append is its own group.
  client->send(log, append_atom_v, std::vector<event_draft>{draft("a")});
  ds.run();
  client->receive([&](uint64_t seq) { CHECK(seq == 11); });
  CHECK(storage->appends == 2);
}

TEST_CASE("a failed group commit fails every appender in it, and only them") {
  testing::deterministic_system ds;
  auto storage = std::make_shared<counting_log>();
  auto log = ds.sys.spawn(event_log, storage);
  caf::scoped_actor client{ds.sys};
  storage->fail_next_appends(1);
  for (int i = 0; i < 3; ++i)
    client->send(log, append_atom_v, std::vector<event_draft>{draft("x")});
  ds.run();
  int failures = 0;
  for (int i = 0; i < 3; ++i)
    client->receive([&](uint64_t) { FAIL("append should have failed"); },
                    [&](caf::error& err) {
                      CHECK(describe(err).code == errc::storage_error);
                      ++failures;
                    });
  CHECK(failures == 3);
  CHECK(storage->last_seq() == 0);
  client->send(log, append_atom_v, std::vector<event_draft>{draft("x")});
  ds.run();
  client->receive([&](uint64_t seq) { CHECK(seq == 1); });
}

TEST_CASE("an invalid entity fails its own append, not the group") {
  testing::deterministic_system ds;
  auto storage = std::make_shared<counting_log>();
  auto log = ds.sys.spawn(event_log, storage);
  caf::scoped_actor client{ds.sys};
  client->send(log, append_atom_v, std::vector<event_draft>{draft("ok.1")});
  client->send(log, append_atom_v,
               std::vector<event_draft>{draft("bad entity")});
  client->send(log, append_atom_v, std::vector<event_draft>{draft("ok.2")});
  ds.run();
  std::vector<std::string> outcomes;
  for (int i = 0; i < 3; ++i)
    client->receive(
      [&](uint64_t seq) { outcomes.push_back(std::to_string(seq)); },
      [&](caf::error& err) {
        outcomes.push_back(std::string{to_string(describe(err).code)});
      });
  CHECK(outcomes == std::vector<std::string>{"invalid_argument", "1", "2"});
}

TEST_CASE("subscribers receive every commit once, in order") {
  testing::deterministic_system ds;
  auto storage = std::make_shared<counting_log>();
  auto log = ds.sys.spawn(event_log, storage);
  caf::scoped_actor sub{ds.sys};
  caf::scoped_actor client{ds.sys};
  client->send(log, append_atom_v, std::vector<event_draft>{draft("early")});
  ds.run();
  client->receive([](uint64_t) {});
  // Subscribing from seq 1 returns the history and registers for the rest.
  sub->send(log, subscribe_atom_v, caf::actor{sub}, uint64_t{1}, uint32_t{100});
  ds.run();
  sub->receive([](const event_page& page) {
    REQUIRE(page.events.size() == 1);
    CHECK(page.live);
  });
  for (int i = 0; i < 3; ++i)
    client->send(log, append_atom_v, std::vector<event_draft>{draft("late")});
  ds.run();
  std::vector<uint64_t> seen;
  sub->receive([&](committed_atom, const event_batch& batch) {
    for (const auto& ev : *batch)
      seen.push_back(ev.seq);
  });
  CHECK(seen == std::vector<uint64_t>{2, 3, 4});
}

TEST_CASE("drain commits everything queued before answering") {
  testing::deterministic_system ds;
  auto storage = std::make_shared<counting_log>();
  auto log = ds.sys.spawn(event_log, storage);
  caf::scoped_actor client{ds.sys};
  client->send(log, append_atom_v, std::vector<event_draft>{draft("a")});
  client->send(log, drain_atom_v);
  ds.run();
  uint64_t drained = 0;
  // The drain may be answered before or after the append's ack.
  for (int i = 0; i < 2; ++i)
    client->receive([&](uint64_t v) { drained = std::max(drained, v); });
  CHECK(drained == 1);
  CHECK(storage->last_seq() == 1);
}

TEST_CASE("retention trims old events at start and on each tick; snapshots "
          "stay") {
  testing::deterministic_system ds;
  auto storage = std::make_shared<storage::memory_event_log>();
  std::vector<event_draft> drafts;
  for (int i = 0; i < 10; ++i) {
    auto d = draft("cluster.c");
    d.snapshot = snapshot_op::put;
    d.snapshot_value = "state " + std::to_string(i);
    drafts.push_back(std::move(d));
  }
  REQUIRE(storage->append(std::move(drafts)));
  event_log_settings settings;
  settings.retention.max_events = 4;
  settings.now_ms = [] { return int64_t{0}; };
  auto log = ds.sys.spawn(retaining_event_log, storage, settings);
  ds.run();
  CHECK(storage->first_seq() == 7); // at start: the newest 4 stay
  caf::scoped_actor client{ds.sys};
  for (int i = 0; i < 3; ++i)
    client->send(log, append_atom_v, std::vector<event_draft>{draft("a")});
  ds.run();
  for (int i = 0; i < 3; ++i)
    client->receive([](uint64_t) {});
  CHECK(storage->first_seq() == 7); // appends alone do not trim
  client->send(log, tick_atom_v);
  ds.run();
  CHECK(storage->first_seq() == 10);
  CHECK(storage->last_seq() == 13);
  auto snap = storage->load_snapshot("cluster.c");
  REQUIRE(snap);
  REQUIRE(*snap);
  CHECK(**snap == "state 9");
  caf::anon_send_exit(log, caf::exit_reason::user_shutdown);
  ds.run();
}
