// The replica rules under simulated time: each case drives one replica
// through events at chosen instants and checks the status, the action and
// what the record keeps.

#include <catch2/catch.hpp>

#include "optimizer/serve/replica_rules.hpp"

using namespace sky::optimizer;
namespace ev = sky::optimizer::replica_event;

namespace {

const probe_settings probe{60'000, 10'000}; // 60 s delay, 10 s window

replica with_status(replica_status s) {
  replica r;
  r.id = 3;
  r.cluster = "svc-3";
  r.status = s;
  r.started_at_ms = 1'000;
  return r;
}

replica_decision apply(const replica& r, replica_event_t e, int64_t now) {
  return decide_replica(r, e, probe, now);
}

/// Applies `e` and insists it was not ignored.
replica step(const replica& r, replica_event_t e, int64_t now) {
  auto d = apply(r, std::move(e), now);
  INFO(d.ignored);
  REQUIRE(d.ignored.empty());
  return d.next;
}

ev::probe_answered http(int code) {
  return {code, "GET /health"};
}

} // namespace

TEST_CASE("serve rules: a replica goes PENDING, PROVISIONING, STARTING, "
          "READY") {
  replica r;
  r = step(r, ev::launch_started{}, 100);
  CHECK(r.status == replica_status::provisioning);
  CHECK(r.cluster_left);
  r = step(r, ev::launched{"127.0.0.1:9001", "local"}, 2'000);
  CHECK(r.status == replica_status::starting);
  CHECK(r.endpoint == "127.0.0.1:9001");
  CHECK(r.infra == "local");
  CHECK(r.started_at_ms == 2'000);
  CHECK_FALSE(routable(r));
  r = step(r, http(200), 3'000);
  CHECK(r.status == replica_status::ready);
  CHECK(r.first_ready_ms == 3'000);
  CHECK(r.status_since_ms == 3'000);
  CHECK(routable(r));
}

TEST_CASE("serve rules: any 2xx passes a probe, other codes fail it") {
  struct row {
    int code;
    replica_status after;
  };
  for (auto [code, after] :
       {row{200, replica_status::ready}, row{204, replica_status::ready},
        row{299, replica_status::ready}, row{300, replica_status::starting},
        row{404, replica_status::starting}, row{503, replica_status::starting},
        row{199, replica_status::starting}}) {
    INFO("HTTP " << code);
    auto d = apply(with_status(replica_status::starting), http(code), 5'000);
    CHECK(d.next.status == after);
    CHECK(d.action == replica_action::none);
    if (after == replica_status::starting)
      CHECK(d.next.reason
            == "GET /health answered HTTP " + std::to_string(code));
  }
}

TEST_CASE("serve rules: the initial delay counts from STARTING") {
  auto r = with_status(replica_status::starting); // started at 1 s
  SECTION("failures within the delay keep it STARTING") {
    auto d = apply(r, ev::probe_unanswered{"connection refused"}, 60'999);
    CHECK(d.next.status == replica_status::starting);
    CHECK(d.action == replica_action::none);
    CHECK(d.next.reason == "connection refused");
    CHECK(d.next.failing_since_ms == 60'999);
  }
  SECTION("a failure once the delay is over ends FAILED_INITIAL_DELAY") {
    auto d = apply(r, ev::probe_unanswered{"timed out after 15 s"}, 61'000);
    CHECK(d.next.status == replica_status::failed_initial_delay);
    CHECK(d.action == replica_action::tear_down);
    CHECK_FALSE(d.drain);
    CHECK(d.next.cause == teardown_cause::failure);
    CHECK(d.next.reason.find("initial delay of 60 s") != std::string::npos);
    CHECK(d.next.reason.find("timed out after 15 s") != std::string::npos);
  }
  SECTION("a pass just before the delay ends makes it READY") {
    auto d = apply(r, http(200), 60'999);
    CHECK(d.next.status == replica_status::ready);
  }
}

TEST_CASE("serve rules: a READY replica leaves rotation on its first failed "
          "probe and is replaced after the failure window") {
  auto r = step(with_status(replica_status::starting), http(200), 2'000);
  r = step(r, ev::probe_unanswered{"connection refused"}, 20'000);
  CHECK(r.status == replica_status::not_ready);
  CHECK_FALSE(routable(r));
  CHECK(r.failing_since_ms == 20'000);
  SECTION("a pass brings it back and resets the window") {
    auto back = step(r, http(200), 25'000);
    CHECK(back.status == replica_status::ready);
    CHECK(back.failing_since_ms == 0);
    CHECK(back.first_ready_ms == 2'000);
    auto again = step(back, http(500), 40'000);
    CHECK(again.status == replica_status::not_ready);
    CHECK(again.failing_since_ms == 40'000);
  }
  SECTION("failing within the window keeps it NOT_READY") {
    auto d = apply(r, http(503), 29'999);
    CHECK(d.next.status == replica_status::not_ready);
    CHECK(d.action == replica_action::none);
    CHECK(d.next.failing_since_ms == 20'000);
  }
  SECTION("failing for the whole window ends FAILED_PROBING") {
    auto d = apply(r, http(503), 30'000);
    CHECK(d.next.status == replica_status::failed_probing);
    CHECK(d.action == replica_action::tear_down);
    CHECK(d.next.reason.find("HTTP 503") != std::string::npos);
    CHECK(d.next.reason.find("10 s") != std::string::npos);
  }
}

TEST_CASE("serve rules: a zero failure window replaces at the first "
          "failure") {
  auto r = with_status(replica_status::ready);
  auto d = decide_replica(r, ev::probe_unanswered{"reset"}, {60'000, 0}, 9);
  CHECK(d.next.status == replica_status::failed_probing);
  CHECK(d.action == replica_action::tear_down);
}

TEST_CASE("serve rules: failures keep their record, removals on purpose do "
          "not") {
  struct row {
    replica_status from;
    replica_event_t event;
    replica_status status;
    bool record_stays;
  };
  const std::vector<row> rows{
    {replica_status::provisioning, ev::launch_failed{"no capacity anywhere"},
     replica_status::failed_provision, true},
    {replica_status::ready, ev::job_ended{"FAILED", "exit code 1"},
     replica_status::failed, true},
    {replica_status::starting, ev::job_ended{"SUCCEEDED", ""},
     replica_status::failed, true},
    {replica_status::ready, ev::preempted{"aws (simulated): spot reclaimed"},
     replica_status::preempted, false},
    {replica_status::ready,
     ev::teardown_requested{teardown_cause::scale_down, "fewer needed"},
     replica_status::shutting_down, false},
    {replica_status::not_ready,
     ev::teardown_requested{teardown_cause::outdated, "version 2 is ready"},
     replica_status::shutting_down, false},
  };
  for (size_t i = 0; i < rows.size(); ++i) {
    const auto& w = rows[i];
    INFO("row " << i);
    auto d = apply(with_status(w.from), w.event, 50'000);
    REQUIRE(d.ignored.empty());
    CHECK(d.next.status == w.status);
    CHECK(d.action == replica_action::tear_down);
    CHECK(d.next.cluster_left);
    auto gone = apply(d.next, ev::torn_down{}, 60'000);
    CHECK_FALSE(gone.next.cluster_left);
    CHECK((gone.action == replica_action::remove_record) != w.record_stays);
    CHECK(gone.next.status == w.status);
  }
}

TEST_CASE("serve rules: scale-down drains a serving replica, not a starting "
          "one") {
  auto ready = apply(with_status(replica_status::ready),
                     ev::teardown_requested{teardown_cause::scale_down, ""}, 1);
  CHECK(ready.drain);
  auto starting
    = apply(with_status(replica_status::starting),
            ev::teardown_requested{teardown_cause::scale_down, ""}, 1);
  CHECK_FALSE(starting.drain);
  CHECK(starting.action == replica_action::tear_down);
}

TEST_CASE("serve rules: a teardown during a launch waits for the launch, "
          "then tears down") {
  auto r = step(with_status(replica_status::provisioning),
                ev::teardown_requested{teardown_cause::user, "serve down"}, 5);
  CHECK(r.status == replica_status::shutting_down);
  SECTION("the launch succeeds") {
    auto d = apply(r, ev::launched{"127.0.0.1:1", "local"}, 6);
    CHECK(d.action == replica_action::tear_down);
    CHECK(d.next.status == replica_status::shutting_down);
  }
  SECTION("the launch fails") {
    auto d = apply(r, ev::launch_failed{"quota"}, 6);
    CHECK(d.action == replica_action::tear_down);
  }
  auto first = apply(with_status(replica_status::provisioning),
                     ev::teardown_requested{teardown_cause::user, ""}, 5);
  CHECK(first.action == replica_action::none);
}

TEST_CASE("serve rules: a PENDING replica removed leaves nothing to tear "
          "down") {
  auto d = apply(with_status(replica_status::pending),
                 ev::teardown_requested{teardown_cause::scale_down, ""}, 1);
  CHECK(d.action == replica_action::remove_record);
}

TEST_CASE("serve rules: late news about a replica that is going changes "
          "nothing") {
  auto going = step(with_status(replica_status::ready),
                    ev::teardown_requested{teardown_cause::scale_down, ""}, 1);
  for (const replica_event_t& late :
       {replica_event_t{http(200)}, replica_event_t{http(500)},
        replica_event_t{ev::job_ended{"FAILED", ""}},
        replica_event_t{ev::preempted{"x"}},
        replica_event_t{ev::launch_started{}},
        replica_event_t{
          ev::teardown_requested{teardown_cause::scale_down, ""}}}) {
    auto d = apply(going, late, 2);
    CHECK_FALSE(d.ignored.empty());
    CHECK(d.next == going);
    CHECK(d.action == replica_action::none);
  }
}

TEST_CASE("serve rules: the user removes a failed replica; a failed "
          "teardown is FAILED_CLEANUP and can be retried") {
  auto failed
    = step(with_status(replica_status::ready), ev::job_ended{"FAILED", ""}, 1);
  SECTION("its cluster still going: the record goes once it is gone") {
    auto d = apply(failed, ev::teardown_requested{teardown_cause::user, ""}, 2);
    CHECK(d.action == replica_action::none);
    auto gone = apply(d.next, ev::torn_down{}, 3);
    CHECK(gone.action == replica_action::remove_record);
  }
  SECTION("its cluster already gone: the record goes at once") {
    auto cleaned = step(failed, ev::torn_down{}, 2);
    auto d
      = apply(cleaned, ev::teardown_requested{teardown_cause::user, ""}, 3);
    CHECK(d.action == replica_action::remove_record);
  }
  SECTION("the teardown fails") {
    auto stuck = step(failed, ev::teardown_failed{"ssh: host unreachable"}, 2);
    CHECK(stuck.status == replica_status::failed_cleanup);
    CHECK(stuck.reason.find("host unreachable") != std::string::npos);
    CHECK(stuck.reason.find("--purge") != std::string::npos);
    auto retry
      = apply(stuck, ev::teardown_requested{teardown_cause::user, ""}, 3);
    CHECK(retry.action == replica_action::tear_down);
    auto gone = apply(retry.next, ev::torn_down{}, 4);
    CHECK(gone.action == replica_action::remove_record);
  }
}

TEST_CASE("serve model: names round-trip, groups and scale-down order") {
  for (int i = 0; i <= static_cast<int>(replica_status::preempted); ++i) {
    auto s = static_cast<replica_status>(i);
    CHECK(parse_replica_status(to_string(s)) == s);
  }
  CHECK(parse_replica_status("ready") == replica_status::ready);
  CHECK_FALSE(parse_replica_status("UP"));
  CHECK(is_failed(replica_status::failed_initial_delay));
  CHECK_FALSE(is_failed(replica_status::preempted));
  CHECK(is_terminal(replica_status::preempted));
  CHECK(is_terminal(replica_status::shutting_down));
  CHECK_FALSE(is_terminal(replica_status::not_ready));
  CHECK(scale_down_rank(replica_status::pending)
        < scale_down_rank(replica_status::provisioning));
  CHECK(scale_down_rank(replica_status::starting)
        < scale_down_rank(replica_status::not_ready));
  CHECK(scale_down_rank(replica_status::not_ready)
        < scale_down_rank(replica_status::ready));
  CHECK(parse_update_mode("BLUE_GREEN") == update_mode::blue_green);
  CHECK(to_string(service_status::no_replica) == "NO_REPLICA");
  CHECK(parse_teardown_cause("preemption") == teardown_cause::preemption);
}
