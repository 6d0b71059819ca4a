#pragma once

// A CAF actor system on the deterministic test_coordinator: actors run only
// when the test calls run(), and time moves only with advance_time().

#include <caf/actor_system.hpp>
#include <caf/actor_system_config.hpp>
#include <caf/scheduler/test_coordinator.hpp>
#include <caf/scoped_actor.hpp>
#include <spdlog/spdlog.h>

#include "messages/caf/type_ids.hpp"

namespace sky::testing {

inline caf::actor_system_config& deterministic_config() {
  static caf::actor_system_config cfg = [] {
    caf::actor_system_config c;
    c.set("scheduler.policy", caf::atom("testing"));
    c.set("logger.verbosity", caf::atom("quiet"));
    c.add_message_types<caf::id_block::sky>();
    // Actors log through spdlog; tests only want to see problems.
    spdlog::set_level(spdlog::level::warn);
    return c;
  }();
  return cfg;
}

struct deterministic_system {
  caf::actor_system sys{deterministic_config()};
  caf::scheduler::test_coordinator& sched
    = dynamic_cast<caf::scheduler::test_coordinator&>(sys.scheduler());

  // Pending jobs (e.g. down messages from scoped actors that already went
  // away) must run, or the system would wait for them forever on exit.
  ~deterministic_system() { sched.run(); }

  void run() { sched.run(); }
  void advance(caf::timespan t) {
    sched.advance_time(t);
    sched.run();
  }
};

} // namespace sky::testing
