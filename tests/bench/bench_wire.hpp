#pragma once

// Wire helpers shared by the benchmarks that submit jobs and wait for their
// events over one client connection.

#include <chrono>
#include <cstdio>
#include <string>

#include "bench_daemon.hpp"
#include "messages/protocol.hpp"

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

} // namespace sky::bench
