#include "optimizer/serve/replica_rules.hpp"

#include <type_traits>

namespace sky::optimizer {

namespace {

namespace ev = replica_event;

replica_decision unchanged(const replica& r) {
  replica_decision d;
  d.next = r;
  return d;
}

std::string seconds_text(int64_t ms) {
  return std::to_string(ms / 1000) + " s";
}

struct rules {
  const replica& r;
  const probe_settings& probe;
  int64_t now;

  replica_decision keep(std::string why) const {
    auto d = unchanged(r);
    d.ignored = std::move(why);
    return d;
  }

  replica_decision move_to(replica_status s, std::string reason) const {
    auto d = unchanged(r);
    if (d.next.status != s)
      d.next.status_since_ms = now;
    d.next.status = s;
    d.next.reason = std::move(reason);
    return d;
  }

  /// A failure: the status says which, the cluster goes now (no drain:
  /// nothing worth finishing runs on a failed replica), the record stays.
  replica_decision fail(replica_status s, std::string reason) const {
    auto d = move_to(s, std::move(reason));
    d.next.cause = teardown_cause::failure;
    d.next.cluster_left = true;
    d.action = replica_action::tear_down;
    return d;
  }

  bool live() const { return is_live(r); }

  replica_decision operator()(const ev::launch_started&) const {
    if (r.status != replica_status::pending)
      return keep("launch of a replica that is "
                  + std::string{to_string(r.status)});
    auto d = move_to(replica_status::provisioning, "");
    d.next.cluster_left = true; // from now on something may need a down
    return d;
  }

  replica_decision operator()(const ev::launched& e) const {
    if (r.status == replica_status::shutting_down) {
      // Torn down while launching: the cluster now exists, so it goes.
      auto d = unchanged(r);
      d.action = replica_action::tear_down;
      return d;
    }
    if (r.status != replica_status::provisioning)
      return keep("launch result for a replica that is "
                  + std::string{to_string(r.status)});
    auto d = move_to(replica_status::starting, "");
    d.next.endpoint = e.endpoint;
    d.next.infra = e.infra;
    d.next.started_at_ms = now;
    return d;
  }

  replica_decision operator()(const ev::launch_failed& e) const {
    if (r.status == replica_status::shutting_down) {
      // Whatever the failed launch left goes with the teardown.
      auto d = unchanged(r);
      d.action = replica_action::tear_down;
      return d;
    }
    if (r.status != replica_status::provisioning)
      return keep("launch failure for a replica that is "
                  + std::string{to_string(r.status)});
    return fail(replica_status::failed_provision, e.reason);
  }

  replica_decision operator()(const ev::probe_answered& e) const {
    if (e.http_status >= 200 && e.http_status < 300)
      return passed();
    return probe_failed(e.probe + " answered HTTP "
                        + std::to_string(e.http_status));
  }

  replica_decision operator()(const ev::probe_unanswered& e) const {
    return probe_failed(e.why);
  }

  replica_decision passed() const {
    if (r.status != replica_status::starting
        && r.status != replica_status::ready
        && r.status != replica_status::not_ready)
      return keep("probe result for a replica that is "
                  + std::string{to_string(r.status)});
    auto d = move_to(replica_status::ready, "");
    if (d.next.first_ready_ms == 0)
      d.next.first_ready_ms = now;
    d.next.failing_since_ms = 0;
    return d;
  }

  replica_decision probe_failed(const std::string& why) const {
    switch (r.status) {
      case replica_status::starting: {
        if (now - r.started_at_ms >= probe.initial_delay_ms)
          return fail(replica_status::failed_initial_delay,
                      "not ready within the initial delay of "
                        + seconds_text(probe.initial_delay_ms)
                        + " (readiness_probe.initial_delay_seconds); last "
                          "probe: "
                        + why);
        auto d = move_to(replica_status::starting, why);
        if (d.next.failing_since_ms == 0)
          d.next.failing_since_ms = now;
        return d;
      }
      case replica_status::ready:
      case replica_status::not_ready: {
        auto since = r.failing_since_ms != 0 ? r.failing_since_ms : now;
        if (now - since >= probe.failure_window_ms)
          return fail(replica_status::failed_probing,
                      "failed probes for "
                        + seconds_text(probe.failure_window_ms)
                        + " (readiness_probe."
                          "consecutive_failure_threshold_timeout); last: "
                        + why);
        auto d = move_to(replica_status::not_ready, why);
        d.next.failing_since_ms = since;
        return d;
      }
      default:
        return keep("probe result for a replica that is "
                    + std::string{to_string(r.status)});
    }
  }

  replica_decision operator()(const ev::job_ended& e) const {
    if (r.status != replica_status::starting
        && r.status != replica_status::ready
        && r.status != replica_status::not_ready)
      return keep("job end of a replica that is "
                  + std::string{to_string(r.status)});
    return fail(replica_status::failed,
                "its job ended " + e.job_status
                  + (e.reason.empty() ? "" : ": " + e.reason));
  }

  replica_decision operator()(const ev::preempted& e) const {
    if (!live())
      return keep("preemption of a replica that is "
                  + std::string{to_string(r.status)});
    auto d = move_to(replica_status::preempted, e.reason);
    d.next.cause = teardown_cause::preemption;
    d.next.cluster_left = true;
    d.action = replica_action::tear_down;
    return d;
  }

  replica_decision operator()(const ev::teardown_requested& e) const {
    if (r.status == replica_status::pending) {
      // Nothing was launched: nothing to tear down.
      auto d = unchanged(r);
      d.next.cause = e.cause;
      d.action = replica_action::remove_record;
      return d;
    }
    if (!live()) {
      // Failed or already going: a user's removal drops the record once
      // the cluster is gone (at once when it already is).
      if (e.cause != teardown_cause::user)
        return keep("teardown of a replica that is already "
                    + std::string{to_string(r.status)});
      auto d = unchanged(r);
      d.next.cause = teardown_cause::user;
      d.action
        = r.cluster_left ? replica_action::none : replica_action::remove_record;
      if (r.status == replica_status::failed_cleanup) {
        // The user asked again: try the teardown once more.
        d.action = replica_action::tear_down;
      }
      return d;
    }
    auto d = move_to(replica_status::shutting_down, e.reason);
    d.next.cause = e.cause;
    d.next.cluster_left = true;
    d.drain = r.status == replica_status::ready
              || r.status == replica_status::not_ready;
    // A cluster still launching is torn down once its launch answers.
    d.action = r.status == replica_status::provisioning
                 ? replica_action::none
                 : replica_action::tear_down;
    return d;
  }

  replica_decision operator()(const ev::torn_down&) const {
    auto d = unchanged(r);
    d.next.cluster_left = false;
    switch (r.cause) {
      case teardown_cause::failure:
        if (r.status == replica_status::failed_cleanup)
          d.next.status = replica_status::failed; // it went after all
        return d; // the failure stays for `serve status`
      case teardown_cause::none:
        d.ignored = "teardown of a replica nobody tore down";
        return d;
      default:
        d.action = replica_action::remove_record;
        return d;
    }
  }

  replica_decision operator()(const ev::teardown_failed& e) const {
    auto d = move_to(replica_status::failed_cleanup,
                     "its cluster " + r.cluster
                       + " could not be torn down: " + e.reason
                       + "; run skyctl serve down --purge after removing it");
    d.next.cluster_left = true;
    return d;
  }
};

} // namespace

replica_decision decide_replica(const replica& r, const replica_event_t& e,
                                const probe_settings& probe, int64_t now_ms) {
  return std::visit(rules{r, probe, now_ms}, e);
}

} // namespace sky::optimizer
