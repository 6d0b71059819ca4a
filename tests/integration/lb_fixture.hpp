#pragma once

// Real skyd-lb and real HTTP replicas (tests/support/lb_backend) on loopback
// for the load balancer's integration tests and bench.

#include <chrono>
#include <cstdint>
#include <filesystem>
#include <map>
#include <memory>
#include <string>
#include <vector>

#include "messages/lb_protocol.hpp"
#include "tests/support/process.hpp"
#include "tests/support/test_support.hpp"

namespace sky::testing {

/// A skyd-lb process on a temporary control socket.
class lb_process {
public:
  explicit lb_process(std::vector<std::string> extra_args = {});

  std::string control_endpoint() const { return control_; }
  std::filesystem::path log_path() const { return dir_.path() / "lb.log"; }
  std::string log() const;
  child& proc() { return *child_; }

  /// One request on a fresh REQ socket (a controller that comes and goes).
  lb::reply call(const lb::request& r,
                 std::chrono::milliseconds timeout = std::chrono::seconds(5));
  /// Pushes routes and returns the ack (REQUIREs that it answered).
  lb::routes_ack routes(const std::string& service,
                        std::vector<std::string> endpoints,
                        lb::policy p = lb::policy::least_load,
                        uint64_t queue_timeout_ms = 2000, uint16_t port = 0,
                        uint64_t generation = 1);
  /// The report of one service (empty service name when absent).
  lb::service_report report(const std::string& service);
  /// Reports until nothing is in flight (up to 2 s), summing what each
  /// drained: a request's last bytes reach the client a moment before its
  /// count goes down.
  lb::service_report settled_report(const std::string& service);

private:
  temp_dir dir_{"lb"};
  std::string control_;
  std::unique_ptr<child> child_;
};

/// tests/support/lb_backend, a replica answering with its name.
class backend {
public:
  explicit backend(std::string name);
  uint16_t port() const { return port_; }
  std::string endpoint() const { return "127.0.0.1:" + std::to_string(port_); }
  const std::string& name() const { return name_; }
  void kill();

private:
  std::string name_;
  std::unique_ptr<child> child_;
  uint16_t port_ = 0;
};

struct http_result {
  int status = 0; // 0: no answer (see error)
  std::string body;
  std::map<std::string, std::string> headers; // names lower case
  std::string error;
  bool keep_alive = false;
};

/// A keep-alive client connection to 127.0.0.1:port.
class http_connection {
public:
  explicit http_connection(uint16_t port, std::chrono::milliseconds timeout
                                          = std::chrono::seconds(10));
  ~http_connection();
  http_connection(const http_connection&) = delete;
  http_connection& operator=(const http_connection&) = delete;

  http_result request(const std::string& method, const std::string& target,
                      const std::string& body = {},
                      const std::map<std::string, std::string>& headers = {});
  /// Raw bytes out, whatever comes back until the peer closes or times out.
  std::string raw(const std::string& bytes);
  bool connected() const { return fd_ >= 0; }
  int native_handle() const { return fd_; }

  /// GETs `target` and counts the body bytes without keeping them.
  uint64_t download(const std::string& target);

  /// Body pieces of a streamed response with the milliseconds since the
  /// request was sent at which each arrived.
  std::vector<std::pair<double, std::string>> stream(const std::string& target);

private:
  struct impl;
  std::unique_ptr<impl> impl_;
  int fd_ = -1;
};

/// Resident set size of a process in bytes (0 when it is gone).
size_t rss_of(pid_t pid);

/// One request on a fresh connection.
http_result
http_request(uint16_t port, const std::string& method,
             const std::string& target, const std::string& body = {},
             const std::map<std::string, std::string>& headers = {});

} // namespace sky::testing
