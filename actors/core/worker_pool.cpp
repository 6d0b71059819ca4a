#include "actors/core/worker_pool.hpp"

#include <caf/actor_system.hpp>

namespace sky::actors {

namespace {

using pool_ptr = caf::stateful_actor<worker_pool_state>*;

// One worker: runs a task and tells the pool it is free again.
caf::behavior worker(caf::event_based_actor*) {
  return {
    [=](blocking_task& task) -> done_atom {
      task.fn();
      return done_atom_v;
    },
  };
}

void dispatch(pool_ptr self) {
  auto& st = self->state;
  while (!st.idle.empty() && !st.waiting.empty()) {
    auto w = st.idle.back();
    st.idle.pop_back();
    auto job = std::move(st.waiting.front());
    st.waiting.pop_front();
    self->request(w, caf::infinite, std::move(job.task))
      .then(
        [=, promise = job.promise](done_atom) mutable {
          promise.deliver(done_atom_v);
          ++self->state.completed;
          self->state.idle.push_back(w);
          dispatch(self);
        },
        [=, promise = job.promise](caf::error& err) mutable {
          promise.deliver(err);
          self->state.idle.push_back(w);
          dispatch(self);
        });
  }
}

} // namespace

caf::behavior worker_pool(pool_ptr self, size_t size) {
  if (size == 0) {
    // Inline mode for deterministic tests: tasks run in the pool actor
    // itself, on CAF's test scheduler, in message order.
    return {
      [](blocking_task& task) {
        task.fn();
        return done_atom_v;
      },
    };
  }
  for (size_t i = 0; i < size; ++i)
    self->state.idle.push_back(
      self->spawn<caf::detached + caf::linked>(worker));
  return {
    [=](blocking_task& task) {
      auto promise = self->make_response_promise();
      self->state.waiting.push_back({std::move(task), promise});
      dispatch(self);
      return promise;
    },
  };
}

} // namespace sky::actors
