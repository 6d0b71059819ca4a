// `skyctl annotate TEXT`: write an operator's note into the event log.

#include <iostream>

#include "messages/body_reader.hpp"
#include "messages/msgpack_util.hpp"
#include "skyctl/commands/commands.hpp"

namespace sky::cli {

void add_annotate(CLI::App& app, cli_context& ctx) {
  auto* cmd = app.add_subcommand(
    "annotate", "record a note in skyd's event log (for example around "
                "maintenance); prints its sequence number");
  auto text = std::make_shared<std::string>();
  auto entity = std::make_shared<std::string>("annotation");
  cmd->add_option("text", *text, "the note")->required();
  cmd->add_option("--entity", *entity,
                  "entity (and topic) of the note (default: annotation)");
  cmd->callback([&ctx, text, entity] {
    auto conn = ctx.connect();
    if (!conn) {
      ctx.exit_code = report(conn.error());
      return;
    }
    auto body = map_writer{2}.add("text", *text).add("entity", *entity).bytes();
    auto reply = conn->call("annotate", body, ctx.timeout());
    if (!reply) {
      ctx.exit_code = report(reply.error());
      return;
    }
    auto r = body_reader::parse(reply->body, "annotate reply");
    std::cout << (r ? value_or(r->u64("seq", 0), 0) : 0) << "\n";
  });
}

} // namespace sky::cli
