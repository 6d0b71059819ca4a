// `down` while a launch is in progress: before any provider was asked it
// removes the cluster without asking one; during a provisioning attempt it
// waits for the attempt's answer and then terminates what the attempt made,
// so nothing is left behind. The scheduler is stepped by hand to send the
// `down` at exactly those moments.

#include <catch2/catch.hpp>

#include <algorithm>

#include "cluster_fixture.hpp"
#include "messages/cluster_protocol.hpp"

using namespace sky;
using namespace sky::actors;
using namespace std::chrono_literals;

namespace {

constexpr const char* aws_task = "resources: {infra: aws, cpus: 8}\nrun: x\n";

struct down_fixture : testing::cluster_fixture {
  // Runs actors one message at a time until `done` holds; false when the
  // system went idle first.
  template <class Pred>
  bool step_until(Pred done) {
    while (!done())
      if (!ds.sched.try_run_once())
        return false;
    return true;
  }

  bool has_kind(const std::string& entity, const std::string& kind) {
    auto k = kinds(entity);
    return std::find(k.begin(), k.end(), kind) != k.end();
  }

  struct answers {
    std::string launch_error;
    bool launched = false;
    std::optional<protocol::outcomes_reply> down;
  };

  // Sends `down name` now, runs everything, and collects both answers.
  answers down_now(const std::string& name) {
    client->send(registry, down_atom_v,
                 protocol::clusters_request{{name}, false});
    ds.run();
    answers a;
    for (int i = 0; i < 2; ++i)
      client->receive(
        [&](uint64_t) { a.launched = true; },
        [&](protocol::outcomes_reply& r) { a.down = std::move(r); },
        [&](caf::error& err) { a.launch_error = describe(err).message; },
        caf::after(0s) >> [] {});
    return a;
  }

  // The teardown succeeded and the launch it cut short failed with it.
  static void check_down_ended_launch(const answers& a) {
    REQUIRE(a.down);
    REQUIRE(a.down->results.size() == 1);
    INFO(a.down->results[0].message);
    CHECK(a.down->results[0].ok);
    CHECK_FALSE(a.launched);
    CHECK(a.launch_error.find("torn down") != std::string::npos);
  }

  void send_launch(const std::string& name) {
    launch_order order;
    order.task = testing::task_of(aws_task);
    client->send(registry, launch_atom_v, name, order);
  }
};

} // namespace

TEST_CASE("down while a launch is being planned removes the cluster without "
          "asking any provider") {
  down_fixture f;
  f.send_launch("early");
  REQUIRE(f.step_until(
    [&] { return f.has_kind("cluster.early", "cluster.launch_requested"); }));
  REQUIRE_FALSE(f.has_kind("cluster.early", "cluster.provisioning"));

  auto a = f.down_now("early");
  down_fixture::check_down_ended_launch(a);
  CHECK(f.aws->calls.empty());
  CHECK(f.kinds("cluster.early").back() == "cluster.terminated");
  CHECK(
    f.ask<protocol::status_reply>(status_atom_v, protocol::clusters_request{})
      .clusters.empty());
}

TEST_CASE("down during a provisioning attempt waits for it and terminates "
          "what it made") {
  down_fixture f;
  f.send_launch("mid");
  // The attempt is recorded and about to go to the provider.
  REQUIRE(f.step_until(
    [&] { return f.has_kind("cluster.mid", "cluster.provisioning"); }));
  REQUIRE(f.aws->calls.empty());

  auto a = f.down_now("mid");
  down_fixture::check_down_ended_launch(a);
  // The attempt ran, and what it made is gone; the cluster never came UP.
  CHECK(std::count(f.aws->calls.begin(), f.aws->calls.end(),
                   "run mid us-east-1/us-east-1a")
        == 1);
  CHECK(f.aws->clusters.empty());
  CHECK(std::count(f.aws->calls.begin(), f.aws->calls.end(), "terminate mid")
        == 1);
  CHECK_FALSE(f.has_kind("cluster.mid", "cluster.up"));
  CHECK(f.kinds("cluster.mid").back() == "cluster.terminated");
  CHECK(f.storage->load_snapshots("cluster.")->empty());
}
