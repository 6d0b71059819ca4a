#include "actors/wire/gateway.hpp"

#include <sys/eventfd.h>
#include <sys/stat.h>
#include <unistd.h>

#include <zmq.hpp>

#include <caf/after.hpp>
#include <caf/exit_reason.hpp>
#include <caf/others.hpp>

#include "actors/core/logging.hpp"
#include "messages/msgpack_util.hpp"
#include "messages/version.hpp"

namespace sky::actors {

namespace {

// Frames past this many are counted and discarded without being stored, so
// a client cannot make the gateway buffer an unbounded multipart message.
constexpr size_t max_frames_kept = 3;

// How many inbound messages to take before looking at the mailbox again, so
// replies keep flowing under a flood of requests.
constexpr int inbound_burst = 256;

struct inbound {
  std::vector<zmq::message_t> frames;
  size_t frame_count = 0;
  size_t total_bytes = 0;
};

} // namespace

struct gateway::impl {
  gateway* self;
  zmq::context_t ctx{1};
  zmq::socket_t router{ctx, zmq::socket_type::router};
  zmq::socket_t pub{ctx, zmq::socket_type::pub};
  gateway_counters counters;
  std::shared_ptr<spdlog::logger> log = logger("gateway");
  bool running = true;
  std::string pong_body;

  explicit impl(gateway* s) : self(s) {
    pong_body = map_writer{2}
                  .add("version", std::string{sky::version})
                  .add("pid", static_cast<int64_t>(getpid()))
                  .bytes();
  }

  std::string bind() {
    const auto& st = self->settings_;
    try {
      router.set(zmq::sockopt::linger, 0);
      router.set(zmq::sockopt::router_mandatory, 1);
      // Hard bound: a frame above it makes ZeroMQ drop the connection.
      // Frames between the soft and the hard bound get an error reply.
      router.set(zmq::sockopt::maxmsgsize,
                 static_cast<int64_t>(st.max_message_bytes * 2 + 4096));
      router.set(zmq::sockopt::sndhwm, 100000);
      router.set(zmq::sockopt::rcvhwm, 100000);
      pub.set(zmq::sockopt::linger, 0);
      pub.set(zmq::sockopt::sndhwm, 100000);
      for (const auto& file : st.socket_files)
        std::filesystem::remove(file); // stale from a crash; we hold the lock
      router.bind(st.control_endpoint);
      pub.bind(st.events_endpoint);
      for (const auto& file : st.socket_files)
        ::chmod(file.c_str(), 0600);
    } catch (const zmq::error_t& e) {
      return "cannot bind " + st.control_endpoint + " / " + st.events_endpoint
             + ": " + e.what();
    } catch (const std::filesystem::filesystem_error& e) {
      return e.what();
    }
    return {};
  }

  void send_reply(const std::string& peer, uint64_t id, wire::status status,
                  std::string_view body) {
    auto envelope = wire::encode_reply_envelope(id, status);
    try {
      auto first
        = router.send(zmq::buffer(peer),
                      zmq::send_flags::sndmore | zmq::send_flags::dontwait);
      if (!first) {
        // The client stopped reading and its queue is full.
        ++counters.replies_dropped;
        log->warn("dropping a reply to a client that does not read "
                  "(request {})",
                  id);
        return;
      }
      router.send(zmq::buffer(envelope), zmq::send_flags::sndmore);
      router.send(zmq::buffer(body.data(), body.size()), zmq::send_flags::none);
      ++counters.replies;
    } catch (const zmq::error_t& e) {
      if (e.num() == EHOSTUNREACH) {
        // The client is gone: its streams can stop.
        self->send(self->dispatcher_, peer_gone_atom_v, peer);
        return;
      }
      log->error("reply to request {} failed: {}", id, e.what());
    }
  }

  void send_error(const std::string& peer, uint64_t id, const caf::error& err) {
    ++counters.bad_frames;
    auto info = describe(err);
    log->debug("rejecting a request ({}): {}", to_string(info.code),
               info.message);
    send_reply(peer, id, wire::status::error, wire::encode_error_body(info));
  }

  // Reads one whole multipart message; false when none is waiting.
  bool receive_one(inbound& in) {
    in.frames.clear();
    in.frame_count = 0;
    in.total_bytes = 0;
    while (true) {
      zmq::message_t frame;
      auto got
        = router.recv(frame, in.frame_count == 0 ? zmq::recv_flags::dontwait
                                                 : zmq::recv_flags::none);
      if (!got)
        return false;
      ++in.frame_count;
      in.total_bytes += frame.size();
      bool more = frame.more();
      if (in.frames.size() < max_frames_kept)
        in.frames.push_back(std::move(frame));
      if (!more)
        return true;
    }
  }

  void handle(inbound& in) {
    ++counters.requests;
    // ROUTER puts the peer's routing id first.
    std::string peer = in.frames[0].to_string();
    if (in.frame_count != 3) {
      send_error(peer, 0,
                 make_error(errc::bad_frame,
                            "expected 2 frames [envelope][body], got "
                              + std::to_string(in.frame_count - 1),
                            "send the envelope and the body as one "
                            "two-part message"));
      return;
    }
    auto env_bytes = in.frames[1].to_string_view();
    uint64_t id = 0;
    auto env = wire::decode_request_envelope(env_bytes, id);
    if (in.total_bytes > self->settings_.max_message_bytes) {
      send_error(
        peer, id,
        make_error(errc::message_too_large,
                   "request of " + std::to_string(in.total_bytes)
                     + " bytes exceeds the limit of "
                     + std::to_string(self->settings_.max_message_bytes),
                   "raise wire.max_message_bytes in config.yaml "
                   "or send less"));
      return;
    }
    if (!env) {
      send_error(peer, id, env.error());
      return;
    }
    if (env->verb == "ping") {
      if (env->id != 0)
        send_reply(peer, env->id, wire::status::ok, pong_body);
      return;
    }
    self->send(self->dispatcher_,
               wire_request{std::move(peer), env->id, std::move(env->verb),
                            in.frames[2].to_string()});
  }

  void publish(const event_batch& batch) {
    for (const auto& ev : *batch) {
      auto body = encode_event(ev);
      try {
        pub.send(zmq::buffer(ev.entity),
                 zmq::send_flags::sndmore | zmq::send_flags::dontwait);
        pub.send(zmq::buffer(body), zmq::send_flags::dontwait);
        ++counters.events_published;
      } catch (const zmq::error_t& e) {
        log->warn("publishing event {} failed: {}", ev.seq, e.what());
      }
    }
  }

  void drain_mailbox() {
    // Checking for mail first keeps the request path free of CAF's receive
    // machinery (a behavior and a zero timeout per call) when, as for every
    // ping, no actor has written to us. mailbox().empty() is safe here: this
    // thread is the mailbox's only consumer.
    bool empty = self->mailbox().empty();
    // Keep draining after shutdown too: replies queued before it still go.
    while (!empty) {
      self->receive(
        [&](wire_reply& r) { send_reply(r.peer, r.id, r.status, r.body); },
        [&](committed_atom, const event_batch& batch) { publish(batch); },
        [&](const event_page&) {
          // Our live subscription to the event log is in place.
        },
        [&](shutdown_atom) { running = false; },
        [&](caf::exit_msg& em) {
          running = false;
          self->fail_state(std::move(em.reason));
        },
        [&](caf::error& err) {
          log->error("gateway received an error: {}", describe(err).message);
        },
        caf::others >>
          [&](caf::message_view& msg) -> caf::result<caf::message> {
          log->warn("gateway ignores an unexpected message: {}",
                    caf::to_string(msg.content()));
          return caf::message{};
        },
        caf::after(std::chrono::seconds(0)) >> [&] { empty = true; });
      empty = empty || self->mailbox().empty();
    }
  }

  void run() {
    auto bind_error = bind();
    self->send(self->parent_, ready_atom_v, bind_error);
    if (!bind_error.empty()) {
      log->error("{}", bind_error);
      return;
    }
    log->info("serving {} (events on {})", self->settings_.control_endpoint,
              self->settings_.events_endpoint);
    self->send(caf::actor_cast<caf::actor>(self->log_), subscribe_atom_v,
               caf::actor_cast<caf::actor>(self), uint64_t{0}, uint32_t{0});
    zmq::pollitem_t items[] = {
      {router.handle(), 0, ZMQ_POLLIN, 0},
      {nullptr, self->wakeup_fd_, ZMQ_POLLIN, 0},
    };
    inbound in;
    while (running) {
      try {
        zmq::poll(items, 2, std::chrono::milliseconds{-1});
      } catch (const zmq::error_t& e) {
        if (e.num() == EINTR)
          continue;
        log->error("poll failed: {}", e.what());
        break;
      }
      if (items[1].revents & ZMQ_POLLIN) {
        uint64_t ignored;
        [[maybe_unused]] auto n
          = ::read(self->wakeup_fd_, &ignored, sizeof(ignored));
      }
      // Always look at the mailbox: a wakeup may have been consumed by an
      // earlier read while more messages arrived.
      drain_mailbox();
      for (int i = 0; i < inbound_burst && running && receive_one(in); ++i)
        handle(in);
      if (items[0].revents & ZMQ_POLLIN)
        items[0].revents = 0;
    }
    // Let replies already queued (final stream frames) reach their clients.
    router.set(zmq::sockopt::linger, 2000);
    pub.set(zmq::sockopt::linger, 500);
    router.close();
    pub.close();
    for (const auto& file : self->settings_.socket_files)
      std::filesystem::remove(file);
    log->info("gateway stopped ({} requests, {} bad frames, {} events "
              "published)",
              counters.requests, counters.bad_frames,
              counters.events_published);
  }
};

gateway::gateway(caf::actor_config& cfg, gateway_settings settings,
                 caf::actor dispatcher, event_log_actor log, caf::actor parent)
  : caf::blocking_actor(cfg), settings_(std::move(settings)),
    dispatcher_(std::move(dispatcher)), log_(std::move(log)),
    parent_(std::move(parent)), host_(&system()) {
  wakeup_fd_ = ::eventfd(0, EFD_NONBLOCK | EFD_CLOEXEC);
}

gateway::~gateway() {
  if (wakeup_fd_ >= 0)
    ::close(wakeup_fd_);
}

void gateway::enqueue(caf::mailbox_element_ptr ptr, caf::execution_unit* host) {
  caf::blocking_actor::enqueue(std::move(ptr), host);
  uint64_t one = 1;
  [[maybe_unused]] auto n = ::write(wakeup_fd_, &one, sizeof(one));
}

void gateway::act() {
  // CAF 0.17 leaves a blocking actor the execution unit of whoever spawned
  // it, a scheduler worker: every send from this thread went into that
  // worker's own queue without waking it, so a request waited until the
  // worker happened to look (up to 10 ms once it slept). Through a scoped
  // unit, sends go to the scheduler, which wakes a worker.
  context(&host_);
  impl state{this};
  state.run();
}

} // namespace sky::actors
