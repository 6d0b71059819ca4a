// `skyctl status`: the clusters skyd manages.

#include <iostream>

#include "skyctl/commands/commands.hpp"

namespace sky::cli {

void add_status(CLI::App& app, cli_context& ctx) {
  auto* cmd = app.add_subcommand("status", "show clusters");
  auto out = std::make_shared<output_option>();
  out->add_to(cmd);
  cmd->callback([&ctx, out] {
    auto conn = ctx.connect();
    if (!conn) {
      ctx.exit_code = report(conn.error());
      return;
    }
    auto reply = conn->call("status", {}, ctx.timeout());
    if (!reply) {
      ctx.exit_code = report(reply.error());
      return;
    }
    auto json = body_to_json(reply->body);
    if (!json) {
      ctx.exit_code = report(json.error());
      return;
    }
    if (out->json()) {
      std::cout << json->dump(2) << "\n";
      return;
    }
    const auto& clusters = (*json)["clusters"];
    if (!clusters.is_array() || clusters.empty()) {
      std::cout << "No existing clusters.\n";
      return;
    }
    table t{{"NAME", "INFRA", "RESOURCES", "NODES", "STATUS", "PRICE/H",
             "AUTOSTOP", "LAUNCHED"}};
    for (const auto& c : clusters)
      t.add({c.value("name", ""), c.value("infra", ""),
             c.value("resources", ""), std::to_string(c.value("nodes", 0)),
             c.value("status", ""), c.value("price", ""),
             c.value("autostop", "-"), c.value("launched", "")});
    t.print(std::cout);
  });
}

} // namespace sky::cli
