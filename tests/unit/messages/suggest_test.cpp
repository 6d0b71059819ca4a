#include <catch2/catch.hpp>

#include "messages/result.hpp"
#include "messages/suggest.hpp"

using namespace sky;

TEST_CASE("edit distance counts typos") {
  CHECK(edit_distance("ping", "ping") == 0);
  CHECK(edit_distance("pnig", "ping") == 1); // swap
  CHECK(edit_distance("stauts", "status") == 1);
  CHECK(edit_distance("", "abc") == 3);
  CHECK(edit_distance("Accelerators", "accelerators") == 0);
}

TEST_CASE("closest match suggests plausible typos only") {
  std::vector<std::string> keys{"accelerators", "cpus", "memory", "infra"};
  CHECK(closest_match("acelerators", keys) == std::string{"accelerators"});
  CHECK(closest_match("cpu", keys) == std::string{"cpus"});
  CHECK_FALSE(closest_match("zzzzzz", keys));
  CHECK(did_you_mean("memroy", keys) == " (did you mean 'memory'?)");
  CHECK(did_you_mean("qqq", keys).empty());
}

TEST_CASE("errors carry code, message and hint through caf::error") {
  auto err = make_error(errc::not_found, "cluster 'x' does not exist",
                        "see skyctl status");
  auto info = describe(err);
  CHECK(info.code == errc::not_found);
  CHECK(info.message == "cluster 'x' does not exist");
  CHECK(info.hint == "see skyctl status");
  CHECK(to_string(errc::no_capacity) == "no_capacity");
  CHECK(errc_from_string("quota") == errc::quota);
  CHECK_FALSE(errc_from_string("nope"));
}
