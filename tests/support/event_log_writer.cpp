// Test helper: appends to a RocksDB event log as fast as it can and prints
// the last seq of every append once it is durable, one per line. A test
// kills it with SIGKILL at a random moment and checks that every printed
// (acknowledged) event is in the log after reopening.

#include <cstdio>
#include <random>
#include <string>

#include "messages/msgpack_util.hpp"
#include "storage/rocksdb_event_log.hpp"

int main(int argc, char** argv) {
  if (argc < 2) {
    std::fprintf(stderr, "usage: event_log_writer DB_DIR [SEED]\n");
    return 2;
  }
  auto log = sky::storage::open_rocksdb_event_log(argv[1]);
  if (!log) {
    std::fprintf(stderr, "%s\n", sky::describe(log.error()).message.c_str());
    return 1;
  }
  std::mt19937 rng{argc > 2 ? static_cast<unsigned>(std::stoul(argv[2])) : 1u};
  std::uniform_int_distribution<int> batch_size{1, 50};
  std::string payload(150, 'x'); // ~200-byte events
  while (true) {
    std::vector<sky::event_draft> drafts;
    int n = batch_size(rng);
    for (int i = 0; i < n; ++i) {
      sky::event_draft d;
      d.entity = "job.crash." + std::to_string(i);
      d.kind = "test.appended";
      d.fields = sky::map_writer{1}.add("payload", payload).bytes();
      d.snapshot = sky::snapshot_op::put;
      d.snapshot_value = std::to_string(i);
      drafts.push_back(std::move(d));
    }
    auto events = (*log)->append(std::move(drafts));
    if (!events) {
      std::fprintf(stderr, "%s\n",
                   sky::describe(events.error()).message.c_str());
      return 1;
    }
    std::printf("%llu\n", static_cast<unsigned long long>(events->back().seq));
    std::fflush(stdout);
  }
}
