#pragma once

// The client side of the control protocol (messages/wire.hpp): a DEALER
// socket to skyd's ROUTER, single requests and credit-managed streams.
// Used by skyctl, by integration tests and by benchmarks.

#include <chrono>
#include <cstdint>
#include <deque>
#include <map>
#include <memory>
#include <string>
#include <string_view>

#include "messages/result.hpp"
#include "messages/wire.hpp"

namespace zmq {
class context_t;
class socket_t;
} // namespace zmq

namespace sky::client {

using namespace std::chrono_literals;

/// One reply frame. Error replies never surface as frames: they are returned
/// as errors carrying skyd's code, message and hint.
struct frame {
  wire::status status = wire::status::ok;
  std::string body;

  bool final() const { return status != wire::status::more; }
};

class connection {
public:
  /// Connects to `endpoint` (e.g. "ipc:///home/u/.skyd/run/control.sock").
  /// ZeroMQ connects in the background, so this succeeds even when nothing
  /// listens yet; requests then time out.
  static result<connection> open(const std::string& endpoint);

  connection(connection&&) noexcept;
  connection& operator=(connection&&) noexcept;
  ~connection();

  /// Sends a request and waits for its single reply.
  result<frame> call(std::string_view verb, std::string_view body,
                     std::chrono::milliseconds timeout = 30s);

  /// Starts a stream; `window` is the credit the request body granted.
  result<uint64_t> open_stream(std::string_view verb, std::string_view body,
                               uint32_t window);

  /// The next frame of a stream, skipping heartbeats and granting credit as
  /// frames are consumed. A `timeout` error leaves the stream open (call
  /// again); `idle_for` tells how long skyd has sent nothing at all, not
  /// even a heartbeat.
  result<frame> next(uint64_t stream, std::chrono::milliseconds timeout = 30s);

  /// Time since the last frame (heartbeats included) of an open stream.
  std::chrono::milliseconds idle_for(uint64_t stream) const;

  /// Whether a stream is still open: neither its final frame nor an error
  /// from skyd has arrived (a local timeout or interruption keeps it open).
  bool is_open(uint64_t stream) const { return streams_.count(stream) > 0; }

  /// Asks skyd to end a stream (it answers with a final frame).
  void cancel(uint64_t stream);

  /// Sends raw frames (tests use this to send garbage).
  result<void> send_raw(std::string_view envelope, std::string_view body);

private:
  connection();

  result<void> send(uint64_t id, std::string_view verb, std::string_view body);
  result<frame> receive(uint64_t id, std::chrono::milliseconds timeout);

  struct stream_credit {
    uint32_t window = 0;
    uint32_t consumed = 0;
    std::chrono::steady_clock::time_point last_heard;
  };

  std::unique_ptr<zmq::context_t> ctx_;
  std::unique_ptr<zmq::socket_t> socket_;
  uint64_t next_id_ = 1;
  std::map<uint64_t, stream_credit> streams_;
  /// Replies for open streams that arrived while another one was read:
  /// kept in order so that many streams can share one connection.
  std::map<uint64_t, std::deque<result<frame>>> parked_;
};

} // namespace sky::client
