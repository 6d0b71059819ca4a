// skyctl: the command line of skyd. See README.md and docs/CLI.md.

#include "skyctl/app.hpp"

int main(int argc, char** argv) {
  sky::cli::cli_context ctx;
  return sky::cli::run(argc, argv, ctx);
}
