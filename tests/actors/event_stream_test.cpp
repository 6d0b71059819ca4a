#include <catch2/catch.hpp>

#include "actors/core/event_log_actor.hpp"
#include "actors/stream/event_stream.hpp"
#include "deterministic.hpp"
#include "messages/protocol.hpp"
#include "storage/memory_event_log.hpp"

using namespace sky;
using namespace sky::actors;
using namespace std::chrono_literals;

namespace {

// The test plays the gateway: it receives the stream's reply frames.
struct fixture {
  testing::deterministic_system ds;
  std::shared_ptr<storage::memory_event_log> storage
    = std::make_shared<storage::memory_event_log>();
  event_log_actor log = ds.sys.spawn(event_log, storage);
  caf::scoped_actor gateway{ds.sys};
  caf::scoped_actor writer{ds.sys};
  std::vector<caf::actor> streams;

  // Streams and the log hold each other's handles: end them explicitly.
  ~fixture() {
    for (auto& s : streams)
      caf::anon_send_exit(s, caf::exit_reason::user_shutdown);
    caf::anon_send_exit(log, caf::exit_reason::user_shutdown);
    ds.run();
  }

  void append(int n, const std::string& entity = "cluster.a") {
    std::vector<event_draft> drafts;
    for (int i = 0; i < n; ++i) {
      event_draft d;
      d.entity = entity;
      d.kind = "tick";
      drafts.push_back(std::move(d));
    }
    writer->send(log, append_atom_v, std::move(drafts));
    ds.run();
    writer->receive([](uint64_t) {});
  }

  caf::actor open(protocol::events_request req,
                  event_stream_limits limits = {}) {
    auto stream
      = ds.sys.spawn(event_stream, reply_target{caf::actor{gateway}, "peer", 7},
                     log, req, limits);
    streams.push_back(stream);
    ds.run();
    return stream;
  }

  // Collects the frames the "gateway" has received so far.
  std::vector<wire_reply> frames() {
    std::vector<wire_reply> out;
    bool more = true;
    while (more)
      gateway->receive([&](wire_reply& r) { out.push_back(std::move(r)); },
                       caf::after(0s) >> [&] { more = false; });
    return out;
  }

  // Seqs carried by data frames, checking there is no duplicate.
  static std::vector<uint64_t> seqs(const std::vector<wire_reply>& frames) {
    std::vector<uint64_t> out;
    for (const auto& f : frames) {
      if (f.status == wire::status::error || protocol::is_heartbeat(f.body))
        continue;
      auto frame = protocol::decode_events_frame(f.body);
      REQUIRE(frame);
      for (const auto& ev : frame->events)
        out.push_back(ev.seq);
    }
    return out;
  }
};

std::vector<uint64_t> range(uint64_t from, uint64_t to) {
  std::vector<uint64_t> out;
  for (auto i = from; i <= to; ++i)
    out.push_back(i);
  return out;
}

} // namespace

TEST_CASE("a listing sends the history in pages and ends at the head") {
  fixture f;
  f.append(600);
  f.open({0, "", false, 64});
  auto frames = f.frames();
  REQUIRE(frames.size() == 4); // 256 + 256 + 88, then the final frame
  CHECK(frames.back().status == wire::status::ok);
  CHECK(fixture::seqs(frames) == range(1, 600));
  for (const auto& fr : frames)
    CHECK(fr.id == 7);
}

TEST_CASE("the window bounds what is sent until credit arrives") {
  fixture f;
  f.append(600);
  auto stream = f.open({0, "", false, 1});
  auto first = f.frames();
  REQUIRE(first.size() == 1);
  CHECK(fixture::seqs(first) == range(1, 256));
  caf::anon_send(stream, credit_atom_v, uint32_t{1});
  f.ds.run();
  auto second = f.frames();
  CHECK(fixture::seqs(second) == range(257, 512));
  caf::anon_send(stream, credit_atom_v, uint32_t{5});
  f.ds.run();
  auto rest = f.frames();
  CHECK(fixture::seqs(rest) == range(513, 600));
  CHECK(rest.back().status == wire::status::ok);
}

TEST_CASE("since and topic select the events") {
  fixture f;
  f.append(3, "cluster.a");
  f.append(2, "job.a.1");
  f.append(2, "cluster.ab");
  f.open({2, "cluster.a", false, 64});
  CHECK(fixture::seqs(f.frames()) == std::vector<uint64_t>{3, 6, 7});
}

TEST_CASE("follow goes from history to live without gap or duplicate") {
  fixture f;
  f.append(300);
  auto stream = f.open({0, "", true, 64});
  f.append(5);
  f.append(1, "job.x.1");
  auto frames = f.frames();
  CHECK(fixture::seqs(frames) == range(1, 306));
  for (const auto& fr : frames)
    CHECK(fr.status == wire::status::more);
  caf::anon_send(stream, cancel_atom_v);
  f.ds.run();
  auto end = f.frames();
  REQUIRE(end.size() == 1);
  CHECK(end[0].status == wire::status::ok);
}

TEST_CASE("a slow follower falls back to the log and still misses nothing") {
  fixture f;
  event_stream_limits limits;
  limits.max_buffered = 10;
  auto stream = f.open({0, "", true, 1}, limits);
  CHECK(f.frames().empty()); // nothing yet, one credit left
  f.append(1);               // uses the credit
  for (int i = 0; i < 5; ++i)
    f.append(20); // 100 events with no credit: the buffer overflows
  auto before = f.frames();
  CHECK(fixture::seqs(before) == std::vector<uint64_t>{1});
  caf::anon_send(stream, credit_atom_v, uint32_t{100});
  f.ds.run();
  f.append(3);
  auto after = f.frames();
  CHECK(fixture::seqs(after) == range(2, 104));
}

TEST_CASE("quiet follows get heartbeats on the actor clock") {
  fixture f;
  f.open({0, "", true, 64});
  CHECK(f.frames().empty());
  f.ds.advance(5s);
  auto beat = f.frames();
  REQUIRE(beat.size() == 1);
  CHECK(protocol::is_heartbeat(beat[0].body));
  // A data frame in the period suppresses the next heartbeat.
  f.append(1);
  CHECK(fixture::seqs(f.frames()) == std::vector<uint64_t>{1});
  f.ds.advance(5s);
  CHECK(f.frames().empty());
  f.ds.advance(5s);
  CHECK(f.frames().size() == 1);
}

TEST_CASE(
  "shutdown flushes the buffer and ends the stream with a resume hint") {
  fixture f;
  auto stream = f.open({0, "", true, 1});
  f.append(1);
  f.append(2); // buffered: no credit
  CHECK(fixture::seqs(f.frames()) == std::vector<uint64_t>{1});
  caf::anon_send(stream, shutdown_atom_v);
  f.ds.run();
  auto frames = f.frames();
  CHECK(fixture::seqs(frames) == std::vector<uint64_t>{2, 3});
  REQUIRE(frames.back().status == wire::status::error);
  auto info = wire::decode_error_body(frames.back().body);
  REQUIRE(info);
  CHECK(info->code == errc::unavailable);
  CHECK(info->hint.find("--since 3") != std::string::npos);
}

TEST_CASE("a stream from before what retention kept fails and names the "
          "gap") {
  fixture f;
  f.append(10);
  REQUIRE(f.storage->trim_before(6));
  f.open({2, "", false, 64});
  auto frames = f.frames();
  REQUIRE(frames.size() == 1);
  CHECK(frames[0].status == wire::status::error);
  auto text = std::string{frames[0].body};
  CHECK(text.find("events 3..5 were removed by retention")
        != std::string::npos);
  CHECK(text.find("--since 5") != std::string::npos);
  // From the oldest kept on (or from the start: since 0) it streams.
  f.open({5, "", false, 64});
  CHECK(fixture::seqs(f.frames()) == range(6, 10));
  f.open({0, "", false, 64});
  CHECK(fixture::seqs(f.frames()) == range(6, 10));
}
