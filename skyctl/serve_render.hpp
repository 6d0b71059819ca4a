#pragma once

// What `skyctl serve` prints (SkyServe's `sky serve` output, SERVICES.md
// §6): the service spec lines shown before `serve up`/`serve update`, the
// endpoint and next commands after them, the services and replicas tables
// of `serve status` (and its -v details), its JSON, and the one-line
// results of `serve down`. Also the argument checks of `serve down` and
// `serve logs`, so that tests pin them without a daemon. Pure functions of
// their input and the current time.

#include <cstdint>
#include <iosfwd>
#include <optional>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

#include "messages/result.hpp"
#include "messages/serve_protocol.hpp"
#include "messages/task/task_spec.hpp"

namespace sky::cli {

// -- spec --------------------------------------------------------------------

/// Whether the task's replicas run on spot: `use_spot: true`, or every
/// alternative of `any_of`/`ordered` asks for spot (SkyServe requires all
/// or none).
bool task_uses_spot(const task::task_spec& task);

/// "Readiness probe method: GET /health", "Readiness initial delay seconds:
/// 1200", "Readiness probe timeout seconds: 15", "Readiness failure window
/// seconds: 180", "Replica autoscaling policy: Fixed 2 replicas", "Spot
/// policy: ...", "Load balancing policy: least_load" and, when given,
/// "Replica port: 8080": SkyServe's `Service spec:` lines (one "name:
/// value" each, like service_row::policy).
std::vector<std::string> service_spec_lines(const task::service_spec& spec,
                                            bool use_spot);

/// The autoscaling line's value: "Fixed 1 replica", "Fixed 2 replicas",
/// "Autoscaling from 1 to 3 replicas (target QPS per replica: 5)", with
/// ", 1 overprovisioned" inside the parentheses when set.
std::string autoscaling_policy_text(const task::replica_policy_spec& p);

/// The spot line's value: "No spot policy (on-demand replicas)", "Spot
/// replicas, no on-demand fallback", "Static spot mixture with 1 base on-demand
/// replica", "Dynamic on-demand fallback", or "Dynamic on-demand fallback
/// with 2 base on-demand replicas".
std::string spot_policy_text(const task::replica_policy_spec& p, bool use_spot);

/// "Service spec:" and the lines, each indented by two spaces.
void print_spec_lines(std::ostream& out, const std::vector<std::string>& lines);

// -- up / update -------------------------------------------------------------

/// After `serve up`: the service's name and endpoint, then the commands
/// to check it, send it a request, read its logs and tear it down.
void print_serve_up(std::ostream& out, const protocol::service_row& row);

/// After `serve update`: "Service 'x' updated to version N (mode)." and
/// how to watch the new replicas come up.
void print_serve_update(std::ostream& out, const protocol::service_row& row,
                        const std::string& mode);

// -- status ------------------------------------------------------------------

struct serve_status_style {
  /// -v: policy lines, QPS, routed versions, the replicas' reasons and the
  /// last output of failed replicas; and every replica, not only the
  /// first `max_replicas`.
  bool verbose = false;
  size_t max_replicas = 10;
};

/// "1h 5m", "42s": how long the service has had a ready replica; "-" when
/// it never had one (ready_since_ms == 0).
std::string uptime_text(int64_t ready_since_ms, int64_t now_ms);

/// "2/3": ready replicas / live replicas.
std::string replicas_text(const protocol::service_row& row);

/// The endpoint as a URL for curl ("http://" added to a bare host:port);
/// "" when there is none.
std::string endpoint_url(const std::string& endpoint);

/// "Services" and `NAME VERSION UPTIME STATUS REPLICAS ENDPOINT`, then
/// "Service Replicas" and `SERVICE_NAME ID VERSION ENDPOINT LAUNCHED INFRA
/// RESOURCES STATUS` (-v adds REASON and a block per service); "No
/// existing services." when there are none.
void print_serve_status(std::ostream& out,
                        const protocol::serve_status_reply& reply,
                        int64_t now_ms, const serve_status_style& style = {});

/// The reply as JSON: {"services": [...], "replicas": [...]} with every
/// field of service_row and replica_row (times in Unix milliseconds).
result<nlohmann::ordered_json>
serve_status_json(const protocol::serve_status_reply& reply);

/// `--endpoint NAME`: the URL of that service, or an error (not_found when
/// it is not listed, conflict when it has no endpoint yet) with a hint.
result<std::string> service_endpoint(const protocol::serve_status_reply& reply,
                                     const std::string& name);

// -- down --------------------------------------------------------------------

/// `serve down`'s arguments: names or -a (not both, not neither), and
/// --replica-id with exactly one name and without -a. Service names must
/// be valid names (cluster-name rules: replicas' clusters are named after
/// them). Errors are invalid_argument, with the fix as hint.
result<void> check_serve_down_args(const std::vector<std::string>& names,
                                   bool all, uint64_t replica_id);

/// The prompt of `serve down`: "Terminating service(s) 'a, b'. Proceed?",
/// "Terminating replica 3 of service 'a'. Proceed?".
std::string serve_down_question(const std::vector<std::string>& names,
                                uint64_t replica_id);

/// One line per outcome: successes on `out` (skyd's message, else
/// "Service 'a' terminated." / "Replica 3 of service 'a' terminated."),
/// failures on `err` as "skyctl: service 'a': why". Returns exit_failed
/// when any failed, else exit_ok.
int print_serve_down(std::ostream& out, std::ostream& err,
                     const protocol::serve_down_reply& reply,
                     uint64_t replica_id);

// -- names and logs ----------------------------------------------------------

/// `serve logs`: a replica id and --load-balancer exclude each other.
result<void> check_serve_logs_args(const std::string& name,
                                   std::optional<uint64_t> replica_id,
                                   bool load_balancer);

/// "skyctl serve logs NAME [ID | --load-balancer]": how to resume
/// following.
std::string serve_logs_command(const protocol::serve_logs_request& req);

} // namespace sky::cli
