#pragma once

// `skyctl cost-report`: what each cluster has cost, computed from the
// event log's cluster events alone, so torn-down clusters are included.
// Pure: events in, rows out (tests/unit/skyctl/cost_report_test.cpp).
//
// A cluster is billed while it is UP: from `cluster.up` until it leaves UP
// (`cluster.stopped`, `cluster.terminated`, `cluster.preempted`,
// `cluster.node_lost`, `cluster.lost`), at the hourly price of all its
// nodes that the launch chose (the catalog's). A name that is torn down and
// launched again gives one row per incarnation.

#include <cstdint>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

#include "messages/event.hpp"

namespace sky::cli {

struct cost_row {
  std::string cluster;
  /// "gcp/us-central1/us-central1-a", "local".
  std::string infra;
  std::string instance_type;
  /// "2x a2-highgpu-8g" style resources text, as the launch recorded it.
  std::string resources;
  uint32_t num_nodes = 1;
  bool use_spot = false;
  /// All nodes, per hour.
  double hourly_price = 0;
  /// Time UP, in hours.
  double hours = 0;
  /// hours * hourly_price, summed per UP interval (a restart may change
  /// nothing of the price, but a relaunch could).
  double total = 0;
  /// "UP", "STOPPED", "INIT", "TERMINATED".
  std::string status;
  int64_t launched_at_ms = 0;
  int64_t ended_at_ms = 0;
};

/// Rows in order of first launch. `events` are the log's events of
/// entities "cluster.*", in sequence order; clusters still UP are billed
/// until `now_ms`. Clusters that never came up cost nothing and are left
/// out.
std::vector<cost_row> cost_report(const std::vector<event>& events,
                                  int64_t now_ms);

/// {"clusters": [...], "total": x}.
nlohmann::ordered_json cost_json(const std::vector<cost_row>& rows);

/// The table, then the total.
void print_cost(std::ostream& out, const std::vector<cost_row>& rows);

} // namespace sky::cli
