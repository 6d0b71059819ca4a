#include "actors/core/event_log_actor.hpp"

#include <algorithm>

#include "actors/core/logging.hpp"

namespace sky::actors {

namespace {

using self_ptr = event_log_actor::stateful_pointer<event_log_state>;

void commit_queued(self_ptr self) {
  auto& st = self->state;
  st.flush_scheduled = false;
  if (st.queued.empty())
    return;
  // Take at most max_group_events, but never split one append request.
  size_t take_events = 0;
  size_t take_waiters = 0;
  while (
    take_waiters < st.waiting.size()
    && (take_events == 0
        || take_events + st.waiting[take_waiters].count <= max_group_events)) {
    take_events += st.waiting[take_waiters].count;
    ++take_waiters;
  }
  std::vector<event_draft> group;
  if (take_events == st.queued.size()) {
    group.swap(st.queued);
  } else {
    auto split = st.queued.begin() + static_cast<long>(take_events);
    group.assign(std::make_move_iterator(st.queued.begin()),
                 std::make_move_iterator(split));
    st.queued.erase(st.queued.begin(), split);
  }
  std::vector<event_log_state::pending_append> waiters(
    std::make_move_iterator(st.waiting.begin()),
    std::make_move_iterator(st.waiting.begin()
                            + static_cast<long>(take_waiters)));
  st.waiting.erase(st.waiting.begin(),
                   st.waiting.begin() + static_cast<long>(take_waiters));
  if (!st.queued.empty()) {
    st.flush_scheduled = true;
    self->send(self, flush_atom_v);
  }
  auto committed = st.log->append(std::move(group));
  if (!committed) {
    logger("events")->error("group commit of {} events failed: {}", take_events,
                            describe(committed.error()).message);
    for (auto& w : waiters)
      w.promise.deliver(committed.error());
    return;
  }
  ++st.groups_committed;
  st.events_committed += committed->size();
  uint64_t seq
    = committed->empty() ? st.log->last_seq() : committed->front().seq - 1;
  // Publish before answering: whatever an appender does after its ack (for
  // example shutting down) must happen after subscribers have the events.
  auto batch
    = std::make_shared<const std::vector<event>>(std::move(*committed));
  for (const auto& sub : st.subscribers)
    caf::anon_send(sub, committed_atom_v, batch);
  // Answer each appender with the seq of its own last event.
  for (auto& w : waiters) {
    seq += w.count;
    w.promise.deliver(seq);
  }
}

result<event_page> read_page(self_ptr self, uint64_t from, uint32_t max) {
  auto& log = *self->state.log;
  event_page page;
  if (max > 0) {
    auto events = log.read(from, max);
    if (!events)
      return events.error();
    page.events = std::move(*events);
  }
  page.last_seq = log.last_seq();
  page.first_seq = log.first_seq();
  return page;
}

// Deletes the events the retention policy lets go. Snapshots stay, so
// current state is whole; subscribers asking for trimmed history are told
// (actors/stream/event_stream).
void apply_retention(self_ptr self) {
  auto& st = self->state;
  const auto& policy = st.settings.retention;
  if (!policy.enabled() || !st.settings.now_ms)
    return;
  auto& log = *st.log;
  auto keep = storage::first_to_keep(
    policy, log.first_seq(), log.last_seq(), st.settings.now_ms(),
    [&log](uint64_t seq) -> std::optional<int64_t> {
      auto one = log.read(seq, 1);
      if (!one || one->empty() || one->front().seq != seq)
        return std::nullopt;
      return one->front().time_ms;
    });
  if (keep <= log.first_seq())
    return;
  auto removed = log.trim_before(keep);
  if (!removed) {
    logger("events")->warn("retention: trimming events before {} failed: {}",
                           keep, describe(removed.error()).message);
    return;
  }
  st.events_trimmed += *removed;
  logger("events")->info(
    "retention: removed {} old events; the log now holds {}..{}", *removed,
    log.first_seq(), log.last_seq());
}

} // namespace

event_log_actor::behavior_type
retaining_event_log(self_ptr self, std::shared_ptr<storage::event_log> log,
                    event_log_settings settings) {
  self->state.settings = std::move(settings);
  auto behavior = event_log(self, std::move(log));
  if (self->state.settings.retention.enabled()) {
    apply_retention(self);
    self->delayed_send(self, self->state.settings.retention_interval,
                       tick_atom_v);
  }
  return behavior;
}

event_log_actor::behavior_type
event_log(self_ptr self, std::shared_ptr<storage::event_log> log) {
  self->state.log = std::move(log);
  self->set_down_handler([=](caf::down_msg& dm) {
    auto& subs = self->state.subscribers;
    subs.erase(std::remove_if(
                 subs.begin(), subs.end(),
                 [&](const caf::actor& a) { return a.address() == dm.source; }),
               subs.end());
  });
  return {
    [=](append_atom,
        std::vector<event_draft>& drafts) -> caf::result<uint64_t> {
      // Validate per request so one bad append cannot fail a whole group.
      for (const auto& d : drafts)
        if (auto ok = validate_entity(d.entity); !ok)
          return ok.error();
      auto& st = self->state;
      if (drafts.empty())
        return st.log->last_seq() + st.queued.size();
      auto promise = self->make_response_promise<uint64_t>();
      st.waiting.push_back({drafts.size(), promise});
      st.queued.insert(st.queued.end(), std::make_move_iterator(drafts.begin()),
                       std::make_move_iterator(drafts.end()));
      if (!st.flush_scheduled) {
        // The flush message queues behind every append already in the
        // mailbox, so they all join this group.
        st.flush_scheduled = true;
        self->send(self, flush_atom_v);
      }
      return promise;
    },
    [=](flush_atom) { commit_queued(self); },
    [=](read_atom, uint64_t from, uint32_t max) -> caf::result<event_page> {
      auto page = read_page(self, from, max);
      if (!page)
        return page.error();
      return std::move(*page);
    },
    [=](subscribe_atom, caf::actor& subscriber, uint64_t from,
        uint32_t max) -> caf::result<event_page> {
      auto& st = self->state;
      event_page page;
      if (from != 0) {
        auto read = read_page(self, from, max);
        if (!read)
          return read.error();
        page = std::move(*read);
      } else {
        page.last_seq = st.log->last_seq();
        page.first_seq = st.log->first_seq();
      }
      uint64_t covered
        = page.events.empty() ? from - 1 : page.events.back().seq;
      page.live = from == 0 || covered >= page.last_seq;
      if (page.live
          && std::find(st.subscribers.begin(), st.subscribers.end(), subscriber)
               == st.subscribers.end()) {
        st.subscribers.push_back(subscriber);
        self->monitor(subscriber);
      }
      return page;
    },
    [=](unsubscribe_atom, caf::actor& subscriber) {
      auto& subs = self->state.subscribers;
      subs.erase(std::remove(subs.begin(), subs.end(), subscriber), subs.end());
      self->demonitor(subscriber);
    },
    [=](snapshots_atom, std::string& prefix) -> caf::result<snapshot_list> {
      auto snaps = self->state.log->load_snapshots(prefix);
      if (!snaps)
        return snaps.error();
      return std::move(*snaps);
    },
    [=](snapshots_atom, std::string& entity,
        caf::get_atom) -> caf::result<snapshot_list> {
      auto snap = self->state.log->load_snapshot(entity);
      if (!snap)
        return snap.error();
      snapshot_list out;
      if (*snap)
        out.emplace_back(std::move(entity), std::move(**snap));
      return out;
    },
    [=](snapshots_atom, std::string& prefix,
        count_atom) -> caf::result<uint64_t> {
      auto n = self->state.log->count_snapshots(prefix);
      if (!n)
        return n.error();
      return *n;
    },
    [=](drain_atom) -> uint64_t {
      while (!self->state.queued.empty())
        commit_queued(self);
      return self->state.log->last_seq();
    },
    [=](tick_atom) {
      apply_retention(self);
      if (self->state.settings.retention.enabled())
        self->delayed_send(self, self->state.settings.retention_interval,
                           tick_atom_v);
    },
  };
}

} // namespace sky::actors
