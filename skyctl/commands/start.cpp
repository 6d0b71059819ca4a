// `skyctl start CLUSTER...`: restart stopped clusters where their disks are.

#include "skyctl/lifecycle.hpp"

namespace sky::cli {

void add_start(CLI::App& app, cli_context& ctx) {
  add_lifecycle_command(app, ctx,
                        {"start",
                         "restart stopped clusters (where their disks are)",
                         "Starting", "started", false});
}

} // namespace sky::cli
