// Event fan-out (issue 8): 10 subscribers each receive >= 50,000 events/s.
//
//   build/tests/bench/event_fanout_bench [EVENTS=200000] [SUBSCRIBERS=10]
//
// A real skyd (events synced, as in production). Producers append
// annotation events over the control socket, pipelined; then SUBSCRIBERS
// clients, each on its own connection, stream the whole history at once
// (`events` verb, credit flow control: nothing dropped), and finally follow
// live while the producers append again. Each subscriber's rate is events
// received / time from its first to its last event; the slowest one is
// reported against the target. The live figure cannot exceed the rate the
// producers reach, printed beside it.

#include <algorithm>
#include <atomic>
#include <chrono>
#include <cstdio>
#include <thread>

#include "bench_daemon.hpp"
#include "bench_util.hpp"
#include "messages/msgpack_util.hpp"
#include "messages/protocol.hpp"

using namespace sky;
using namespace std::chrono;

namespace {

constexpr int producers = 4;
constexpr size_t in_flight = 512;

// Appends `count` annotation events on one connection, keeping up to
// in_flight requests outstanding. False on any error.
bool produce(const bench::bench_daemon& d, size_t count) {
  auto conn = d.connect();
  const std::string text(120, 'x');
  auto body = map_writer{2}
                .add("text", text)
                .add("entity", std::string{"annotation"})
                .bytes();
  std::deque<uint64_t> open;
  size_t sent = 0;
  while (sent < count || !open.empty()) {
    while (sent < count && open.size() < in_flight) {
      auto s = conn.open_stream("annotate", body, 1);
      if (!s)
        return false;
      open.push_back(*s);
      ++sent;
    }
    auto f = conn.next(open.front(), seconds(60));
    if (!f || f->status != wire::status::ok)
      return false;
    open.pop_front();
  }
  return true;
}

// Appends `total` events from `producers` threads; events per second.
double produce_all(const bench::bench_daemon& d, size_t total) {
  auto start = steady_clock::now();
  std::atomic<bool> ok{true};
  std::vector<std::thread> threads;
  for (int p = 0; p < producers; ++p)
    threads.emplace_back([&, p] {
      size_t share = total / producers + (p < int(total % producers) ? 1 : 0);
      if (!produce(d, share))
        ok = false;
    });
  for (auto& t : threads)
    t.join();
  if (!ok)
    throw std::runtime_error("appending events failed");
  return double(total) / duration<double>(steady_clock::now() - start).count();
}

struct received {
  size_t events = 0;
  double seconds = 0;
  bool ok = false;
};

// Streams events with seq > since until `expect` arrived (or the stream
// ends); rate over first-to-last event.
received subscribe(const bench::bench_daemon& d, uint64_t since, bool follow,
                   size_t expect, std::atomic<int>* ready) {
  received r;
  auto conn = d.connect();
  protocol::events_request req;
  req.since = since;
  req.follow = follow;
  req.window = 256;
  auto s = conn.open_stream("events", protocol::encode(req), req.window);
  if (!s)
    return r;
  if (ready)
    ++*ready;
  steady_clock::time_point first{}, last{};
  while (r.events < expect) {
    auto f = conn.next(*s, seconds(120));
    if (!f)
      return r;
    if (!protocol::is_heartbeat(f->body)) {
      auto frame = protocol::decode_events_frame(f->body);
      if (!frame)
        return r;
      if (!frame->events.empty()) {
        last = steady_clock::now();
        if (r.events == 0)
          first = last;
        r.events += frame->events.size();
      }
    }
    if (f->final())
      break;
  }
  if (follow)
    conn.cancel(*s);
  r.seconds = duration<double>(last - first).count();
  r.ok = r.events >= expect;
  return r;
}

// Runs `n` subscribers at once; the slowest rate (events/s).
double slowest(const std::vector<received>& all) {
  double worst = 1e18;
  for (const auto& r : all) {
    if (!r.ok)
      return 0;
    worst = std::min(worst, r.seconds > 0 ? r.events / r.seconds : 1e18);
  }
  return worst;
}

} // namespace

int main(int argc, char** argv) {
  size_t events = argc > 1 ? std::stoul(argv[1]) : 200'000;
  int subscribers = argc > 2 ? std::atoi(argv[2]) : 10;
  bench::bench_daemon d;
  std::printf("event fan-out: %zu events, %d subscribers\n", events,
              subscribers);

  double append_rate = produce_all(d, events);
  bench::note("appended durably (4 producers, pipelined)", append_rate,
              "events/s");

  // History: every subscriber reads the whole log at the same time.
  {
    std::vector<received> got(subscribers);
    std::vector<std::thread> threads;
    for (int i = 0; i < subscribers; ++i)
      threads.emplace_back(
        [&, i] { got[i] = subscribe(d, 0, false, events, nullptr); });
    for (auto& t : threads)
      t.join();
    double rate = slowest(got);
    bench::report("history to each of " + std::to_string(subscribers)
                    + " subscribers, slowest",
                  rate, "events/s", ">= 50,000/s", rate >= 50'000);
  }

  // Live: followers at the head while the producers append again.
  {
    auto head = d.connect().call("daemon.status", {}, seconds(10));
    auto st = head ? protocol::decode_daemon_status(head->body)
                   : result<protocol::daemon_status>{head.error()};
    if (!st)
      return 1;
    std::atomic<int> ready{0};
    std::vector<received> got(subscribers);
    std::vector<std::thread> threads;
    for (int i = 0; i < subscribers; ++i)
      threads.emplace_back(
        [&, i] { got[i] = subscribe(d, st->last_seq, true, events, &ready); });
    while (ready < subscribers)
      std::this_thread::sleep_for(milliseconds(5));
    std::this_thread::sleep_for(milliseconds(200)); // all live
    double live_append = produce_all(d, events);
    for (auto& t : threads)
      t.join();
    double rate = slowest(got);
    bench::report("live to each of " + std::to_string(subscribers)
                    + " subscribers, slowest",
                  rate, "events/s", ">= 50,000/s", rate >= 50'000);
    bench::note("  appended meanwhile (the live bound)", live_append,
                "events/s");
  }
  bench::note("skyd RSS", bench::rss_mib_of(d.pid()), "MiB");
  return 0;
}
