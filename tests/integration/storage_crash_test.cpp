#include <catch2/catch.hpp>

#include <csignal>
#include <random>
#include <thread>

#include "storage/rocksdb_event_log.hpp"
#include "tests/support/process.hpp"
#include "tests/support/test_support.hpp"

using namespace sky;
using namespace sky::testing;

TEST_CASE("every acknowledged event survives kill -9 of the writer") {
  temp_dir dir{"sky-crash"};
  auto db = (dir.path() / "db").string();
  std::mt19937 rng{Catch::rngSeed()};
  std::uniform_int_distribution<int> delay_ms{50, 400};
  uint64_t previous_last = 0;
  for (int round = 0; round < 3; ++round) {
    uint64_t acked = 0;
    {
      child writer{{built_binary("tests/support/event_log_writer"), db,
                    std::to_string(round + 1)}};
      auto until = std::chrono::steady_clock::now()
                   + std::chrono::milliseconds(delay_ms(rng));
      while (std::chrono::steady_clock::now() < until) {
        auto line = writer.read_line(std::chrono::milliseconds(500));
        if (!line)
          break;
        acked = std::stoull(*line);
      }
      writer.signal(SIGKILL);
      writer.wait(std::chrono::seconds(5));
      // Lines written before the kill but not read yet were acknowledged too.
      while (auto line = writer.read_line(std::chrono::milliseconds(100)))
        acked = std::stoull(*line);
    }
    REQUIRE(acked > previous_last);
    auto log = storage::open_rocksdb_event_log(db);
    REQUIRE(log);
    INFO("round " << round << ": acknowledged up to " << acked);
    CHECK((*log)->last_seq() >= acked);
    // The whole log is 1..last without a gap, in order.
    uint64_t expect = 1;
    while (expect <= (*log)->last_seq()) {
      auto page = (*log)->read(expect, 4096);
      REQUIRE(page);
      REQUIRE_FALSE(page->empty());
      for (const auto& ev : *page) {
        REQUIRE(ev.seq == expect);
        REQUIRE(ev.kind == "test.appended");
        ++expect;
      }
    }
    previous_last = (*log)->last_seq();
  }
}
