// `skyctl down CLUSTER... | -a`: tear clusters down.

#include "skyctl/lifecycle.hpp"

namespace sky::cli {

void add_down(CLI::App& app, cli_context& ctx) {
  add_lifecycle_command(
    app, ctx,
    {"down", "tear clusters down (their instances and disks are deleted)",
     "Tearing down", "terminated", true});
}

} // namespace sky::cli
