// `skyctl stop CLUSTER... | -a`: stop clusters, keeping their disks.

#include "skyctl/lifecycle.hpp"

namespace sky::cli {

void add_stop(CLI::App& app, cli_context& ctx) {
  add_lifecycle_command(
    app, ctx,
    {"stop", "stop clusters (their disks stay; `skyctl start` resumes them)",
     "Stopping", "stopped", true});
}

} // namespace sky::cli
