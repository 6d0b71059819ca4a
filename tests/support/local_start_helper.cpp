// Starts one process on a local node through a local_channel and exits at
// once, printing the handle: tests use it to check that the process
// survives the process that started it and that another channel object
// re-attaches by handle.
//
// usage: local_start_helper HOME NAME LOG_FILE SCRIPT
// prints: <pid> <start ticks> <log file> <exit file>

#include <cstdio>

#include "providers/local/local_channel.hpp"

int main(int argc, char** argv) {
  if (argc != 5) {
    std::fprintf(stderr, "usage: local_start_helper HOME NAME LOG SCRIPT\n");
    return 2;
  }
  sky::providers::local_channel channel{argv[1]};
  sky::providers::process_spec spec;
  spec.name = argv[2];
  spec.log_file = argv[3];
  spec.script = argv[4];
  auto handle = channel.start(spec);
  if (!handle) {
    std::fprintf(stderr, "start failed: %s\n",
                 sky::describe(handle.error()).message.c_str());
    return 1;
  }
  std::printf("%lld %llu %s %s\n", static_cast<long long>(handle->pid),
              static_cast<unsigned long long>(handle->start_ticks),
              handle->log_file.c_str(), handle->exit_file.c_str());
  return 0;
}
