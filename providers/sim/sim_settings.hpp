#pragma once

// Settings of the simulated clouds (docs/SIM.md): where their state lives,
// which catalog they impersonate, the scenario, the clock and how nodes are
// backed (sandboxes with real processes, or virtual nodes without any).

#include <chrono>
#include <cstdint>
#include <filesystem>
#include <functional>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "messages/result.hpp"
#include "optimizer/placement/catalog.hpp"

namespace sky::providers {

/// How the nodes of simulated instances are backed.
enum class sim_node_mode : uint8_t {
  /// Each node is a sandbox on this host (<root>/<cloud>/<cluster>/<rank>)
  /// reached with local_channel: jobs really run.
  real,
  /// No process at all: a started process "runs" for the duration its
  /// script declares, on the sim clock (scale tests, deterministic runs).
  virtual_nodes,
};

std::string_view to_string(sim_node_mode m) noexcept;

/// "real" or "virtual" (config `sim.mode`).
result<sim_node_mode> parse_sim_node_mode(std::string_view text);

/// Milliseconds since the Unix epoch from the system clock: the sim clock
/// of a skyd that runs in real time.
int64_t sim_wall_clock_ms();

struct sim_settings {
  /// Simulated state (<root>/.sim/) and, in real mode, node sandboxes
  /// (<root>/<cloud>/<cluster>/<rank>): $SKYD_HOME/sim.
  std::filesystem::path root;
  /// Price catalog the simulated clouds impersonate: their regions, zones,
  /// instance types and accelerators.
  std::shared_ptr<const optimizer::catalog> catalog;
  /// Clouds to simulate (config `sim.clouds`); empty = every cloud of the
  /// catalog.
  std::vector<std::string> clouds;
  /// Scenario file (config `sim.scenario`); empty = plenty of capacity
  /// everywhere, no failures, no preemptions.
  std::filesystem::path scenario_file;
  sim_node_mode mode = sim_node_mode::real;
  /// The sim clock, in milliseconds. skyd gives the wall clock; tests and
  /// deterministic actor runs give a clock they advance themselves. Called
  /// from any thread; never called with the world's lock held by a caller.
  std::function<int64_t()> now_ms = sim_wall_clock_ms;
  /// True: nothing ever sleeps. Readiness and preemptions are decided by
  /// now_ms() alone and a wait for an instance that is not ready yet fails
  /// at once with errc::transient saying until when (the caller advances
  /// its clock and asks again). False: wait_instances sleeps in small steps
  /// up to its timeout.
  bool virtual_time = false;
  /// Step of the real-time wait loop.
  std::chrono::milliseconds wait_step{50};
  /// stop/terminate in real mode: SIGTERM, then SIGKILL after this long.
  /// A preempted node gets no grace (the machine is gone).
  std::chrono::milliseconds kill_grace{5000};
  /// Flush each state file to disk before it replaces the old one. Off
  /// only for scale tests, where durability across a machine crash does not
  /// matter and a thousand fsyncs would dominate.
  bool sync_writes = true;
};

} // namespace sky::providers
