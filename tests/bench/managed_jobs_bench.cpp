// Managed jobs at scale (issue 7), on a simulated cloud in virtual mode (no
// processes: the task's `# sim: duration=forever` keeps it running):
//  - 10,000 managed jobs RUNNING at once in one skyd: RSS < 1 GiB
//    (< 100 KiB per job)
//  - submission of all 10,000 accepted durably in < 10 s
//  - >= 500 jobs in the launching phase at once
//  - preemption event -> job in RECOVERING: < 100 ms
//  - skyd idle with all 10,000 RUNNING (nothing happening): < 10 % of a
//    core (utime + stime from /proc/<pid>/stat over 10 s)
//  - (issue 8) restart with them in the state, after kill -9: `status`
//    served within 1 s of start, fully reconciled within 3 s
//
//   build/tests/bench/managed_jobs_bench [JOBS] [LAUNCHES] [PREEMPTIONS]
//
// LAUNCHES is jobs.max_concurrent_launches (default 1000). Submissions are
// `jobs launch -d` requests pipelined on one connection; the jobs' states
// are followed on an `events --follow` stream of the same connection, so
// "launching at once" is counted from the recorded sequence of states.
// Preemptions go through the `sim.preempt` verb (`skyctl sim preempt`).

#include <algorithm>
#include <chrono>
#include <cstdio>
#include <fstream>
#include <unordered_map>

#include "bench_daemon.hpp"
#include "bench_util.hpp"
#include "messages/managed_job_protocol.hpp"
#include "messages/protocol.hpp"
#include "messages/sim_protocol.hpp"

using namespace sky;
using namespace std::chrono;

namespace {

using ms_double = duration<double, std::milli>;

// One simulated cloud ("aws") with two regions of three zones each, so that
// EAGER_NEXT_REGION has somewhere to go after a preemption.
void write_catalog(const std::filesystem::path& dir) {
  std::filesystem::create_directories(dir / "aws");
  std::ofstream out{dir / "aws" / "vms.csv"};
  out << "InstanceType,AcceleratorName,AcceleratorCount,vCPUs,MemoryGiB,"
         "GpuInfo,Price,SpotPrice,Region,AvailabilityZone,Arch\n";
  for (const char* region : {"r000", "r001"})
    for (char z : {'a', 'b', 'c'})
      out << "m5.large,,,2.0,8.0,,0.096,0.02," << region << "," << region
          << "-z" << z << ",x86_64\n";
}

std::string config(const std::filesystem::path& dir, int launches) {
  std::ofstream{dir / "scenario.yaml"} << "seed: 0\n"; // plenty of everything
  return "catalogs:\n  dir: " + (dir / "catalogs").string()
         + "\nsim:\n  clouds: [aws]\n  mode: virtual\n  scenario: "
         + (dir / "scenario.yaml").string()
         + "\nevents:\n  sync: true\njobs:\n  max_concurrent_launches: "
         + std::to_string(launches) + "\n";
}

const char* task_yaml = "resources:\n  infra: aws\n  instance_type: m5.large\n"
                        "  use_spot: true\n"
                        "run: |\n  # sim: duration=forever\n  true\n";

// Every managed job's state as its events say, and how many are launching.
struct job_states {
  std::unordered_map<std::string, std::string> state; // entity -> state
  size_t launching = 0, peak_launching = 0, running = 0, final = 0;
  std::unordered_map<std::string, int64_t> recovering_at_ms;

  static bool is_launching(const std::string& s) {
    return s == "starting" || s == "recovering";
  }
  static bool is_final(const std::string& s) {
    return s == "succeeded" || s == "cancelled" || s.rfind("failed", 0) == 0;
  }

  void apply(const event& e) {
    constexpr std::string_view prefix = "managed_job.";
    if (e.kind.rfind(prefix, 0) != 0)
      return;
    auto s = e.kind.substr(prefix.size());
    if (s == "submitted")
      s = "pending";
    else if (s == "launching" || s == "cleaned_up")
      return; // records of the job, not state changes
    auto& old = state[e.entity];
    launching -= is_launching(old);
    running -= old == "running";
    final -= is_final(old);
    old = s;
    launching += is_launching(s);
    running += s == "running";
    final += is_final(s);
    peak_launching = std::max(peak_launching, launching);
    if (s == "recovering")
      recovering_at_ms[e.entity] = e.time_ms;
  }
};

// Reads the events stream until `done()` holds; false on error or when
// nothing arrives for `quiet`.
template <class Pred>
bool follow_until(client::connection& conn, uint64_t stream, job_states& js,
                  Pred done, milliseconds quiet = minutes(5)) {
  while (!done()) {
    auto f = conn.next(stream, quiet);
    if (!f) {
      std::fprintf(stderr, "events: %s\n", describe(f.error()).message.c_str());
      return false;
    }
    if (f->final())
      return false;
    auto batch = protocol::decode_events_frame(f->body);
    if (!batch)
      return false;
    for (const auto& e : batch->events)
      js.apply(e);
  }
  return true;
}

bool wait_final_frame(client::connection& conn, uint64_t s) {
  while (true) {
    auto f = conn.next(s, minutes(5));
    if (!f) {
      std::fprintf(stderr, "request failed: %s\n",
                   describe(f.error()).message.c_str());
      return false;
    }
    if (f->final())
      return true;
  }
}

} // namespace

int main(int argc, char** argv) {
  int jobs = argc > 1 ? std::atoi(argv[1]) : 10000;
  int launches = argc > 2 ? std::atoi(argv[2]) : 1000;
  int preemptions = argc > 3 ? std::atoi(argv[3]) : 20;
  testing::temp_dir data{"sky-mjbench"};
  write_catalog(data.path() / "catalogs");
  bench::bench_daemon d{config(data.path(), launches)};
  std::printf("managed jobs: %d jobs, %d launches at once (skyd pid %d)\n",
              jobs, launches, d.pid());
  auto conn = d.connect();
  bench::wait_idle(d.pid(), seconds(10));
  double idle_rss = bench::rss_mib_of(d.pid());

  protocol::events_request follow;
  follow.topic = "managed_job.";
  follow.follow = true;
  follow.window = 4096;
  auto events = conn.open_stream("events", protocol::encode(follow), 4096);
  if (!events)
    return 1;
  job_states js;

  // Every submission pipelined on one connection; each reply comes once
  // the job's submission event is durable.
  auto spec = bench::task_of(task_yaml);
  auto t0 = steady_clock::now();
  std::vector<uint64_t> streams;
  streams.reserve(jobs);
  for (int i = 0; i < jobs; ++i) {
    protocol::jobs_launch_request req;
    req.name = "mj";
    req.pipeline.tasks.push_back(spec);
    req.detach = true;
    auto s = conn.open_stream("jobs.launch", protocol::encode(req), 64);
    if (!s)
      return 1;
    streams.push_back(*s);
  }
  for (auto s : streams)
    if (!wait_final_frame(conn, s))
      return 1;
  double submit_s = duration<double>(steady_clock::now() - t0).count();

  auto all_running = [&] { return js.running >= static_cast<size_t>(jobs); };
  if (!follow_until(conn, *events, js, all_running))
    return 1;
  double running_s = duration<double>(steady_clock::now() - t0).count();

  bench::report(std::to_string(jobs) + " jobs launch -d accepted durably",
                submit_s, "s", "< 10 s", submit_s < 10);
  bench::report("peak jobs STARTING/RECOVERING at once",
                static_cast<double>(js.peak_launching), "", ">= 500",
                js.peak_launching >= 500);
  bench::note("submission to all RUNNING", running_s, "s");

  // Memory and CPU with every job RUNNING, once skyd has settled: the
  // jobs' polls and log copies back off over the first minute of quiet.
  bench::wait_idle(d.pid(), seconds(60));
  double rss = bench::rss_mib_of(d.pid());
  bench::report("skyd RSS with all RUNNING", rss, "MiB", "< 1024 MiB",
                rss < 1024);
  double per_job_kib = (rss - idle_rss) * 1024 / jobs;
  bench::report("  RSS growth per job", per_job_kib, "KiB", "< 100 KiB",
                per_job_kib < 100);
  // Idle CPU: nothing happens, every job runs (utime + stime over 10 s).
  auto ticks0 = bench::cpu_ticks_of(d.pid());
  std::this_thread::sleep_for(seconds(10));
  double cpu = 100.0 * (bench::cpu_ticks_of(d.pid()) - ticks0)
               / sysconf(_SC_CLK_TCK) / 10;
  bench::report("idle CPU with all jobs RUNNING (10 s)", cpu, "% core",
                "< 10 %", cpu < 10);

  // `jobs queue` with every row.
  std::vector<double> queue_ms;
  protocol::jobs_queue_reply queue;
  for (int i = 0; i < 5; ++i) {
    auto start = steady_clock::now();
    auto r = conn.call(
      "jobs.queue", sky::encode(protocol::jobs_queue_request{}), seconds(60));
    if (!r)
      return 1;
    auto q = protocol::decode_as<protocol::jobs_queue_reply>(r->body, "queue");
    if (!q)
      return 1;
    queue_ms.push_back(ms_double(steady_clock::now() - start).count());
    queue = std::move(*q);
  }
  bench::note("jobs.queue with " + std::to_string(queue.jobs.size())
                + " rows, p50 (wire)",
              bench::percentile(queue_ms, 50), "ms");

  // Preemption -> RECOVERING, one job at a time, spread over the queue:
  // from sending `sim.preempt` to the job's managed_job.recovering event on
  // the stream (an upper bound: it includes the request's own trip).
  std::vector<double> to_recovering;
  std::vector<std::string> preempted;
  for (int i = 0; i < preemptions && !queue.jobs.empty(); ++i) {
    const auto& row = queue.jobs[i * queue.jobs.size() / preemptions];
    auto entity = "managed_job." + std::to_string(row.job_id);
    auto start = steady_clock::now();
    protocol::sim_preempt_request req{row.cluster, std::nullopt};
    auto r = conn.call("sim.preempt", sky::encode(req), seconds(30));
    if (!r) {
      std::fprintf(stderr, "preempt %s: %s\n", row.cluster.c_str(),
                   describe(r.error()).message.c_str());
      return 1;
    }
    auto seen = [&] { return js.state[entity] == "recovering"; };
    if (!follow_until(conn, *events, js, seen, seconds(30)))
      return 1;
    to_recovering.push_back(ms_double(steady_clock::now() - start).count());
    preempted.push_back(entity);
  }
  double p50 = bench::percentile(to_recovering, 50);
  double worst = bench::percentile(to_recovering, 100);
  bench::report("sim.preempt -> job RECOVERING p50", p50, "ms", "< 100 ms",
                p50 < 100);
  bench::report("sim.preempt -> job RECOVERING max", worst, "ms", "< 100 ms",
                worst < 100);
  auto start = steady_clock::now();
  if (!follow_until(conn, *events, js, all_running))
    return 1;
  bench::note("  until all " + std::to_string(preempted.size())
                + " run again elsewhere",
              ms_double(steady_clock::now() - start).count(), "ms");

  // kill -9 with every job RUNNING, then start again: how soon `status`
  // answers, and how soon reconciliation is done and every job is RUNNING
  // again in `jobs queue` (their supervisors re-attached).
  conn.cancel(*events);
  if (!d.kill9()) {
    std::fprintf(stderr, "kill -9 of skyd failed\n");
    return 1;
  }
  start = steady_clock::now();
  if (!d.start()) {
    std::fprintf(stderr, "skyd did not start again\n");
    return 1;
  }
  conn = d.connect();
  if (auto r = conn.call("status", sky::encode(protocol::clusters_request{}),
                         seconds(30));
      !r) {
    std::fprintf(stderr, "status after the restart: %s\n",
                 describe(r.error()).message.c_str());
    return 1;
  }
  double status_s = duration<double>(steady_clock::now() - start).count();
  bench::report("restart: start -> status served", status_s, "s", "< 1 s",
                status_s < 1);
  double reconciled_s = -1;
  double all_back_s = -1;
  while (reconciled_s < 0 || all_back_s < 0) {
    auto elapsed = duration<double>(steady_clock::now() - start).count();
    if (elapsed > 120) {
      std::fprintf(stderr, "not reconciled 120 s after the restart\n");
      return 1;
    }
    if (reconciled_s < 0) {
      auto r = conn.call("daemon.status", {}, seconds(30));
      auto st = r ? protocol::decode_daemon_status(r->body)
                  : result<protocol::daemon_status>{r.error()};
      if (st && st->reconciled_at_ms != 0)
        reconciled_s = elapsed;
    }
    if (all_back_s < 0) {
      auto r = conn.call(
        "jobs.queue", sky::encode(protocol::jobs_queue_request{}), seconds(60));
      auto q
        = r ? protocol::decode_as<protocol::jobs_queue_reply>(r->body, "queue")
            : result<protocol::jobs_queue_reply>{r.error()};
      if (q
          && std::count_if(q->jobs.begin(), q->jobs.end(), [](const auto& row) {
               return row.status == "RUNNING";
             }) >= jobs)
        all_back_s = elapsed;
    }
    std::this_thread::sleep_for(milliseconds(50));
  }
  bench::report("restart: start -> providers reconciled", reconciled_s, "s",
                "< 3 s", reconciled_s < 3);
  bench::note("restart: start -> every job RUNNING in jobs queue", all_back_s,
              "s");

  // Cancel every job (each tears its cluster down) so the daemon stops
  // with nothing left to do.
  follow.since = 0;
  js = {};
  events = conn.open_stream("events", protocol::encode(follow), 4096);
  if (!events)
    return 1;
  start = steady_clock::now();
  protocol::jobs_cancel_request cancel;
  cancel.all = true;
  if (!conn.call("jobs.cancel", sky::encode(cancel), minutes(10)))
    return 1;
  auto all_final = [&] { return js.final >= static_cast<size_t>(jobs); };
  if (!follow_until(conn, *events, js, all_final))
    return 1;
  bench::note("jobs cancel -a: all CANCELLED, clusters gone",
              duration<double>(steady_clock::now() - start).count(), "s");
  conn.cancel(*events);
  return 0;
}
