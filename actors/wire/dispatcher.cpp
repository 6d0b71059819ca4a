#include "actors/wire/dispatcher.hpp"

#include <chrono>

#include "actors/cluster/cluster_registry.hpp"
#include "actors/stream/event_stream.hpp"
#include "actors/core/logging.hpp"
#include "actors/wire/replies.hpp"
#include "actors/core/timeouts.hpp"
#include "messages/body_reader.hpp"
#include "messages/msgpack_util.hpp"
#include "messages/protocol.hpp"
#include "messages/suggest.hpp"
#include "messages/version.hpp"

namespace sky::actors {

namespace {

using self_ptr = dispatcher_ptr;

int64_t wall_ms() {
  using namespace std::chrono;
  return duration_cast<milliseconds>(system_clock::now().time_since_epoch())
    .count();
}

int64_t rss_bytes() {
  long pages = 0;
  if (FILE* f = std::fopen("/proc/self/statm", "r")) {
    long size = 0;
    if (std::fscanf(f, "%ld %ld", &size, &pages) != 2)
      pages = 0;
    std::fclose(f);
  }
  return pages * 4096;
}

void open_events(self_ptr self, const reply_target& target,
                 const wire_request& req) {
  auto request = protocol::decode_events_request(req.body);
  if (!request) {
    target.fail(self, request.error());
    return;
  }
  // Linked: streams end with the dispatcher at shutdown.
  auto stream
    = self->spawn<caf::linked>(event_stream, target, self->state.deps.log,
                               std::move(*request), event_stream_limits{});
  self->monitor(stream);
  self->state.streams[{req.peer, req.id}] = stream;
}

caf::actor find_stream(self_ptr self, const std::string& peer,
                       uint64_t stream) {
  auto i = self->state.streams.find({peer, stream});
  return i == self->state.streams.end() ? caf::actor{} : i->second;
}

// Counts the durable snapshots under each prefix of `prefixes`, in order,
// then calls `done` with the counts.
void count_snapshots(self_ptr self, std::vector<std::string> prefixes,
                     std::vector<uint64_t> counts,
                     std::function<void(std::vector<uint64_t>)> done,
                     std::function<void(const caf::error&)> failed) {
  if (counts.size() == prefixes.size()) {
    done(std::move(counts));
    return;
  }
  auto prefix = prefixes[counts.size()];
  self
    ->request(self->state.deps.log, timeouts::log_read, snapshots_atom_v,
              prefix, count_atom_v)
    .then(
      [=](uint64_t n) mutable {
        counts.push_back(n);
        count_snapshots(self, prefixes, std::move(counts), done, failed);
      },
      [=](caf::error& err) { failed(err); });
}

// Adds what the start-up reconciliation found, then answers.
void add_reconcile_report(self_ptr self, const reply_target& target,
                          protocol::daemon_status st) {
  if (!self->state.deps.registry) {
    target.ok(self, protocol::encode(st));
    return;
  }
  self
    ->request(self->state.deps.registry, timeouts::actor_query,
              reconcile_atom_v)
    .then(
      [=](const reconcile_report& r) mutable {
        st.reconciled_at_ms = r.finished_at_ms;
        st.provider_clusters = r.provider_clusters;
        st.orphans = r.orphans_text();
        st.reconcile_problems = r.problems_text();
        target.ok(self, protocol::encode(st));
      },
      [=](caf::error& err) { target.fail(self, err); });
}

void daemon_status(self_ptr self, const reply_target& target) {
  self
    ->request(self->state.deps.log, timeouts::log_read, read_atom_v,
              uint64_t{0}, uint32_t{0})
    .then(
      [=](const event_page& page) {
        const auto& id = self->state.deps.identity;
        protocol::daemon_status st;
        st.version = sky::version;
        st.pid = id.pid;
        st.home = id.home;
        st.started_at_ms = id.started_at_ms;
        st.uptime_ms = wall_ms() - id.started_at_ms;
        st.first_seq = page.first_seq;
        st.last_seq = page.last_seq;
        st.rss_bytes = rss_bytes();
        count_snapshots(
          self, {"cluster.", "job.", "managed_job."}, {},
          [=](std::vector<uint64_t> counts) mutable {
            st.clusters = counts[0];
            st.jobs = counts[1];
            st.managed_jobs = counts[2];
            add_reconcile_report(self, target, std::move(st));
          },
          [=](const caf::error& err) { target.fail(self, err); });
      },
      [=](caf::error& err) { target.fail(self, err); });
}

// `annotate`: an operator's note in the event log ("maintenance starts").
// Answered with the note's seq once it is durable.
void annotate(self_ptr self, const reply_target& target,
              const wire_request& req) {
  auto body = body_reader::parse(req.body, "annotate request");
  if (!body) {
    target.fail(self, body.error());
    return;
  }
  auto text = body->str("text", "");
  auto entity = body->str("entity", "annotation");
  if (!text || !entity) {
    target.fail(self, !text ? text.error() : entity.error());
    return;
  }
  if (text->empty() || text->size() > 4096) {
    target.fail(self, make_error(errc::invalid_argument,
                                 "an annotation needs 1 to 4096 characters"));
    return;
  }
  event_draft draft;
  draft.entity = *entity;
  draft.kind = "annotation";
  draft.fields = map_writer{1}.add("text", *text).bytes();
  std::vector<event_draft> drafts{std::move(draft)};
  self
    ->request(self->state.deps.log, timeouts::log_append, append_atom_v,
              std::move(drafts))
    .then(
      [=](uint64_t seq) {
        target.ok(self, map_writer{1}.add("seq", seq).bytes());
      },
      [=](caf::error& err) { target.fail(self, err); });
}

void dispatch(self_ptr self, wire_request& req) {
  reply_target target{caf::actor_cast<caf::actor>(self->current_sender()),
                      req.peer, req.id};
  const auto& verb = req.verb;
  // Notifications (id 0) manage streams; `cancel` with an id is the job
  // verb (skyctl cancel).
  if (verb == "credit" && req.id == 0) {
    if (auto notice = protocol::decode_credit_notice(req.body))
      if (auto s = find_stream(self, req.peer, notice->stream))
        self->send(s, credit_atom_v, notice->n);
    return;
  }
  if (verb == "cancel" && req.id == 0) {
    if (auto stream = protocol::decode_cancel_notice(req.body))
      if (auto s = find_stream(self, req.peer, *stream))
        self->send(s, cancel_atom_v);
    return;
  }
  if (req.id == 0) {
    // Other notifications have no effect; nothing is answered.
    return;
  }
  if (verb == "events") {
    open_events(self, target, req);
  } else if (dispatch_cluster_verb(self, target, req)) {
    // served
  } else if (dispatch_sim_verb(self, target, req)) {
    // served
  } else if (dispatch_managed_job_verb(self, target, req)) {
    // served
  } else if (dispatch_serve_verb(self, target, req)) {
    // served
  } else if (verb == "annotate") {
    annotate(self, target, req);
  } else if (verb == "daemon.status") {
    daemon_status(self, target);
  } else if (verb == "shutdown") {
    target.ok(self, std::string{wire::nil_body()});
    self->send(self->state.deps.root, shutdown_atom_v);
  } else {
    target.fail(self, make_error(errc::unknown_verb,
                                 "skyd does not know the verb '" + verb + "'"
                                   + did_you_mean(verb, known_verbs()),
                                 "use a skyctl of the same release as skyd"));
  }
}

} // namespace

const std::vector<std::string>& known_verbs() {
  static const std::vector<std::string> verbs{
    "ping",         "status",        "events",     "annotate",    "credit",
    "cancel",       "launch",        "exec",       "stop",        "start",
    "down",         "autostop",      "queue",      "logs",        "optimize",
    "show_gpus",    "daemon.status", "shutdown",   "check",       "sim.preempt",
    "sim.capacity", "jobs.launch",   "jobs.queue", "jobs.cancel", "jobs.logs",
    "serve.up",    "serve.update",  "serve.status", "serve.down", "serve.logs"};
  return verbs;
}

void add_stream(dispatcher_ptr self, const wire_request& req,
                const caf::actor& stream) {
  self->monitor(stream);
  self->state.streams[{req.peer, req.id}] = stream;
}

caf::behavior dispatcher(self_ptr self, dispatcher_deps deps) {
  self->state.deps = std::move(deps);
  self->set_down_handler([=](caf::down_msg& dm) {
    auto& st = self->state;
    for (auto i = st.streams.begin(); i != st.streams.end(); ++i)
      if (i->second.address() == dm.source) {
        st.streams.erase(i);
        break;
      }
    if (st.streams.empty() && st.streams_closed) {
      st.streams_closed->deliver(caf::unit);
      st.streams_closed.reset();
    }
  });
  return {
    [=](wire_request& req) { dispatch(self, req); },
    [=](shutdown_atom) -> caf::result<void> {
      // End every stream with a final frame before the gateway closes.
      auto& st = self->state;
      if (st.streams.empty())
        return caf::unit;
      for (auto& [key, stream] : st.streams)
        self->send(stream, shutdown_atom_v);
      st.streams_closed = self->make_response_promise();
      return *st.streams_closed;
    },
    [=](peer_gone_atom, const std::string& peer) {
      auto& streams = self->state.streams;
      for (auto i = streams.lower_bound({peer, 0});
           i != streams.end() && i->first.first == peer; ++i)
        self->send(i->second, peer_gone_atom_v);
    },
  };
}

} // namespace sky::actors
