#pragma once

// The tables skyctl prints for people, and the JSON it prints for scripts
// where the JSON is not simply the reply: the optimizer's plan (`launch
// --dryrun` and a launch's plan frame), `status`, `queue` and `show-gpus`.
// Pure functions of the reply and the current time, so tests pin them.

#include <cstdint>
#include <iosfwd>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

#include "messages/cluster_protocol.hpp"

namespace sky::cli {

/// "8", "0.5", "1.25": numbers without trailing zeros.
std::string number_text(double v);

/// "a few secs ago", "1 min ago", "5 mins ago", "2 hrs ago", "3 days ago";
/// "-" for 0 (never happened).
std::string time_ago(int64_t then_ms, int64_t now_ms);

// -- plan --------------------------------------------------------------------

struct plan_style {
  /// ✔ for the chosen row; `*` without UTF-8.
  bool utf8 = true;
  /// Rows shown per task (the chosen row always is); -o json lists all.
  size_t max_rows = 20;
};

/// Every task has at least one candidate.
bool plan_feasible(const protocol::plan_reply& plan);

/// One table per task ("Considered resources (N nodes):"), the exclusions
/// ("Not considered:"), and for a pipeline the total price.
void print_plan(std::ostream& out, const protocol::plan_reply& plan,
                const plan_style& style);

/// {"candidates": [...], "excluded": [...]} for one task;
/// {"tasks": [{"name", "candidates", "excluded"}], "total_hourly_price"}
/// for a pipeline.
nlohmann::ordered_json plan_json(const protocol::plan_reply& plan);

// -- status ------------------------------------------------------------------

/// Takes the clusters owned by a managed job out of `reply` (plain
/// `status` hides them: they are their job's); returns how many.
size_t hide_managed_clusters(protocol::status_reply& reply);

/// The `status` table, or "No existing clusters.". An OWNER column
/// ("managed job 7") appears when a listed cluster belongs to a managed
/// job; `hidden` > 0 adds a footer line saying how many were left out and
/// how to see them.
void print_status(std::ostream& out, const protocol::status_reply& reply,
                  int64_t now_ms, size_t hidden = 0);

// -- queue -------------------------------------------------------------------

/// One table per cluster ("Job queue of cluster NAME"), clusters in the
/// order skyd listed them; a requested cluster without jobs says so.
void print_queue(std::ostream& out, const protocol::queue_reply& reply,
                 const std::vector<std::string>& requested, int64_t now_ms);

/// {"jobs": [{cluster, job_id, name, command, status, submitted_at,
/// started_at, ended_at, exit_code, resources, num_nodes}]}; times are Unix
/// milliseconds, null when the job has not reached that point.
nlohmann::ordered_json queue_json(const protocol::queue_reply& reply);

// -- show-gpus ---------------------------------------------------------------

/// Without a filter: `GPU  QTY  MEMORY`, one row per accelerator. With one
/// (`detailed`): a table of offers per accelerator.
void print_gpus(std::ostream& out, const protocol::show_gpus_reply& reply,
                bool detailed);

} // namespace sky::cli
