#pragma once

// The cluster registry: the name -> cluster actor map. It re-creates the
// cluster actors from their snapshots at start-up, creates one for the
// first launch of a new name, routes the cluster verbs to them, and fans
// out `status` and `queue` over all of them.
//
// It also knows who owns each cluster (launch_order::owner, kept in the
// snapshot): the user ("") or a managed job. The user's verbs (every one
// the dispatcher sends) that change a cluster (exec, stop, start, down,
// autostop, cancel, launch on an existing name) are refused on a managed
// job's cluster, and `all` of stop/start/down means the user's clusters;
// reading verbs (status, queue, logs) see every cluster. A managed job
// tears its cluster down with the three-argument `down`.
//
//   (load_atom)                                  -> bool (when restored)
//   (new_name_atom)                              -> std::string unused name
//   (launch_atom, std::string, launch_order)     -> uint64_t job id
//   (exec_atom, std::string, task_spec)          -> uint64_t job id
//   (status_atom, clusters_request)              -> status_reply
//   (stop_atom | start_atom | down_atom, clusters_request) -> outcomes_reply
//   (down_atom, clusters_request, std::string owner) -> outcomes_reply
//       an owner's own teardown: clusters of other owners are left alone
//       (reported ok, "left alone")
//   (autostop_atom, autostop_request)            -> std::string
//   (queue_atom, queue_request)                  -> queue_reply
//   (cancel_atom, cancel_request)                -> outcomes_reply
//   (logs_atom, std::string, uint64_t)           -> job_log_target
//   (down_atom, std::string)                     from a cluster torn down
//   (node_event_atom, provider_event)            from a provider's event sink
//   (summary_atom, cluster_summary)              from a cluster that changed
//   (reconcile_atom)                             -> reconcile_report

#include <map>
#include <optional>
#include <string>
#include <vector>

#include <caf/event_based_actor.hpp>
#include <caf/stateful_actor.hpp>

#include "actors/cluster/cluster_actor.hpp"

CAF_ALLOW_UNSAFE_MESSAGE_TYPE(sky::protocol::clusters_request)
CAF_ALLOW_UNSAFE_MESSAGE_TYPE(sky::protocol::status_reply)
CAF_ALLOW_UNSAFE_MESSAGE_TYPE(sky::protocol::queue_request)
CAF_ALLOW_UNSAFE_MESSAGE_TYPE(sky::protocol::queue_reply)

namespace sky::actors {

/// What the start-up reconciliation with the providers found
/// (cluster_reconcile.cpp), for `daemon status`.
struct reconcile_report {
  /// When it finished (Unix ms); 0 while it runs.
  int64_t finished_at_ms = 0;
  uint32_t providers = 0;
  /// Clusters the providers hold, and those no cluster of skyd owns
  /// (terminated).
  uint32_t provider_clusters = 0;
  std::vector<std::string> orphans;
  /// Providers that could not be listed, and orphans that could not be
  /// terminated: "<provider>: <why>".
  std::vector<std::string> problems;

  /// "aws/ghost; gcp/old" (empty when none), for events and replies.
  std::string orphans_text() const;
  std::string problems_text() const;
};

} // namespace sky::actors

CAF_ALLOW_UNSAFE_MESSAGE_TYPE(sky::actors::reconcile_report)

namespace sky::actors {

struct registry_state {
  static inline const char* name = "cluster_registry";

  cluster_deps deps;
  std::map<std::string, caf::actor> clusters;
  /// Who owns each cluster of `clusters` (launch_order::owner); nullopt for
  /// a cluster restored from a snapshot written before owners existed (the
  /// user's for the user's verbs; a managed job may still tear it down).
  std::map<std::string, std::optional<std::string>> owners;
  /// The latest summary each cluster actor sent (see publish_summary);
  /// `status` asks only the clusters missing here.
  std::map<std::string, cluster_summary> summaries;
  bool loaded = false;
  reconcile_report reconciled;
};

caf::behavior cluster_registry(caf::stateful_actor<registry_state>* self,
                               cluster_deps deps);

/// After the clusters are restored: lists every provider's clusters and
/// terminates those no cluster of skyd owns, then records the result
/// (`daemon.reconciled`, when it terminated or failed anything). Runs in the
/// background: skyd serves meanwhile.
void reconcile_providers(caf::stateful_actor<registry_state>* self);

/// A cluster name for launches that give none: "sky-1a2b-<user>".
std::string generated_cluster_name(uint64_t entropy);

} // namespace sky::actors
