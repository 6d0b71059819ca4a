// What a cluster does when a provider reports that one of its nodes is gone
// without skyd asking (a spot preemption, a lost machine): the cluster is
// no longer whole, so it goes INIT with the reason, its running jobs end
// FAILED_DRIVER (their processes went with the node) and its pending ones
// are cancelled (the queue lived on the cluster). The surviving nodes are
// kept: `launch -c NAME` relaunches the cluster where it is, replacing the
// missing nodes (see do_start), as SkyPilot relaunches an INIT cluster on
// its existing resources. The event is recorded whatever the state, so the
// log shows every preemption.

#include "actors/cluster/cluster_internal.hpp"
#include "actors/core/logging.hpp"
#include "messages/msgpack_util.hpp"

namespace sky::actors::cluster_detail {

void on_node_event(cluster_ptr self, const providers::provider_event& ev) {
  auto& st = self->state;
  const bool preempted = ev.what == providers::provider_event::kind::preempted;
  const std::string what = preempted ? "preempted" : "lost";
  const std::string kind
    = preempted ? "cluster.preempted" : "cluster.node_lost";
  if (!st.recorded || ev.provider != st.snap.placement.provider) {
    // A cluster of the same name elsewhere (an older incarnation).
    logger("clusters")
      ->info("cluster {}: ignoring a node event of {} (the cluster is on {})",
             st.snap.name, ev.provider, st.snap.placement.provider);
    return;
  }
  auto fields = [&st, &ev] {
    return map_writer{6}
      .add("rank", ev.rank)
      .add("provider", ev.provider)
      .add("reason", ev.reason)
      .add("at_ms", ev.at_ms)
      .add("status", st.snap.status)
      .add("infra", st.snap.placement.infra())
      .bytes();
  };
  auto status = status_of(st);
  bool live = st.snap.phase == cluster_phase::none
              && (status == cluster_status::up
                  || status == cluster_status::autostopping);
  logger("clusters")
    ->warn("cluster {}: node {} {} on {}: {}", st.snap.name, ev.rank, what,
           ev.provider, ev.reason);
  if (!live) {
    // An operation in flight (launch, start, stop, teardown) sees the
    // provider's state itself; a STOPPED or INIT cluster runs nothing.
    persist(self, {cluster_event(st, kind, fields())}, [] {});
    return;
  }
  auto node = "node " + std::to_string(ev.rank);
  set_status(st, cluster_status::init);
  st.snap.reason = node + " was " + what + " (" + ev.reason
                   + "); launch the cluster again to replace it, or tear it "
                     "down";
  st.record = nullptr;
  st.snap.idle_since_ms = 0;
  ++st.autostop_epoch; // an INIT cluster is not autostopped
  persist(self, {cluster_event(st, kind, fields())}, [=] {
    end_all_jobs(
      self, node + " of the cluster was " + what + " (" + ev.reason + ")",
      [] {}, job_status::failed_driver);
  });
}

} // namespace sky::actors::cluster_detail
