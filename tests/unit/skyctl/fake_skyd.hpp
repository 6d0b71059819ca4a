#pragma once

// A stand-in for skyd in skyctl's tests: it holds the instance lock of a
// temporary SKYD_HOME (so skyctl sees a running daemon and never starts
// one) and answers on its control socket (a ZeroMQ ROUTER on ipc://) with
// canned frames built with messages/wire.hpp. Every request is recorded,
// notifications (credit, cancel) separately.

#include <atomic>
#include <chrono>
#include <filesystem>
#include <functional>
#include <map>
#include <mutex>
#include <optional>
#include <string>
#include <thread>
#include <vector>

#include <zmq.hpp>

#include "messages/instance_lock.hpp"
#include "messages/msgpack_util.hpp"
#include "messages/paths.hpp"
#include "messages/protocol.hpp"
#include "messages/wire.hpp"
#include "tests/support/test_support.hpp"

namespace sky::testing {

class fake_skyd {
public:
  struct request {
    uint64_t id = 0;
    std::string verb;
    std::string body;
  };

  /// One reply frame; `after` runs once it is sent (e.g. to press Ctrl-C).
  struct reply {
    wire::status status = wire::status::ok;
    std::string body;
    std::function<void()> after;
  };

  using handler = std::function<std::vector<reply>(const request&)>;

  static reply ok(std::string body) {
    return {wire::status::ok, std::move(body), {}};
  }
  static reply more(std::string body) {
    return {wire::status::more, std::move(body), {}};
  }
  static reply heartbeat() {
    return {wire::status::more, std::string{wire::nil_body()}, {}};
  }
  static reply error(errc code, std::string message, std::string hint = {}) {
    return {wire::status::error,
            wire::encode_error_body(
              error_info{code, std::move(message), std::move(hint)}),
            {}};
  }

  fake_skyd() : dir_("skyctl-t") {
    std::filesystem::create_directories(layout().run_dir());
    auto lock = instance_lock::acquire(layout().lock_file());
    if (!lock)
      throw std::runtime_error("fake_skyd: cannot take the instance lock");
    lock_.emplace(std::move(*lock));
    socket_.set(zmq::sockopt::linger, 0);
    socket_.bind(home_layout::ipc_endpoint(layout().control_socket()));
    thread_ = std::thread([this] { serve(); });
  }

  ~fake_skyd() {
    stop_ = true;
    thread_.join();
  }

  home_layout layout() const { return home_layout{dir_.path()}; }
  std::string home() const { return dir_.path().string(); }

  /// Answers `verb` with what `h` returns (verbs without a handler get
  /// skyd's unknown_verb error).
  void on(const std::string& verb, handler h) {
    std::lock_guard<std::mutex> guard{mutex_};
    handlers_[verb] = std::move(h);
  }

  /// Answers `verb` with one `ok` frame.
  void reply_ok(const std::string& verb, std::string body) {
    on(verb, [body](const request&) { return std::vector<reply>{ok(body)}; });
  }

  /// When a `cancel` notice for a stream arrives, end that stream with
  /// this final body (as skyd answers a cancelled stream).
  void end_cancelled_streams_with(std::string body) {
    std::lock_guard<std::mutex> guard{mutex_};
    cancel_reply_ = std::move(body);
  }

  std::vector<request> requests() const {
    std::lock_guard<std::mutex> guard{mutex_};
    return requests_;
  }

  std::vector<request> notifications() const {
    std::lock_guard<std::mutex> guard{mutex_};
    return notifications_;
  }

  /// The body of the only request of `verb` (fails the test otherwise).
  std::optional<std::string> body_of(const std::string& verb) const {
    std::optional<std::string> found;
    for (const auto& r : requests())
      if (r.verb == verb) {
        if (found)
          return std::nullopt;
        found = r.body;
      }
    return found;
  }

  size_t count(const std::string& verb) const {
    size_t n = 0;
    for (const auto& r : requests())
      n += r.verb == verb;
    return n;
  }

private:
  void send(const std::string& peer, uint64_t id, const reply& r) {
    auto env = wire::encode_reply_envelope(id, r.status);
    socket_.send(zmq::buffer(peer), zmq::send_flags::sndmore);
    socket_.send(zmq::buffer(env), zmq::send_flags::sndmore);
    socket_.send(zmq::buffer(r.body), zmq::send_flags::none);
  }

  void serve() {
    while (!stop_) {
      zmq::pollitem_t item{socket_.handle(), 0, ZMQ_POLLIN, 0};
      zmq::poll(&item, 1, std::chrono::milliseconds{20});
      if ((item.revents & ZMQ_POLLIN) == 0)
        continue;
      std::vector<zmq::message_t> parts;
      while (true) {
        zmq::message_t part;
        (void) socket_.recv(part, zmq::recv_flags::none);
        bool more = part.more();
        parts.push_back(std::move(part));
        if (!more)
          break;
      }
      if (parts.size() != 3)
        continue;
      const std::string peer = parts[0].to_string();
      uint64_t id = 0;
      auto env = wire::decode_request_envelope(parts[1].to_string_view(), id);
      if (!env)
        continue;
      request req{env->id, env->verb, parts[2].to_string()};
      if (req.id == 0) {
        handle_notification(peer, req);
        continue;
      }
      handler h;
      {
        std::lock_guard<std::mutex> guard{mutex_};
        requests_.push_back(req);
        if (auto it = handlers_.find(req.verb); it != handlers_.end())
          h = it->second;
      }
      std::vector<reply> replies
        = h ? h(req)
            : std::vector<reply>{
              error(errc::unknown_verb,
                    "skyd does not know the verb '" + req.verb + "'",
                    "use a skyctl of the same release as "
                    "skyd")};
      for (const auto& r : replies) {
        send(peer, req.id, r);
        if (r.after)
          r.after();
      }
    }
  }

  void handle_notification(const std::string& peer, const request& req) {
    std::optional<std::string> final_body;
    {
      std::lock_guard<std::mutex> guard{mutex_};
      notifications_.push_back(req);
      if (req.verb == "cancel")
        final_body = cancel_reply_;
    }
    if (!final_body)
      return;
    if (auto stream = protocol::decode_cancel_notice(req.body))
      send(peer, *stream, ok(*final_body));
  }

  temp_dir dir_;
  std::optional<instance_lock> lock_;
  zmq::context_t ctx_{1};
  zmq::socket_t socket_{ctx_, zmq::socket_type::router};
  std::thread thread_;
  std::atomic<bool> stop_{false};
  mutable std::mutex mutex_;
  std::map<std::string, handler> handlers_;
  std::optional<std::string> cancel_reply_;
  std::vector<request> requests_;
  std::vector<request> notifications_;
};

} // namespace sky::testing
