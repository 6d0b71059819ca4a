#include "skyd/sim_setup.hpp"

#include "providers/sim/sim_provider.hpp"

namespace sky::daemon {

result<std::shared_ptr<providers::sim_world>>
open_sim(const config& cfg, std::shared_ptr<const optimizer::catalog> catalog,
         actors::provider_set& providers) {
  if (cfg.sim_clouds.empty()) {
    if (!cfg.sim_scenario.empty())
      return make_error(errc::invalid_argument,
                        "sim.scenario is set but sim.clouds is empty: no "
                        "cloud is simulated",
                        "list the clouds to simulate, e.g. `sim.clouds: [gcp, "
                        "aws]`, or remove sim.scenario");
    return std::shared_ptr<providers::sim_world>{};
  }
  providers::sim_settings s;
  s.root = cfg.home.home / "sim";
  s.catalog = std::move(catalog);
  s.clouds = cfg.sim_clouds;
  s.scenario_file = cfg.sim_scenario;
  auto mode = providers::parse_sim_node_mode(cfg.sim_mode);
  if (!mode)
    return make_error(errc::invalid_argument,
                      "sim.mode: " + describe(mode.error()).message,
                      "use real or virtual");
  s.mode = *mode;
  auto world = providers::sim_world::open(s);
  if (!world) {
    auto info = describe(world.error());
    // The scenario's own messages start with file:line:col; say which key
    // brought the file in.
    return make_error(
      info.code,
      (cfg.sim_scenario.empty() ? "sim: " : "sim.scenario: ") + info.message,
      info.hint.empty() ? "fix the scenario file (docs/SIM.md)" : info.hint);
  }
  for (auto& p : providers::make_sim_providers(*world)) {
    if (providers.by_name.count(p->name()) > 0)
      return make_error(errc::invalid_argument,
                        "sim.clouds: '" + p->name()
                          + "' is already the name of another infra",
                        "remove it from sim.clouds");
    providers.by_name[p->name()] = p;
  }
  return *world;
}

} // namespace sky::daemon
