#pragma once

// skyd-lb's control socket: a ZeroMQ REP socket on its own thread (ZeroMQ
// sockets are not thread-safe and must not block the proxy). Each request is
// decoded here and handed to the Asio thread with `asio::post`; the reply is
// whatever the proxy answers. When skyd goes away the socket just waits for
// the next controller: the proxy keeps serving its last routes.

#include <atomic>
#include <functional>
#include <string>
#include <thread>

#include "messages/lb_protocol.hpp"

namespace sky::lb {

class control {
public:
  /// `apply` runs a decoded request on the proxy's thread and returns its
  /// reply; it may throw or time out, which becomes an error reply.
  using applier = std::function<reply(const request&)>;

  control(std::string endpoint, applier apply);
  ~control();

  /// Binds (the socket file mode 0600) and starts the thread; the error
  /// text when binding failed.
  std::string start();
  void stop();

private:
  void loop(void* socket);

  std::string endpoint_;
  applier apply_;
  void* context_ = nullptr;
  void* socket_ = nullptr;
  std::atomic<bool> stopping_{false};
  std::thread thread_;
};

} // namespace sky::lb
