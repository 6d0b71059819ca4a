#include "skyctl/jobs_render.hpp"

#include <ostream>

#include "skyctl/output.hpp"
#include "skyctl/render.hpp"

namespace sky::cli {

namespace {

// From submission to the end (or now, for a live job).
int64_t duration_ms(const protocol::managed_job_row& j, int64_t now_ms) {
  if (j.submitted_at_ms == 0)
    return 0;
  auto end = j.ended_at_ms != 0 ? j.ended_at_ms : now_ms;
  return std::max<int64_t>(0, end - j.submitted_at_ms);
}

nlohmann::ordered_json time_json(int64_t ms) {
  return ms == 0 ? nlohmann::ordered_json(nullptr) : nlohmann::ordered_json(ms);
}

} // namespace

void print_managed_queue(std::ostream& out,
                         const protocol::jobs_queue_reply& reply,
                         int64_t now_ms) {
  if (reply.jobs.empty()) {
    out << "No managed jobs.\n";
    return;
  }
  bool pipelines = false;
  for (const auto& j : reply.jobs)
    pipelines = pipelines || j.tasks > 1;
  std::vector<std::string> header{"ID"};
  if (pipelines)
    header.push_back("TASK");
  for (const char* h : {"NAME", "SUBMITTED", "DURATION", "#RECOVERIES",
                        "STATUS", "CLUSTER", "INFRA", "REASON"})
    header.emplace_back(h);
  table t{header};
  for (const auto& j : reply.jobs) {
    std::vector<std::string> row{std::to_string(j.job_id)};
    if (pipelines)
      row.push_back(std::to_string(j.task) + "/" + std::to_string(j.tasks));
    auto reason = j.reason;
    if (reason.size() > 80)
      reason = reason.substr(0, 77) + "...";
    for (auto& c : reason)
      if (c == '\n')
        c = ' ';
    row.push_back(j.name.empty() ? "-" : j.name);
    row.push_back(j.submitted_at_ms ? time_ago(j.submitted_at_ms, now_ms)
                                    : "-");
    row.push_back(format_duration_ms(duration_ms(j, now_ms)));
    row.push_back(std::to_string(j.recoveries));
    row.push_back(j.status);
    row.push_back(j.cluster.empty() ? "-" : j.cluster);
    row.push_back(j.infra.empty() ? "-" : j.infra);
    row.push_back(reason.empty() ? "-" : reason);
    t.add(std::move(row));
  }
  t.print(out);
}

nlohmann::ordered_json
managed_queue_json(const protocol::jobs_queue_reply& reply, int64_t now_ms) {
  auto jobs = nlohmann::ordered_json::array();
  for (const auto& j : reply.jobs) {
    nlohmann::ordered_json o;
    o["job_id"] = j.job_id;
    o["name"] = j.name;
    o["status"] = j.status;
    o["reason"] = j.reason;
    o["recoveries"] = j.recoveries;
    o["task"] = j.task;
    o["tasks"] = j.tasks;
    o["cluster"] = j.cluster;
    o["infra"] = j.infra;
    o["submitted_at"] = time_json(j.submitted_at_ms);
    o["started_at"] = time_json(j.started_at_ms);
    o["ended_at"] = time_json(j.ended_at_ms);
    o["duration_s"] = duration_ms(j, now_ms) / 1000;
    o["task_id"] = j.task_id;
    jobs.push_back(std::move(o));
  }
  nlohmann::ordered_json out;
  out["jobs"] = std::move(jobs);
  return out;
}

} // namespace sky::cli
