#include "optimizer/managed_job/managed_job_model.hpp"

#include <array>
#include <utility>

#include "messages/errc.hpp"

namespace sky::optimizer {

namespace {

constexpr std::array<std::pair<managed_job_state, std::string_view>, 12>
  state_names{{
    {managed_job_state::pending, "PENDING"},
    {managed_job_state::starting, "STARTING"},
    {managed_job_state::running, "RUNNING"},
    {managed_job_state::recovering, "RECOVERING"},
    {managed_job_state::cancelling, "CANCELLING"},
    {managed_job_state::succeeded, "SUCCEEDED"},
    {managed_job_state::cancelled, "CANCELLED"},
    {managed_job_state::failed, "FAILED"},
    {managed_job_state::failed_setup, "FAILED_SETUP"},
    {managed_job_state::failed_prechecks, "FAILED_PRECHECKS"},
    {managed_job_state::failed_no_resource, "FAILED_NO_RESOURCE"},
    {managed_job_state::failed_controller, "FAILED_CONTROLLER"},
  }};

void set_infra(task::resources_spec& r, const launch_place& place) {
  r.infra = task::infra_spec{place.cloud, place.region, ""};
  for (auto& alt : r.any_of)
    set_infra(alt, place);
  for (auto& alt : r.ordered)
    set_infra(alt, place);
}

// Alternatives inherit the parent's job_recovery (resources.cpp does the
// same when expanding them), so only one that sets its own can disagree.
result<void>
check_alternatives(const task::resources_spec& r,
                   const std::optional<task::job_recovery_spec>& inherited) {
  for (const auto* list : {&r.any_of, &r.ordered}) {
    for (const auto& alt : *list) {
      auto own = alt.job_recovery ? alt.job_recovery : inherited;
      if (own != inherited)
        return make_error(errc::invalid_argument,
                          "resources alternatives set different "
                          "job_recovery",
                          "set job_recovery once, beside any_of/ordered");
      if (auto ok = check_alternatives(alt, own); !ok)
        return ok;
    }
  }
  return {};
}

} // namespace

std::string_view to_string(managed_job_state s) {
  for (const auto& [state, name] : state_names)
    if (state == s)
      return name;
  return "UNKNOWN";
}

std::optional<managed_job_state> parse_managed_job_state(std::string_view s) {
  for (const auto& [state, name] : state_names)
    if (iequals(name, s))
      return state;
  return std::nullopt;
}

bool is_terminal(managed_job_state s) {
  switch (s) {
    case managed_job_state::pending:
    case managed_job_state::starting:
    case managed_job_state::running:
    case managed_job_state::recovering:
    case managed_job_state::cancelling:
      return false;
    default:
      return true;
  }
}

std::string_view to_string(recovery_strategy s) {
  return s == recovery_strategy::failover ? "FAILOVER" : "EAGER_NEXT_REGION";
}

result<recovery_strategy> parse_recovery_strategy(std::string_view s) {
  if (iequals(s, "EAGER_NEXT_REGION"))
    return recovery_strategy::eager_next_region;
  if (iequals(s, "FAILOVER"))
    return recovery_strategy::failover;
  return make_error(errc::invalid_argument,
                    "unknown job recovery strategy '" + std::string{s} + "'",
                    "use EAGER_NEXT_REGION or FAILOVER");
}

result<recovery_settings>
to_recovery_settings(const std::optional<task::job_recovery_spec>& spec) {
  recovery_settings out;
  if (!spec)
    return out;
  auto strategy = parse_recovery_strategy(spec->strategy);
  if (!strategy)
    return strategy.error();
  if (spec->max_restarts_on_errors < 0)
    return make_error(errc::invalid_argument,
                      "max_restarts_on_errors must be >= 0");
  out.strategy = *strategy;
  out.max_restarts_on_errors
    = static_cast<uint32_t>(spec->max_restarts_on_errors);
  out.recover_on_exit_codes = spec->recover_on_exit_codes;
  return out;
}

result<recovery_settings> recovery_settings_for_task(const task::task_spec& t) {
  if (auto ok = check_alternatives(t.resources, t.resources.job_recovery); !ok)
    return ok.error();
  return to_recovery_settings(t.resources.job_recovery);
}

std::string launch_place::text() const {
  std::string out = cloud;
  if (!region.empty())
    out += "/" + region;
  if (!zone.empty())
    out += "/" + zone;
  return out;
}

result<managed_job> new_managed_job(uint64_t id, std::string name,
                                    const task::pipeline_spec& pipeline,
                                    int64_t now_ms,
                                    std::optional<recovery_strategy> strategy) {
  if (pipeline.tasks.empty())
    return make_error(errc::invalid_argument, "the pipeline has no task");
  managed_job job;
  job.id = id;
  job.submitted_at_ms = now_ms;
  job.state_since_ms = now_ms;
  for (size_t i = 0; i < pipeline.tasks.size(); ++i) {
    const auto& t = pipeline.tasks[i];
    auto settings = recovery_settings_for_task(t);
    if (!settings) {
      auto info = describe(settings.error());
      return make_error(errc::invalid_argument,
                        "task " + std::to_string(i + 1) + ": " + info.message,
                        info.hint);
    }
    if (strategy)
      settings->strategy = *strategy;
    job.tasks.push_back({t.name.value_or(""), std::move(*settings)});
  }
  if (name.empty())
    name = pipeline.name.value_or(job.tasks.front().name);
  job.name = std::move(name);
  return job;
}

task::task_spec pin_to_place(task::task_spec task, const launch_place& place) {
  set_infra(task.resources, place);
  return task;
}

} // namespace sky::optimizer
