#pragma once

// Blocking work (provider calls, process spawning, file I/O) must never run
// on CAF's scheduler threads. A worker pool is a small set of detached
// actors, each on its own thread, fed from one queue: an idle worker takes
// the next task, so a slow call never holds up the others behind it.
//
// Use run_blocking<T>(self, pool, fn, on_done): `fn` runs on a worker and
// returns result<T>; `on_done(result<T>)` then runs in the calling actor.

#include <deque>
#include <functional>
#include <memory>
#include <optional>

#include <caf/event_based_actor.hpp>
#include <caf/response_promise.hpp>
#include <caf/stateful_actor.hpp>

#include "messages/caf/type_ids.hpp"

namespace sky::actors {

/// A closure for a worker. Local only: it never crosses a process.
struct blocking_task {
  std::function<void()> fn;
};

} // namespace sky::actors

CAF_ALLOW_UNSAFE_MESSAGE_TYPE(sky::actors::blocking_task)

namespace sky::actors {

struct worker_pool_state {
  static inline const char* name = "worker_pool";

  struct queued {
    blocking_task task;
    caf::response_promise promise;
  };

  std::vector<caf::actor> idle;
  std::deque<queued> waiting;
  /// For tests and `daemon status`.
  uint64_t completed = 0;
};

/// A pool of `size` detached workers; size 0 runs every task inline in the
/// pool actor (deterministic tests with fakes that do no real I/O).
caf::behavior worker_pool(caf::stateful_actor<worker_pool_state>* self,
                          size_t size);

/// Runs `fn` (returning result<T>) on a worker of `pool`, then calls
/// `on_done(result<T>)` in `self`'s context.
template <class T, class Self, class Fn, class OnDone>
void run_blocking(Self* self, const caf::actor& pool, Fn fn, OnDone on_done) {
  auto slot = std::make_shared<std::optional<result<T>>>();
  blocking_task task{[fn = std::move(fn), slot]() mutable {
    try {
      slot->emplace(fn());
    } catch (const std::exception& e) {
      // A bug in blocking code must not kill the worker thread.
      slot->emplace(make_error(
        errc::internal, std::string{"blocking task threw: "} + e.what()));
    }
  }};
  self->request(pool, caf::infinite, std::move(task))
    .then(
      [slot, on_done](done_atom) mutable {
        if (*slot)
          on_done(std::move(**slot));
        else
          on_done(result<T>{make_error(errc::internal, "task lost")});
      },
      [on_done](caf::error& err) mutable { on_done(result<T>{err}); });
}

} // namespace sky::actors
