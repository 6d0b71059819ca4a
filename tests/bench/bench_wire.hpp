#pragma once

// Wire helpers shared by the benchmarks that submit jobs and wait for their
// events over one client connection.

#include <chrono>
#include <cstdio>
#include <string>

#include "bench_daemon.hpp"
#include "messages/protocol.hpp"
#include "tests/support/process.hpp"

namespace sky::bench {

// Follows every event of one job; returns when `kind` arrives for `entity`.
inline bool wait_event(client::connection& conn, uint64_t stream,
                       const std::string& entity, const std::string& kind,
                       std::chrono::seconds limit = std::chrono::seconds(60)) {
  while (true) {
    auto f = conn.next(stream, limit);
    if (!f || f->final())
      return false;
    auto batch = protocol::decode_events_frame(f->body);
    if (!batch)
      return false;
    for (const auto& e : batch->events)
      if (e.entity == entity && e.kind == kind)
        return true;
  }
}

inline uint64_t
exec_detached(client::connection& conn, const std::string& cluster,
              const std::string& run,
              std::chrono::seconds limit = std::chrono::seconds(60)) {
  protocol::exec_request req;
  req.cluster = cluster;
  req.task = task_of("run: '" + run + "'\n");
  req.detach = true;
  auto s = conn.open_stream("exec", protocol::encode(req), 64);
  if (!s)
    return 0;
  while (true) {
    auto f = conn.next(*s, limit);
    if (!f) {
      std::fprintf(stderr, "exec failed: %s\n",
                   describe(f.error()).message.c_str());
      return 0;
    }
    if (f->final()) {
      auto out = protocol::decode_as<protocol::job_outcome>(f->body, "outcome");
      return out ? out->job_id : 0;
    }
  }
}

/// `skyctl exec CLUSTER -- echo go`, `runs` times, from command start to
/// the job's first line of output (which comes after RUNNING: an upper
/// bound); prints p50 and p99. False when a run printed nothing.
inline bool
note_cli_exec(const bench_daemon& d, const std::string& cluster, int runs,
              std::chrono::seconds limit = std::chrono::seconds(60)) {
  std::vector<double> cli;
  for (int i = 0; i < runs; ++i) {
    auto start = std::chrono::steady_clock::now();
    testing::child c{{testing::built_binary("bin/skyctl"), "exec", cluster,
                      "--", "echo", "go"},
                     d.env()};
    auto line = c.read_line(limit);
    cli.push_back(std::chrono::duration<double, std::milli>(
                    std::chrono::steady_clock::now() - start)
                    .count());
    c.wait(limit);
    if (!line)
      return false;
  }
  note("skyctl exec: command start to job output p50", percentile(cli, 50),
       "ms");
  note("skyctl exec: command start to job output p99", percentile(cli, 99),
       "ms");
  return true;
}

} // namespace sky::bench
