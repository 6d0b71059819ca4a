#pragma once

// Readiness probes of service replicas: asynchronous HTTP requests on one
// thread of their own (Boost.Asio/Beast behind this header, which stays
// free of them so that actor code including it compiles fast). An actor
// asks for a probe and gets the result as a message later; no actor thread
// ever waits on a replica.

#include <chrono>
#include <cstdint>
#include <functional>
#include <map>
#include <memory>
#include <optional>
#include <string>

namespace sky::actors {

struct probe_request {
  std::string host;
  uint16_t port = 0;
  /// Starts with '/'.
  std::string path = "/";
  /// When set, the probe is a POST of this JSON body (readiness_probe's
  /// post_data), otherwise a GET.
  std::optional<std::string> post_data;
  std::map<std::string, std::string> headers;
  std::chrono::milliseconds timeout{15'000};
};

struct probe_result {
  /// The HTTP status of the answer; 0 when there was none.
  int http_status = 0;
  /// Why there was no answer ("connection refused", "timed out after
  /// 15 s"); empty when there was one.
  std::string error;
  /// "GET /health" or "POST /v1/completions": what was asked.
  std::string what;
  std::chrono::milliseconds elapsed{0};
};

/// Runs probes on its own thread; many at once, each with its deadline.
class http_prober {
public:
  http_prober();
  ~http_prober();
  http_prober(const http_prober&) = delete;
  http_prober& operator=(const http_prober&) = delete;

  /// Starts a probe; `done` runs once, on the prober's thread, with the
  /// result (it must only hand the result over, e.g. send a message).
  /// Thread-safe.
  void probe(probe_request request, std::function<void(probe_result)> done);

private:
  struct impl;
  std::unique_ptr<impl> impl_;
};

/// "GET /health" / "POST /path" for a request.
std::string probe_text(const probe_request& r);

} // namespace sky::actors
