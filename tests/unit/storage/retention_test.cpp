#include <catch2/catch.hpp>

#include <map>

#include "storage/retention.hpp"

using namespace sky::storage;

namespace {

// Events 1..n appended one second apart, the first at t = 1000 s.
std::function<std::optional<int64_t>(uint64_t)> one_per_second(size_t* reads
                                                               = nullptr) {
  return [reads](uint64_t seq) -> std::optional<int64_t> {
    if (reads)
      ++*reads;
    return static_cast<int64_t>(1'000'000 + 1000 * (seq - 1));
  };
}

} // namespace

TEST_CASE("retention: no policy keeps everything") {
  CHECK(first_to_keep({}, 1, 100, 0, one_per_second()) == 1);
  CHECK(first_to_keep({}, 40, 100, 0, one_per_second()) == 40);
}

TEST_CASE("retention: a count keeps the newest events") {
  retention_policy p;
  p.max_events = 10;
  CHECK(first_to_keep(p, 1, 100, 0, one_per_second()) == 91);
  CHECK(first_to_keep(p, 1, 10, 0, one_per_second()) == 1);
  CHECK(first_to_keep(p, 95, 100, 0, one_per_second()) == 95);
  CHECK(first_to_keep(p, 101, 100, 0, one_per_second()) == 101); // empty
}

TEST_CASE("retention: an age keeps what is younger, found by bisection") {
  retention_policy p;
  p.max_age_ms = 30'000;
  // Event 100 at 1099 s; now 1100 s: events at >= 1070 s are kept: 71..100.
  size_t reads = 0;
  CHECK(first_to_keep(p, 1, 100, 1'100'000, one_per_second(&reads)) == 71);
  CHECK(reads <= 8);
  // Everything older than the age: all go.
  CHECK(first_to_keep(p, 1, 100, 10'000'000, one_per_second()) == 101);
  // Nothing old enough: all stay.
  CHECK(first_to_keep(p, 1, 100, 1'000'000, one_per_second()) == 1);
}

TEST_CASE("retention: count and age together keep the stricter cut") {
  retention_policy p;
  p.max_events = 50;
  p.max_age_ms = 30'000;
  CHECK(first_to_keep(p, 1, 100, 1'100'000, one_per_second()) == 71);
  p.max_events = 10;
  CHECK(first_to_keep(p, 1, 100, 1'100'000, one_per_second()) == 91);
}

TEST_CASE("retention: an event whose time cannot be read stops the age cut") {
  retention_policy p;
  p.max_events = 20;
  p.max_age_ms = 1;
  auto unreadable
    = [](uint64_t) -> std::optional<int64_t> { return std::nullopt; };
  CHECK(first_to_keep(p, 1, 100, 1'100'000, unreadable) == 81);
}
