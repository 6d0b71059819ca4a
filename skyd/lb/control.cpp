#include "skyd/lb/control.hpp"

#include <cerrno>
#include <cstring>
#include <string_view>
#include <unistd.h>
#include <sys/stat.h>
#include <zmq.h>

namespace sky::lb {

namespace {

constexpr int poll_ms = 200; // how soon stop() is noticed

std::string ipc_path(const std::string& endpoint) {
  constexpr std::string_view scheme = "ipc://";
  if (endpoint.rfind(scheme, 0) == 0)
    return endpoint.substr(scheme.size());
  return {};
}

} // namespace

control::control(std::string endpoint, applier apply)
  : endpoint_(std::move(endpoint)), apply_(std::move(apply)) {}

control::~control() {
  stop();
}

std::string control::start() {
  context_ = zmq_ctx_new();
  socket_ = zmq_socket(context_, ZMQ_REP);
  const int linger = 0;
  zmq_setsockopt(socket_, ZMQ_LINGER, &linger, sizeof linger);
  // A frame larger than any routes message skyd would send is not buffered.
  const int64_t max_message = 16 * 1024 * 1024;
  zmq_setsockopt(socket_, ZMQ_MAXMSGSIZE, &max_message, sizeof max_message);
  // The socket file is created 0600 from the start (umask), not chmod-ed
  // after a window in which another user could connect.
  const mode_t old_mask = ::umask(0077);
  const int rc = zmq_bind(socket_, endpoint_.c_str());
  const int bind_errno = errno;
  ::umask(old_mask);
  if (rc != 0)
    return "cannot bind " + endpoint_ + ": " + zmq_strerror(bind_errno);
  if (const auto path = ipc_path(endpoint_); !path.empty())
    ::chmod(path.c_str(), 0600);
  thread_ = std::thread([this] { loop(socket_); });
  return {};
}

void control::stop() {
  stopping_ = true;
  if (thread_.joinable())
    thread_.join();
  if (socket_ != nullptr) {
    zmq_close(socket_);
    socket_ = nullptr;
    if (const auto path = ipc_path(endpoint_); !path.empty())
      ::unlink(path.c_str());
  }
  if (context_ != nullptr) {
    zmq_ctx_term(context_);
    context_ = nullptr;
  }
}

void control::loop(void* socket) {
  while (!stopping_) {
    zmq_pollitem_t item{socket, 0, ZMQ_POLLIN, 0};
    if (zmq_poll(&item, 1, poll_ms) <= 0 || (item.revents & ZMQ_POLLIN) == 0)
      continue;
    zmq_msg_t msg;
    zmq_msg_init(&msg);
    if (zmq_msg_recv(&msg, socket, ZMQ_DONTWAIT) < 0) {
      zmq_msg_close(&msg);
      continue;
    }
    // REP: a multi-part request is read whole, answered once.
    std::string bytes{static_cast<const char*>(zmq_msg_data(&msg)),
                      zmq_msg_size(&msg)};
    bool more = zmq_msg_more(&msg) != 0;
    zmq_msg_close(&msg);
    while (more) {
      zmq_msg_t part;
      zmq_msg_init(&part);
      if (zmq_msg_recv(&part, socket, 0) < 0)
        break;
      more = zmq_msg_more(&part) != 0;
      zmq_msg_close(&part);
    }
    reply answer = error_reply{"no answer"};
    auto decoded = decode_request(bytes);
    if (!decoded) {
      answer = error_reply{decoded.error};
    } else {
      try {
        answer = apply_(*decoded.value);
      } catch (const std::exception& e) {
        answer = error_reply{e.what()};
      }
    }
    const auto out = encode(answer);
    // A controller that died after asking never reads this; REP drops it
    // and the next request is read normally.
    zmq_send(socket, out.data(), out.size(), 0);
  }
}

} // namespace sky::lb
