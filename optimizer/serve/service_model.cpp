#include "optimizer/serve/service_model.hpp"

#include <array>
#include <utility>

#include "optimizer/placement/infra.hpp"

namespace sky::optimizer {

namespace {

template <class Enum, size_t N>
using name_table = std::array<std::pair<Enum, std::string_view>, N>;

constexpr name_table<replica_status, 12> replica_names{{
  {replica_status::pending, "PENDING"},
  {replica_status::provisioning, "PROVISIONING"},
  {replica_status::starting, "STARTING"},
  {replica_status::ready, "READY"},
  {replica_status::not_ready, "NOT_READY"},
  {replica_status::shutting_down, "SHUTTING_DOWN"},
  {replica_status::failed, "FAILED"},
  {replica_status::failed_initial_delay, "FAILED_INITIAL_DELAY"},
  {replica_status::failed_probing, "FAILED_PROBING"},
  {replica_status::failed_provision, "FAILED_PROVISION"},
  {replica_status::failed_cleanup, "FAILED_CLEANUP"},
  {replica_status::preempted, "PREEMPTED"},
}};

constexpr name_table<service_status, 5> service_names{{
  {service_status::replica_init, "REPLICA_INIT"},
  {service_status::ready, "READY"},
  {service_status::no_replica, "NO_REPLICA"},
  {service_status::failed, "FAILED"},
  {service_status::shutting_down, "SHUTTING_DOWN"},
}};

constexpr name_table<update_mode, 2> mode_names{{
  {update_mode::rolling, "rolling"},
  {update_mode::blue_green, "blue_green"},
}};

constexpr name_table<teardown_cause, 6> cause_names{{
  {teardown_cause::none, "none"},
  {teardown_cause::scale_down, "scale_down"},
  {teardown_cause::outdated, "outdated"},
  {teardown_cause::user, "user"},
  {teardown_cause::failure, "failure"},
  {teardown_cause::preemption, "preemption"},
}};

template <class Enum, size_t N>
std::string_view name_of(const name_table<Enum, N>& table, Enum e) {
  for (const auto& [value, name] : table)
    if (value == e)
      return name;
  return "UNKNOWN";
}

template <class Enum, size_t N>
std::optional<Enum> parse_name(const name_table<Enum, N>& table,
                               std::string_view s) {
  for (const auto& [value, name] : table)
    if (iequals(name, s))
      return value;
  return std::nullopt;
}

} // namespace

std::string_view to_string(replica_status s) {
  return name_of(replica_names, s);
}

std::optional<replica_status> parse_replica_status(std::string_view s) {
  return parse_name(replica_names, s);
}

bool is_failed(replica_status s) {
  switch (s) {
    case replica_status::failed:
    case replica_status::failed_initial_delay:
    case replica_status::failed_probing:
    case replica_status::failed_provision:
    case replica_status::failed_cleanup:
      return true;
    default:
      return false;
  }
}

bool is_terminal(replica_status s) {
  return is_failed(s) || s == replica_status::shutting_down
         || s == replica_status::preempted;
}

int scale_down_rank(replica_status s) {
  switch (s) {
    case replica_status::pending:
      return 0;
    case replica_status::provisioning:
      return 1;
    case replica_status::starting:
      return 2;
    case replica_status::not_ready:
      return 3;
    case replica_status::ready:
      return 4;
    default:
      return 5; // terminal: never chosen
  }
}

std::string_view to_string(service_status s) {
  return name_of(service_names, s);
}

std::optional<service_status> parse_service_status(std::string_view s) {
  return parse_name(service_names, s);
}

std::string_view to_string(update_mode m) {
  return name_of(mode_names, m);
}

std::optional<update_mode> parse_update_mode(std::string_view s) {
  return parse_name(mode_names, s);
}

std::string_view to_string(teardown_cause c) {
  return name_of(cause_names, c);
}

std::optional<teardown_cause> parse_teardown_cause(std::string_view s) {
  return parse_name(cause_names, s);
}

} // namespace sky::optimizer
