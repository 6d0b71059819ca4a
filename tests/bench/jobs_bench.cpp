// Jobs on a local cluster (issue 5):
//  - exec on an UP cluster -> job RUNNING: p50 < 50 ms, p99 < 200 ms
//  - 1,000 jobs submitted back to back: all accepted durably in < 2 s
//  - a line written by a job appears in `logs -f` within 100 ms (p99)
//
//   build/tests/bench/jobs_bench [EXECS] [BURST] [LINES]
//
// Figures are taken on the wire (one connection, as skyctl uses) so that
// they measure skyd, plus one set through the skyctl binary for the whole
// command.

#include <chrono>
#include <cstdio>
#include <ctime>
#include <thread>

#include "bench_daemon.hpp"
#include "bench_util.hpp"
#include "bench_wire.hpp"
#include "messages/cluster_snapshot.hpp"
#include "messages/protocol.hpp"

using namespace sky;
using namespace std::chrono;

namespace {

using ms_double = duration<double, std::milli>;

int64_t unix_ns() {
  timespec ts{};
  clock_gettime(CLOCK_REALTIME, &ts);
  return int64_t{ts.tv_sec} * 1'000'000'000 + ts.tv_nsec;
}

} // namespace

int main(int argc, char** argv) {
  int execs = argc > 1 ? std::atoi(argv[1]) : 200;
  int burst = argc > 2 ? std::atoi(argv[2]) : 1000;
  int lines = argc > 3 ? std::atoi(argv[3]) : 200;
  bench::bench_daemon d;
  std::printf("jobs on a local cluster (skyd pid %d)\n", d.pid());
  auto up = d.skyctl({"launch", "-y", "-c", "b", "--", "true"});
  if (up.exit_code != 0) {
    std::fprintf(stderr, "launch failed: %s\n", up.err.c_str());
    return 1;
  }
  auto conn = d.connect();
  protocol::events_request follow;
  follow.since = 0;
  follow.topic = "job.b.";
  follow.follow = true;
  follow.window = 256;
  auto events = conn.open_stream("events", protocol::encode(follow), 256);
  if (!events)
    return 1;

  // exec -> RUNNING, one job at a time on an idle cluster.
  std::vector<double> to_running;
  for (int i = 0; i < execs; ++i) {
    auto start = steady_clock::now();
    auto id = bench::exec_detached(conn, "b", "true");
    if (id == 0
        || !bench::wait_event(conn, *events, job_entity("b", id),
                              "job.running"))
      return 1;
    to_running.push_back(ms_double(steady_clock::now() - start).count());
    if (!bench::wait_event(conn, *events, job_entity("b", id), "job.finished"))
      return 1;
  }
  double p50 = bench::percentile(to_running, 50);
  double p99 = bench::percentile(to_running, 99);
  bench::report("exec -> job RUNNING p50 (wire)", p50, "ms", "< 50 ms",
                p50 < 50);
  bench::report("exec -> job RUNNING p99 (wire)", p99, "ms", "< 200 ms",
                p99 < 200);

  // The same through the skyctl binary.
  if (!bench::note_cli_exec(d, "b", std::min(execs, 30), seconds(30)))
    return 1;

  // A burst of detached submissions pipelined on one connection: each reply
  // comes after the job's submission event is durable.
  auto t0 = steady_clock::now();
  std::vector<uint64_t> streams;
  for (int i = 0; i < burst; ++i) {
    protocol::exec_request req;
    req.cluster = "b";
    req.task = bench::task_of("run: 'true'\n");
    req.detach = true;
    auto s = conn.open_stream("exec", protocol::encode(req), 64);
    if (!s)
      return 1;
    streams.push_back(*s);
  }
  for (auto s : streams)
    while (true) {
      auto f = conn.next(s, minutes(5));
      if (!f) {
        std::fprintf(stderr, "exec failed: %s\n",
                     describe(f.error()).message.c_str());
        return 1;
      }
      if (f->final())
        break;
    }
  double burst_s = duration<double>(steady_clock::now() - t0).count();
  bench::report(std::to_string(burst) + " execs accepted durably", burst_s, "s",
                "< 2 s", burst_s < 2);
  conn.cancel(*events);
  d.skyctl({"cancel", "b", "-a"});

  // logs -f: the job stamps each line with the wall clock; the reader
  // compares on arrival.
  auto stamper = bench::exec_detached(conn, "b",
                                      "for i in $(seq " + std::to_string(lines)
                                        + "); do date +%s%N; sleep 0.02; done");
  if (stamper == 0)
    return 1;
  protocol::logs_request lr;
  lr.cluster = "b";
  lr.job_id = stamper;
  lr.follow = true;
  auto logs = conn.open_stream("logs", sky::encode(lr), 64);
  if (!logs)
    return 1;
  std::vector<double> line_latency;
  std::string partial;
  while (true) {
    auto f = conn.next(*logs, seconds(60));
    if (!f)
      return 1;
    if (f->final())
      break;
    auto item
      = protocol::decode_as<protocol::stream_item>(f->body, "stream frame");
    if (!item || item->type != "log")
      continue;
    auto now = unix_ns();
    partial += item->data;
    size_t nl;
    while ((nl = partial.find('\n')) != std::string::npos) {
      auto text = partial.substr(0, nl);
      partial.erase(0, nl + 1);
      if (!text.empty() && std::isdigit(static_cast<unsigned char>(text[0])))
        line_latency.push_back((now - std::stoll(text)) / 1e6);
    }
  }
  // Lines written before the follow began count too: a conservative figure.
  double lp99 = bench::percentile(line_latency, 99);
  bench::report("logs -f line latency p99 ("
                  + std::to_string(line_latency.size()) + " lines)",
                lp99, "ms", "< 100 ms", lp99 < 100);
  bench::note("logs -f line latency p50", bench::percentile(line_latency, 50),
              "ms");
  return 0;
}
