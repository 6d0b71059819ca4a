#include <catch2/catch.hpp>

#include <atomic>
#include <csignal>
#include <filesystem>
#include <fstream>
#include <thread>

#include "providers/local/local_provider.hpp"
#include "tests/support/test_support.hpp"
#include "tests/unit/providers/local_test_util.hpp"

using namespace sky;
using namespace sky::providers;
using namespace sky::providers::testing;
namespace fs = std::filesystem;

namespace {

/// A host with 4 vCPUs, 16 GiB and 2 A100s, whatever this machine has.
local_settings settings_in(const fs::path& dir,
                           std::chrono::milliseconds kill_grace) {
  local_settings s;
  s.root = dir / "nodes";
  s.cpus = 4;
  s.memory_gib = 16;
  s.gpus = std::map<std::string, double>{{"A100", 2}};
  s.kill_grace = kill_grace;
  return s;
}

std::unique_ptr<local_provider> make(const fs::path& dir,
                                     std::chrono::milliseconds kill_grace
                                     = std::chrono::milliseconds(500)) {
  auto p = make_local_provider(settings_in(dir, kill_grace));
  REQUIRE(p);
  return std::move(*p);
}

provision_request request(std::string cluster, double cpus, uint32_t nodes = 1,
                          uint32_t attempt = 1) {
  provision_request r;
  r.cluster = std::move(cluster);
  r.attempt = attempt;
  r.num_nodes = nodes;
  r.per_node.cpus = cpus;
  return r;
}

process_spec sleeper(const std::string& name,
                     const std::string& script = "sleep 1000\n") {
  process_spec s;
  s.name = name;
  s.script = script;
  s.log_file = name + ".log";
  return s;
}

} // namespace

TEST_CASE("provider: name, features and the host as one machine") {
  sky::testing::temp_dir tmp{"skyloc"};
  kill_on_exit cleanup{tmp.path()};
  auto p = make(tmp.path());
  CHECK(p->name() == "local");
  auto f = p->features();
  CHECK(f.stop);
  CHECK_FALSE(f.spot);
  CHECK(f.multi_node);
  CHECK(f.open_ports);
  CHECK(f.gpus);
  auto cap = p->capacity();
  REQUIRE(cap);
  REQUIRE(cap->size() == 1);
  CHECK((*cap)[0].name == "localhost");
  CHECK((*cap)[0].total == node_resources{4, 16, {{"A100", 2}}});
  CHECK((*cap)[0].free == node_resources{4, 16, {{"A100", 2}}});
}

TEST_CASE("provider: reservations add up, stop releases, start re-checks, "
          "terminate releases") {
  sky::testing::temp_dir tmp{"skyloc"};
  kill_on_exit cleanup{tmp.path()};
  auto p = make(tmp.path());
  REQUIRE(p->run_instances(request("a", 1)));
  REQUIRE(p->run_instances(request("b", 1, 2)));
  auto c = p->run_instances(request("c", 8, 2));
  REQUIRE_FALSE(c);
  CHECK(code_of(c.error()) == errc::no_capacity);
  CHECK(scope_of(c.error()) == failure_scope::cloud);
  CHECK(message_of(c.error())
        == "local: needs 8 vCPUs per node x 2 nodes, 1 of 4 free (1 reserved "
           "by cluster 'a', 2 reserved by cluster 'b')");
  CHECK_FALSE(fs::exists(tmp.path() / "nodes/c"));
  CHECK((*p->capacity())[0].free.cpus == 1);

  REQUIRE(p->stop_instances("b"));
  CHECK((*p->capacity())[0].free.cpus == 3);
  REQUIRE(p->run_instances(request("c", 3)));
  // b restarts only if its 2 x 1 vCPUs fit again: they do not.
  auto b = p->run_instances(request("b", 1, 2, 2));
  REQUIRE_FALSE(b);
  CHECK(code_of(b.error()) == errc::no_capacity);
  CHECK_THAT(message_of(b.error()),
             Catch::Contains("0 of 4 free (1 reserved by cluster 'a', 3 "
                             "reserved by cluster 'c')"));
  REQUIRE(p->terminate_instances("c"));
  auto restarted = p->run_instances(request("b", 1, 2, 2));
  REQUIRE(restarted);
  CHECK(restarted->instances.size() == 2);
  CHECK(restarted->instances[1].state == instance_state::running);
  CHECK(restarted->instances[1].idempotency_key == "b#2");
  CHECK((*p->capacity())[0].free.cpus == 1);
}

TEST_CASE("provider: clusters that state no resources always fit") {
  sky::testing::temp_dir tmp{"skyloc"};
  kill_on_exit cleanup{tmp.path()};
  auto p = make(tmp.path());
  REQUIRE(p->run_instances(request("full", 4)));
  for (int i = 0; i < 10; ++i)
    REQUIRE(p->run_instances(request("tiny" + std::to_string(i), 0, 2)));
  CHECK_FALSE(p->run_instances(request("one-more", 0.5)));
  CHECK(p->list_clusters()->size() == 11);
}

TEST_CASE("provider: GPUs and memory are reserved like vCPUs") {
  sky::testing::temp_dir tmp{"skyloc"};
  kill_on_exit cleanup{tmp.path()};
  auto p = make(tmp.path());
  auto g1 = request("g1", 0);
  g1.per_node.gpus = {{"A100", 1}};
  g1.per_node.memory_gib = 4;
  REQUIRE(p->run_instances(g1));
  auto g2 = request("g2", 0);
  g2.per_node.gpus = {{"a100", 1}}; // matched whatever the case
  REQUIRE(p->run_instances(g2));
  auto g3 = request("g3", 0);
  g3.per_node.gpus = {{"A100", 0.5}};
  auto refused = p->run_instances(g3);
  REQUIRE_FALSE(refused);
  CHECK(message_of(refused.error())
        == "local: needs 0.5 A100 GPUs per node, 0 of 2 free (1 reserved by "
           "cluster 'g1', 1 reserved by cluster 'g2')");
  auto h100 = request("h", 0);
  h100.per_node.gpus = {{"H100", 1}};
  auto none = p->run_instances(h100);
  REQUIRE_FALSE(none);
  CHECK_THAT(message_of(none.error()), Catch::Contains("this host has none"));
  auto mem = request("m", 0);
  mem.per_node.memory_gib = 13;
  auto no_mem = p->run_instances(mem);
  REQUIRE_FALSE(no_mem);
  CHECK_THAT(message_of(no_mem.error()), Catch::Contains("12 of 16 free"));
  auto cap = (*p->capacity())[0];
  CHECK(cap.free.gpus.at("A100") == 0);
  CHECK(cap.free.memory_gib == 12);
}

TEST_CASE("provider: state on disk, a new provider object sees the clusters") {
  sky::testing::temp_dir tmp{"skyloc"};
  kill_on_exit cleanup{tmp.path()};
  {
    auto p = make(tmp.path());
    auto a = request("a", 1, 2);
    a.region = "local";
    a.ports = {{8080, 8081}};
    a.labels = {{"owner", "me"}};
    REQUIRE(p->run_instances(a));
    REQUIRE(p->run_instances(request("b", 2)));
    REQUIRE(p->stop_instances("b"));
  }
  CHECK(fs::exists(tmp.path() / "nodes/a/cluster.json"));
  CHECK(fs::is_directory(tmp.path() / "nodes/a/0"));
  CHECK(fs::is_directory(tmp.path() / "nodes/a/1"));
  auto p = make(tmp.path());
  auto all = p->list_clusters();
  REQUIRE(all);
  REQUIRE(all->size() == 2);
  CHECK((*all)[0].cluster == "a");
  CHECK((*all)[1].cluster == "b");
  CHECK((*all)[1].instances[0].state == instance_state::stopped);
  auto a = p->query_instances("a");
  REQUIRE(a);
  CHECK(a->provider == "local");
  CHECK(a->region == "local");
  CHECK(a->per_node.cpus == 1);
  REQUIRE(a->instances.size() == 2);
  CHECK(a->instances[1].id == "local:a:1");
  CHECK(a->instances[1].rank == 1);
  CHECK(a->instances[1].state == instance_state::running);
  CHECK(a->instances[1].internal_ip == "127.0.0.1");
  CHECK(a->instances[1].idempotency_key == "a#1");
  // Reservations come from disk too.
  CHECK((*p->capacity())[0].free.cpus == 2);
  auto missing = p->query_instances("nope");
  REQUIRE_FALSE(missing);
  CHECK(code_of(missing.error()) == errc::not_found);
}

TEST_CASE("provider: run_instances is idempotent per key, another key on a "
          "running cluster is already_exists") {
  sky::testing::temp_dir tmp{"skyloc"};
  kill_on_exit cleanup{tmp.path()};
  auto p = make(tmp.path());
  auto first = p->run_instances(request("a", 1, 2));
  REQUIRE(first);
  auto again = p->run_instances(request("a", 1, 2));
  REQUIRE(again);
  CHECK(again->instances.size() == 2);
  CHECK(again->instances[0].id == first->instances[0].id);
  CHECK((*p->capacity())[0].free.cpus == 2); // reserved once
  auto other = p->run_instances(request("a", 1, 2, 2));
  REQUIRE_FALSE(other);
  CHECK(code_of(other.error()) == errc::already_exists);
  CHECK_THAT(message_of(other.error()), Catch::Contains("'a#1'"));

  REQUIRE(p->stop_instances("a"));
  REQUIRE(p->stop_instances("a")); // already stopped: fine
  auto resized = p->run_instances(request("a", 1, 3, 3));
  REQUIRE_FALSE(resized);
  CHECK(code_of(resized.error()) == errc::invalid_argument);
  auto spot = request("s", 0);
  spot.use_spot = true;
  auto no_spot = p->run_instances(spot);
  REQUIRE_FALSE(no_spot);
  CHECK(code_of(no_spot.error()) == errc::unsupported);
  CHECK_FALSE(p->run_instances(request("../escape", 0)));
  CHECK_FALSE(p->run_instances(request("zero", 0, 0)));
}

TEST_CASE("provider: channels to nodes, stop kills every process of the "
          "cluster, keeps the sandboxes") {
  sky::testing::temp_dir tmp{"skyloc"};
  kill_on_exit cleanup{tmp.path()};
  // The stubborn process holds the stop for the whole grace; the wrappers
  // must have recorded their SIGTERM ends before it is over, which on a
  // loaded 2-core machine can take longer than 500 ms.
  auto p = make(tmp.path(), std::chrono::seconds(3));
  auto rec = p->run_instances(request("job", 0, 2));
  REQUIRE(rec);
  REQUIRE(
    p->wait_instances("job", instance_state::running, std::chrono::seconds(1)));
  auto head = p->open_channel(*rec, 0);
  auto worker = p->open_channel(*rec, 1);
  REQUIRE(head);
  REQUIRE(worker);
  CHECK((*head)->home() == (tmp.path() / "nodes/job/0").string());
  CHECK((*worker)->ip() == "127.0.0.1");
  CHECK_FALSE(p->open_channel(*rec, 2));

  auto h0 = (*head)->start(sleeper("run"));
  auto h1 = (*worker)->start(sleeper("run"));
  // Leaves the wrapper's process group and session: found by the marker.
  auto h2 = (*worker)->start(sleeper("escape", "setsid sleep 1000 & echo $! "
                                               "> escaped; wait\n"));
  // Ignores SIGTERM: needs the SIGKILL after the grace period.
  auto h3 = (*head)->start(sleeper("stubborn", "trap '' TERM; sleep 1000 & "
                                               "echo $! > stubborn; wait\n"));
  REQUIRE(h0);
  REQUIRE(h1);
  REQUIRE(h2);
  REQUIRE(h3);
  auto pid_in = [](const fs::path& f) {
    int64_t pid = 0;
    std::ifstream{f} >> pid;
    return pid;
  };
  auto escaped = tmp.path() / "nodes/job/1/escaped";
  auto stubborn = tmp.path() / "nodes/job/0/stubborn";
  REQUIRE(
    wait_until([&] { return pid_in(escaped) > 0 && pid_in(stubborn) > 0; }));
  REQUIRE(running(pid_in(escaped)));
  CHECK(local_detail::read_proc_stat(pid_in(escaped))->pgrp != h2->pid);
  // Nothing in another cluster is touched.
  auto other = p->run_instances(request("other", 0));
  REQUIRE(other);
  auto bystander = (*p->open_channel(*other, 0))->start(sleeper("keep"));
  REQUIRE(bystander);

  REQUIRE(p->stop_instances("job"));
  for (auto pid :
       {h0->pid, h1->pid, h2->pid, h3->pid, pid_in(escaped), pid_in(stubborn)})
    CHECK_FALSE(running(pid));
  auto st0 = (*head)->poll(*h0);
  REQUIRE(st0);
  CHECK(st0->state == process_state::exited);
  CHECK(st0->exit_code == 128 + SIGTERM);
  CHECK(running(bystander->pid));

  auto q = p->query_instances("job");
  REQUIRE(q);
  CHECK(q->instances[0].state == instance_state::stopped);
  CHECK(fs::exists(tmp.path() / "nodes/job/0/run.log"));
  auto closed = p->open_channel(*rec, 0);
  REQUIRE_FALSE(closed);
  CHECK(code_of(closed.error()) == errc::conflict);
  auto wait_run = p->wait_instances("job", instance_state::running,
                                    std::chrono::milliseconds(100));
  REQUIRE_FALSE(wait_run);
  CHECK(code_of(wait_run.error()) == errc::conflict);
  CHECK(code_of(p->stop_instances("nope").error()) == errc::not_found);

  REQUIRE(p->terminate_instances("other"));
  CHECK_FALSE(running(bystander->pid));
}

TEST_CASE("provider: while a stop kills processes, the cluster is stopping") {
  sky::testing::temp_dir tmp{"skyloc"};
  kill_on_exit cleanup{tmp.path()};
  auto p = make(tmp.path()); // 500 ms grace
  auto rec = p->run_instances(request("slow", 1));
  REQUIRE(rec);
  auto h = (*p->open_channel(*rec, 0))
             ->start(sleeper("stubborn", "trap '' TERM; sleep 1000\n"));
  REQUIRE(h);
  // Catch2 assertions are not thread-safe: results are checked on join.
  result<void> stop_result;
  std::thread stopper{[&] { stop_result = p->stop_instances("slow"); }};
  REQUIRE(wait_until([&] {
    auto q = p->query_instances("slow");
    return q && q->instances[0].state == instance_state::stopping;
  }));
  auto again = p->run_instances(request("slow", 1, 1, 2));
  REQUIRE_FALSE(again);
  CHECK(code_of(again.error()) == errc::transient);
  auto other = p->run_instances(request("unrelated", 1));
  CHECK(other); // other clusters do not wait for the kill
  auto stopped = p->wait_instances("slow", instance_state::stopped,
                                   std::chrono::seconds(10));
  stopper.join();
  CHECK(stop_result);
  REQUIRE(stopped);
  CHECK(stopped->instances[0].state == instance_state::stopped);
  CHECK_FALSE(running(h->pid));
}

TEST_CASE("provider: terminate kills, removes the directory, is idempotent") {
  sky::testing::temp_dir tmp{"skyloc"};
  kill_on_exit cleanup{tmp.path()};
  auto p = make(tmp.path());
  auto rec = p->run_instances(request("t", 2));
  REQUIRE(rec);
  auto h = (*p->open_channel(*rec, 0))->start(sleeper("run"));
  REQUIRE(h);
  REQUIRE(p->terminate_instances("t"));
  CHECK_FALSE(running(h->pid));
  CHECK_FALSE(fs::exists(tmp.path() / "nodes/t"));
  CHECK(code_of(p->query_instances("t").error()) == errc::not_found);
  CHECK(p->list_clusters()->empty());
  CHECK((*p->capacity())[0].free.cpus == 4);
  REQUIRE(p->terminate_instances("t"));
  REQUIRE(p->terminate_instances("never-existed"));
  auto gone = p->wait_instances("t", instance_state::terminated,
                                std::chrono::milliseconds(10));
  REQUIRE(gone);
  CHECK(gone->instances.empty());
  // A directory without a record (a crash before the record was written)
  // is removed too.
  fs::create_directories(tmp.path() / "nodes/half/0");
  REQUIRE(p->terminate_instances("half"));
  CHECK_FALSE(fs::exists(tmp.path() / "nodes/half"));
  CHECK(fs::is_empty(tmp.path() / "nodes/.trash"));
}

TEST_CASE("provider: an unreadable record is an error naming the file") {
  sky::testing::temp_dir tmp{"skyloc"};
  kill_on_exit cleanup{tmp.path()};
  auto p = make(tmp.path());
  REQUIRE(p->run_instances(request("ok", 1)));
  fs::create_directories(tmp.path() / "nodes/bad");
  std::ofstream{tmp.path() / "nodes/bad/cluster.json"} << "{not json";
  // Records are skyd's own files: a provider object caches them until one
  // of them changes through a store. A record damaged behind its back is
  // seen by the next object over the root (the next skyd).
  p = make(tmp.path());
  auto all = p->list_clusters();
  REQUIRE_FALSE(all);
  CHECK_THAT(message_of(all.error()),
             Catch::Contains("nodes/bad/cluster.json"));
  // Capacity cannot be known: nothing is granted.
  CHECK_FALSE(p->run_instances(request("new", 1)));
  REQUIRE(p->terminate_instances("bad"));
  CHECK(p->run_instances(request("new", 1)));
}

TEST_CASE("provider: provisioning waits for the store's file lock") {
  // What keeps two provider objects (or processes) over one root from
  // granting the same capacity twice.
  sky::testing::temp_dir tmp{"skyloc"};
  kill_on_exit cleanup{tmp.path()};
  auto p = make(tmp.path());
  local_detail::cluster_store store{p->root()};
  auto held = store.lock();
  REQUIRE(held);
  std::atomic<bool> done{false};
  std::optional<result<cluster_record>> late;
  std::thread t{[&] {
    late = p->run_instances(request("late", 1));
    done = true;
  }};
  std::this_thread::sleep_for(std::chrono::milliseconds(300));
  CHECK_FALSE(done);
  { auto release = std::move(*held); }
  t.join();
  CHECK(done);
  REQUIRE(late);
  CHECK(*late);
}

TEST_CASE("provider: concurrent provisioning never over-reserves") {
  sky::testing::temp_dir tmp{"skyloc"};
  kill_on_exit cleanup{tmp.path()};
  // Two provider objects over one root, as after a restart racing an old
  // instance: the store's file lock covers what the mutex cannot.
  auto p1 = make(tmp.path());
  auto p2 = make(tmp.path());
  constexpr int n = 16;
  std::atomic<int> granted{0};
  std::atomic<int> refused{0};
  std::atomic<int> other{0};
  std::vector<std::thread> threads;
  for (int i = 0; i < n; ++i)
    threads.emplace_back([&, i] {
      auto& p = i % 2 == 0 ? *p1 : *p2;
      auto r = p.run_instances(request("c" + std::to_string(i), 0.5, 2));
      if (r)
        ++granted;
      else if (code_of(r.error()) == errc::no_capacity)
        ++refused;
      else
        ++other;
    });
  for (auto& t : threads)
    t.join();
  CHECK(granted == 4); // 4 vCPUs / (0.5 x 2)
  CHECK(refused == n - 4);
  CHECK(other == 0);
  CHECK((*p1->capacity())[0].free.cpus == 0);
  CHECK(p2->list_clusters()->size() == 4);
}
