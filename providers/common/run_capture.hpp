#pragma once

// Runs a short-lived command and captures its standard output (used for
// nvidia-smi). Not for job processes: those are detached (detached_spawn).

#include <chrono>
#include <string>
#include <vector>

#include "messages/result.hpp"

namespace sky::providers::local_detail {

struct captured {
  int exit_code = -1;
  std::string out;
};

/// errc::not_found when the program does not exist; errc::timeout when it
/// runs past `timeout` (it is then killed and reaped).
result<captured> run_capture(const std::vector<std::string>& argv,
                             std::chrono::milliseconds timeout);

} // namespace sky::providers::local_detail
