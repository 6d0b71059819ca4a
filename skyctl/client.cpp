#include "skyctl/client.hpp"

#include <zmq.hpp>

#include "messages/protocol.hpp"

namespace sky::client {

using clock = std::chrono::steady_clock;

namespace {

// A reply as the reader of its stream sees it: skyd's error as an error.
result<frame> to_frame(const wire::reply_envelope& env, std::string_view body) {
  if (env.status != wire::status::error)
    return frame{env.status, std::string{body}};
  auto info = wire::decode_error_body(body);
  if (!info)
    return info.error();
  return to_error(*info);
}

} // namespace

connection::connection() = default;
connection::connection(connection&&) noexcept = default;
// Not defaulted: member-wise assignment would replace the context before
// the socket, and terminating a context blocks until its sockets close.
connection& connection::operator=(connection&& other) noexcept {
  if (this != &other) {
    if (socket_)
      socket_->close();
    socket_ = std::move(other.socket_);
    ctx_ = std::move(other.ctx_);
    // Everything else the connection tracks (ids, streams, parked frames).
    next_id_ = other.next_id_;
    streams_ = std::move(other.streams_);
    parked_ = std::move(other.parked_);
  }
  return *this;
}

connection::~connection() {
  if (socket_)
    socket_->close();
}

result<connection> connection::open(const std::string& endpoint) {
  connection c;
  try {
    c.ctx_ = std::make_unique<zmq::context_t>(1);
    c.socket_
      = std::make_unique<zmq::socket_t>(*c.ctx_, zmq::socket_type::dealer);
    c.socket_->set(zmq::sockopt::linger, 0);
    c.socket_->connect(endpoint);
  } catch (const zmq::error_t& e) {
    return make_error(errc::unavailable,
                      "cannot connect to " + endpoint + ": " + e.what());
  }
  return c;
}

result<void> connection::send_raw(std::string_view envelope,
                                  std::string_view body) {
  try {
    socket_->send(zmq::buffer(envelope.data(), envelope.size()),
                  zmq::send_flags::sndmore);
    socket_->send(zmq::buffer(body.data(), body.size()), zmq::send_flags::none);
  } catch (const zmq::error_t& e) {
    return make_error(errc::unavailable,
                      std::string{"sending to skyd failed: "} + e.what());
  }
  return {};
}

result<void> connection::send(uint64_t id, std::string_view verb,
                              std::string_view body) {
  return send_raw(wire::encode_request_envelope(id, verb),
                  body.empty() ? wire::nil_body() : body);
}

result<frame> connection::receive(uint64_t id,
                                  std::chrono::milliseconds timeout) {
  if (auto p = parked_.find(id); p != parked_.end()) {
    auto got = std::move(p->second.front());
    p->second.pop_front();
    if (p->second.empty())
      parked_.erase(p);
    return got;
  }
  auto deadline = clock::now() + timeout;
  while (true) {
    auto left = std::chrono::duration_cast<std::chrono::milliseconds>(
      deadline - clock::now());
    if (left.count() < 0)
      left = std::chrono::milliseconds{0};
    zmq::pollitem_t item{socket_->handle(), 0, ZMQ_POLLIN, 0};
    try {
      zmq::poll(&item, 1, left);
    } catch (const zmq::error_t& e) {
      if (e.num() == EINTR)
        return make_error(errc::cancelled, "interrupted");
      return make_error(errc::unavailable, e.what());
    }
    if ((item.revents & ZMQ_POLLIN) == 0)
      return make_error(
        errc::timeout,
        "skyd did not answer within "
          + std::to_string(timeout.count() / 1000.0).substr(0, 4) + " s",
        "check `skyctl daemon status` and the log "
        "(`skyctl daemon logs`)");
    std::vector<zmq::message_t> parts;
    try {
      while (true) {
        zmq::message_t part;
        if (!socket_->recv(part, zmq::recv_flags::none))
          break;
        bool more = part.more();
        parts.push_back(std::move(part));
        if (!more)
          break;
      }
    } catch (const zmq::error_t& e) {
      return make_error(errc::unavailable, e.what());
    }
    if (parts.size() != 2)
      return make_error(errc::bad_frame, "skyd sent a reply of "
                                           + std::to_string(parts.size())
                                           + " frames");
    auto env = wire::decode_reply_envelope(parts[0].to_string_view());
    if (!env)
      return env.error();
    if (env->id != id && env->id != 0) {
      if (streams_.count(env->id) > 0) {
        parked_[env->id].push_back(to_frame(*env, parts[1].to_string_view()));
        if (env->status == wire::status::error)
          streams_.erase(env->id); // an error ends a stream
      }
      // else: a late reply to an earlier request that timed out
      continue;
    }
    if (env->status == wire::status::error) {
      // An error ends a stream whatever its code (skyd may end one with
      // `cancelled`, which must not pass for a local interruption).
      streams_.erase(id);
      auto info = wire::decode_error_body(parts[1].to_string_view());
      if (!info)
        return info.error();
      return to_error(*info);
    }
    return frame{env->status, parts[1].to_string()};
  }
}

result<frame> connection::call(std::string_view verb, std::string_view body,
                               std::chrono::milliseconds timeout) {
  uint64_t id = next_id_++;
  if (auto ok = send(id, verb, body); !ok)
    return ok.error();
  return receive(id, timeout);
}

result<uint64_t> connection::open_stream(std::string_view verb,
                                         std::string_view body,
                                         uint32_t window) {
  uint64_t id = next_id_++;
  if (auto ok = send(id, verb, body); !ok)
    return ok.error();
  streams_[id] = stream_credit{window, 0, clock::now()};
  return id;
}

result<frame> connection::next(uint64_t stream,
                               std::chrono::milliseconds timeout) {
  auto deadline = clock::now() + timeout;
  while (true) {
    auto left = std::chrono::duration_cast<std::chrono::milliseconds>(
      deadline - clock::now());
    auto got = receive(stream, std::max(left, std::chrono::milliseconds{0}));
    if (!got) {
      auto code = describe(got.error()).code;
      if (code != errc::timeout && code != errc::cancelled)
        streams_.erase(stream);
      return got;
    }
    if (got->final()) {
      streams_.erase(stream);
      return got;
    }
    auto i = streams_.find(stream);
    if (i != streams_.end())
      i->second.last_heard = clock::now();
    if (protocol::is_heartbeat(got->body))
      continue;
    if (i != streams_.end() && ++i->second.consumed >= i->second.window / 2) {
      // Grant back what we consumed, keeping the window full.
      protocol::credit_notice notice{stream, i->second.consumed};
      i->second.consumed = 0;
      if (auto ok = send(0, "credit", protocol::encode(notice)); !ok)
        return ok.error();
    }
    return got;
  }
}

std::chrono::milliseconds connection::idle_for(uint64_t stream) const {
  auto i = streams_.find(stream);
  if (i == streams_.end())
    return std::chrono::milliseconds{0};
  return std::chrono::duration_cast<std::chrono::milliseconds>(
    clock::now() - i->second.last_heard);
}

void connection::cancel(uint64_t stream) {
  (void) send(0, "cancel", protocol::encode_cancel_notice(stream));
}

} // namespace sky::client
