#include "actors/stream/event_stream.hpp"

#include <algorithm>

#include "actors/core/logging.hpp"

namespace sky::actors {

namespace {

using self_ptr = caf::stateful_actor<event_stream_state>*;

void pump(self_ptr self);

void send_frame(self_ptr self, std::vector<event> events) {
  auto& st = self->state;
  protocol::events_frame frame{std::move(events), st.cursor};
  st.stream.send(self, protocol::encode(frame));
}

void finish(self_ptr self) {
  auto& st = self->state;
  st.stream.finish(
    self, protocol::encode(protocol::events_frame{{}, st.cursor}), [&] {
      if (st.live)
        self->send(caf::actor_cast<caf::actor>(st.log), unsubscribe_atom_v,
                   caf::actor_cast<caf::actor>(self));
    });
}

void fail(self_ptr self, const caf::error& err) {
  self->state.stream.fail(self, err);
}

void on_page(self_ptr self, event_page& page) {
  auto& st = self->state;
  st.reading = false;
  if (st.cursor > 0 && page.first_seq > st.cursor + 1) {
    // Retention removed events this stream still owes: say so instead of
    // skipping them silently (a subscriber counts on having every event).
    auto oldest = std::to_string(page.first_seq);
    fail(self, make_error(errc::not_found,
                          "events " + std::to_string(st.cursor + 1) + ".."
                            + std::to_string(page.first_seq - 1)
                            + " were removed by retention (events.keep_events, "
                              "events.keep_days); the oldest kept is "
                            + oldest,
                          "resume from there, accepting the gap: skyctl events "
                          "--since "
                            + std::to_string(page.first_seq - 1)));
    return;
  }
  std::vector<event> matched;
  for (auto& ev : page.events) {
    if (ev.seq <= st.cursor)
      continue;
    st.cursor = ev.seq;
    if (topic_matches(ev.entity, st.request.topic))
      matched.push_back(std::move(ev));
  }
  if (!matched.empty())
    send_frame(self, std::move(matched));
  if (st.request.follow) {
    st.live = page.live;
  } else if (page.events.size() < st.limits.page_size) {
    finish(self);
    return;
  }
  pump(self);
}

void pump(self_ptr self) {
  auto& st = self->state;
  while (st.stream.credits > 0 && !st.buffer.empty()) {
    auto n = std::min<size_t>(st.buffer.size(), st.limits.page_size);
    std::vector<event> events(
      std::make_move_iterator(st.buffer.begin()),
      std::make_move_iterator(st.buffer.begin() + static_cast<long>(n)));
    st.buffer.erase(st.buffer.begin(),
                    st.buffer.begin() + static_cast<long>(n));
    send_frame(self, std::move(events));
  }
  if (st.stream.credits == 0 || st.live || st.reading)
    return;
  st.reading = true;
  auto on_error = [=](caf::error& err) { fail(self, err); };
  if (st.request.follow)
    self
      ->request(st.log, caf::infinite, subscribe_atom_v,
                caf::actor_cast<caf::actor>(self), st.cursor + 1,
                st.limits.page_size)
      .then([=](event_page& page) { on_page(self, page); }, on_error);
  else
    self
      ->request(st.log, caf::infinite, read_atom_v, st.cursor + 1,
                st.limits.page_size)
      .then([=](event_page& page) { on_page(self, page); }, on_error);
}

void on_live(self_ptr self, const event_batch& batch) {
  auto& st = self->state;
  if (!st.live)
    return; // a push sent before our unsubscribe arrived
  for (const auto& ev : *batch) {
    if (ev.seq <= st.cursor)
      continue;
    st.cursor = ev.seq;
    if (topic_matches(ev.entity, st.request.topic))
      st.buffer.push_back(ev);
  }
  if (st.buffer.size() > st.limits.max_buffered) {
    // The client is slower than the event rate: drop what we hold and read
    // it again from the log once credit arrives.
    st.cursor = st.buffer.front().seq - 1;
    st.buffer.clear();
    st.live = false;
    self->send(caf::actor_cast<caf::actor>(st.log), unsubscribe_atom_v,
               caf::actor_cast<caf::actor>(self));
  }
  pump(self);
}

} // namespace

caf::behavior event_stream(self_ptr self, reply_target target,
                           event_log_actor log,
                           protocol::events_request request,
                           event_stream_limits limits) {
  auto& st = self->state;
  st.stream = credit_stream{std::move(target), request.window};
  st.log = std::move(log);
  st.request = std::move(request);
  st.limits = limits;
  st.cursor = st.request.since;
  pump(self);
  if (st.request.follow)
    heartbeat_after(self, st.limits.heartbeat);
  return {
    [=](committed_atom, const event_batch& batch) { on_live(self, batch); },
    [=](credit_atom, uint32_t n) {
      self->state.stream.grant(n);
      pump(self);
    },
    [=](cancel_atom) { finish(self); },
    [=](shutdown_atom) {
      // skyd is stopping: deliver what is buffered, then end the stream
      // with an error that says where to resume.
      auto& s = self->state;
      while (!s.buffer.empty()) {
        auto n = std::min<size_t>(s.buffer.size(), s.limits.page_size);
        std::vector<event> events(
          std::make_move_iterator(s.buffer.begin()),
          std::make_move_iterator(s.buffer.begin() + static_cast<long>(n)));
        s.buffer.erase(s.buffer.begin(),
                       s.buffer.begin() + static_cast<long>(n));
        send_frame(self, std::move(events));
      }
      auto resume = std::to_string(s.cursor);
      fail(self, make_error(errc::unavailable,
                            "skyd is shutting down; the stream ended after "
                            "event "
                              + resume,
                            "resume with `skyctl events --follow --since "
                              + resume + "`"));
    },
    [=](peer_gone_atom) {
      auto& s = self->state;
      if (s.live)
        self->send(caf::actor_cast<caf::actor>(s.log), unsubscribe_atom_v,
                   caf::actor_cast<caf::actor>(self));
      self->quit();
    },
    [=](heartbeat_atom) {
      auto& s = self->state;
      // A frame since the last heartbeat proved skyd alive already.
      if (!s.stream.sent_since_heartbeat)
        s.stream.heartbeat(self);
      s.stream.sent_since_heartbeat = false;
      heartbeat_after(self, s.limits.heartbeat);
    },
  };
}

} // namespace sky::actors
