// Durable event throughput of issue 2: 200-byte events appended by many
// concurrent actors through the event log actor (group commit, WAL synced
// per group) on RocksDB. Target: >= 50,000 events/s acknowledged. Prints the
// machine's fsync rate beside it, since a group commit costs one sync.
//
//   build/tests/bench/event_log_bench [SECONDS] [APPENDERS] [DIR]

#include <atomic>
#include <chrono>
#include <fcntl.h>
#include <thread>
#include <unistd.h>

#include <caf/actor_system.hpp>
#include <caf/actor_system_config.hpp>
#include <caf/event_based_actor.hpp>
#include <caf/scoped_actor.hpp>

#include "actors/core/event_log_actor.hpp"
#include "bench_util.hpp"
#include "messages/msgpack_util.hpp"
#include "storage/rocksdb_event_log.hpp"
#include "tests/support/test_support.hpp"

using namespace sky;
using namespace std::chrono;

namespace {

// write(200 bytes) + fdatasync, as often as possible.
double fsync_rate(const std::filesystem::path& dir, double seconds) {
  auto file = dir / "fsync-probe";
  int fd = ::open(file.c_str(), O_WRONLY | O_CREAT | O_TRUNC, 0600);
  if (fd < 0)
    return 0;
  std::string payload(200, 'x');
  int n = 0;
  auto end = steady_clock::now() + duration<double>(seconds);
  while (steady_clock::now() < end) {
    if (::write(fd, payload.data(), payload.size()) < 0)
      break;
    ::fdatasync(fd);
    ++n;
  }
  ::close(fd);
  std::filesystem::remove(file);
  return n / seconds;
}

struct counters {
  std::atomic<uint64_t> acked{0};
  std::atomic<bool> stop{false};
};

// Appends one event at a time and waits for each acknowledgement, like an
// entity actor recording its state changes.
caf::behavior appender(caf::event_based_actor* self,
                       actors::event_log_actor log, std::shared_ptr<counters> c,
                       int id) {
  auto fields = map_writer{1}.add("payload", std::string(120, 'p')).bytes();
  self->send(self, flush_atom_v);
  return {
    [=](flush_atom) {
      if (c->stop)
        return;
      event_draft d;
      d.entity = "job.bench." + std::to_string(id);
      d.kind = "job.state_changed";
      d.fields = fields;
      self
        ->request(log, caf::infinite, append_atom_v,
                  std::vector<event_draft>{std::move(d)})
        .then([=](uint64_t) {
          ++c->acked;
          self->send(self, flush_atom_v);
        });
    },
  };
}

} // namespace

int main(int argc, char** argv) {
  double seconds = argc > 1 ? std::atof(argv[1]) : 5;
  int appenders = argc > 2 ? std::atoi(argv[2]) : 256;
  std::optional<testing::temp_dir> tmp;
  std::filesystem::path dir;
  if (argc > 3) {
    dir = argv[3];
  } else {
    tmp.emplace("sky-bench-log");
    dir = tmp->path();
  }
  std::printf("durable events (%d appenders, %.0f s, %s)\n", appenders, seconds,
              dir.c_str());
  double syncs = fsync_rate(dir, 2);
  bench::note("this machine's fsync rate (200 B + fdatasync)", syncs, "/s");

  auto storage = storage::open_rocksdb_event_log(dir / "db");
  if (!storage) {
    std::fprintf(stderr, "%s\n", describe(storage.error()).message.c_str());
    return 1;
  }
  std::shared_ptr<storage::event_log> shared{std::move(*storage)};
  caf::actor_system_config cfg;
  cfg.add_message_types<caf::id_block::sky>();
  caf::actor_system sys{cfg};
  uint64_t acked = 0;
  double elapsed = 0;
  {
    // Handles must be gone before the actor system ends, or it waits on the
    // detached log actor forever.
    auto log = sys.spawn<caf::detached>(actors::event_log, shared);
    auto c = std::make_shared<counters>();
    std::vector<caf::actor> workers;
    auto start = steady_clock::now();
    for (int i = 0; i < appenders; ++i)
      workers.push_back(sys.spawn(appender, log, c, i));
    std::this_thread::sleep_for(duration<double>(seconds));
    c->stop = true;
    elapsed = duration<double>(steady_clock::now() - start).count();
    acked = c->acked;
    std::this_thread::sleep_for(milliseconds(200));
    for (auto& w : workers)
      caf::anon_send_exit(w, caf::exit_reason::user_shutdown);
    caf::anon_send_exit(log, caf::exit_reason::user_shutdown);
  }
  double rate = acked / elapsed;
  bench::report("events acknowledged per second (durable)", rate, "/s",
                ">= 50000/s", rate >= 50000);
  bench::note("events per WAL sync (estimate: rate / fsync rate)",
              syncs > 0 ? rate / syncs : 0, "");
  bench::note("events in the log", static_cast<double>(shared->last_seq()), "");
  return 0;
}
