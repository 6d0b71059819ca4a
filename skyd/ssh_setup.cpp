#include "skyd/ssh_setup.hpp"

#include <spdlog/spdlog.h>

namespace sky::daemon {

result<std::shared_ptr<providers::ssh_provider>>
open_ssh(const config& cfg, actors::provider_set& providers) {
  const auto file = cfg.home.home / "ssh_node_pools.yaml";
  auto pools = providers::ssh::load_pool_file(file);
  if (!pools) {
    auto info = describe(pools.error());
    // The parser's messages start with file:line:col and name the field.
    return make_error(info.code, "ssh node pools: " + info.message,
                      info.hint.empty()
                        ? "fix " + file.string()
                            + " (docs/SSH.md), or remove it to run without "
                              "SSH pools"
                        : info.hint);
  }
  if (pools->pools.empty())
    return std::shared_ptr<providers::ssh_provider>{};
  if (providers.by_name.count("ssh") > 0)
    return make_error(errc::invalid_argument,
                      "ssh node pools: 'ssh' is already the name of another "
                      "infra",
                      "remove 'ssh' from sim.clouds");
  providers::ssh_settings s;
  s.root = cfg.home.home / "ssh";
  s.known_hosts = s.root / "known_hosts";
  s.pools = std::move(*pools);
  s.loss_after = std::chrono::milliseconds{cfg.ssh_loss_after_ms};
  auto made = providers::make_ssh_provider(std::move(s));
  if (!made) {
    auto info = describe(made.error());
    return make_error(info.code, "ssh node pools: " + info.message, info.hint);
  }
  std::shared_ptr<providers::ssh_provider> ssh{std::move(*made)};
  providers.by_name["ssh"] = ssh;
  size_t hosts = 0;
  for (const auto& p : ssh->settings().pools.pools)
    hosts += p.hosts.size();
  spdlog::info("ssh node pools: {} ({} hosts) from {}",
               ssh->settings().pools.pools.size(), hosts, file.string());
  return ssh;
}

} // namespace sky::daemon
