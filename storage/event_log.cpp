#include "storage/event_log.hpp"

#include <chrono>

namespace sky::storage {

int64_t now_unix_ms() {
  using namespace std::chrono;
  return duration_cast<milliseconds>(system_clock::now().time_since_epoch())
    .count();
}

std::vector<event> number_drafts(std::vector<event_draft>& drafts,
                                 uint64_t next_seq, int64_t now_ms) {
  std::vector<event> events;
  events.reserve(drafts.size());
  for (auto& d : drafts) {
    event ev;
    ev.seq = next_seq++;
    ev.time_ms = d.time_ms != 0 ? d.time_ms : now_ms;
    ev.entity = d.entity; // the draft keeps it: it keys the snapshot
    ev.kind = std::move(d.kind);
    ev.fields = std::move(d.fields);
    events.push_back(std::move(ev));
  }
  return events;
}

} // namespace sky::storage
