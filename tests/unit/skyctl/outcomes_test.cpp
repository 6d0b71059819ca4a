// Reading and printing the results of stop/start/down/autostop/cancel.

#include <catch2/catch.hpp>

#include <sstream>

#include "messages/cluster_protocol.hpp"
#include "messages/msgpack_util.hpp"
#include "skyctl/outcomes.hpp"
#include "skyctl/output.hpp"

using namespace sky;
using namespace sky::cli;

TEST_CASE("outcomes read from a list, a single result, or nil") {
  protocol::outcomes_reply list{
    {{"a", true, "STOPPED", ""}, {"b", false, "UP", "provider refused"}}};
  auto many = read_outcomes(sky::encode(list));
  REQUIRE(many);
  REQUIRE(many->size() == 2);
  CHECK((*many)[0].cluster == "a");
  CHECK((*many)[0].ok);
  CHECK((*many)[1].message == "provider refused");
  CHECK_FALSE((*many)[1].ok);

  auto one = read_outcomes(
    sky::encode(protocol::cluster_outcome{"c", true, "UP", "set"}));
  REQUIRE(one);
  REQUIRE(one->size() == 1);
  CHECK(one->front().message == "set");

  auto job = read_outcomes(
    map_writer{2}.add("job_id", uint64_t{4}).add("cluster", "c").bytes());
  REQUIRE(job);
  CHECK(job->front().job_id == 4u);
  CHECK(job->front().ok);

  auto nil = read_outcomes(std::string_view{"\xc0", 1});
  REQUIRE(nil);
  CHECK(nil->empty());
  CHECK_FALSE(read_outcomes(sky::encode(std::vector<int>{1, 2})));
}

TEST_CASE("successes go to stdout, failures to stderr with exit 1") {
  std::vector<outcome> results{
    {"a", std::nullopt, true, "STOPPED", ""},
    {"b", std::nullopt, true, "", "b is down."},
    {"c", std::nullopt, false, "", "quota"},
    {"e", std::nullopt, false, "", "cluster 'e' is busy"},
    {"d", 9, false, "RUNNING", ""}};
  std::ostringstream out, err;
  int code = print_outcomes(out, err, results, [](const outcome& o) {
    return "Cluster " + o.cluster + " stopped.";
  });
  CHECK(code == exit_failed);
  CHECK(out.str() == "Cluster a stopped.\nb is down.\n");
  CHECK(err.str()
        == "skyctl: cluster c: quota\n"
           "skyctl: cluster 'e' is busy\n"
           "skyctl: job 9 on cluster d: failed (status RUNNING)\n");
  std::ostringstream out2, err2;
  CHECK(print_outcomes(out2, err2, {results[0]},
                       [](const outcome&) { return std::string{"ok"}; })
        == exit_ok);
}
