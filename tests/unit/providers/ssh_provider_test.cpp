// The ssh provider against real sshd processes on 127.0.0.2, .3, .4 (see
// ssh_test_util.hpp): provisioning whole hosts, remote detached processes,
// logs, signals, re-attaching, uploads, terminate, host keys, node loss.

#include <catch2/catch.hpp>

#include <csignal>
#include <fstream>
#include <thread>

#include "providers/ssh/ssh_provider.hpp"
#include "tests/unit/providers/ssh_test_util.hpp"

using namespace sky;
using namespace sky::providers;
using namespace sky::providers::testing;
namespace fs = std::filesystem;

#define SKIP_WITHOUT_SSHD()                                                    \
  if (!have_sshd()) {                                                          \
    WARN("skipped: " << sshd_binary                                            \
                     << " is not installed (scripts/setup installs "           \
                        "openssh-server)");                                    \
    return;                                                                    \
  }

namespace {

provision_request request(std::string cluster, uint32_t nodes,
                          uint32_t attempt = 1) {
  provision_request r;
  r.cluster = std::move(cluster);
  r.region = "lab";
  r.num_nodes = nodes;
  r.attempt = attempt;
  return r;
}

std::unique_ptr<ssh_provider> make(const ssh_settings& s) {
  auto p = make_ssh_provider(s);
  REQUIRE(p);
  return std::move(*p);
}

process_spec spec_of(std::string name, std::string script,
                     std::map<std::string, std::string> env = {},
                     std::string cwd = {}) {
  process_spec s;
  s.name = name;
  s.script = std::move(script);
  s.env = std::move(env);
  s.cwd = std::move(cwd);
  s.log_file = "logs/" + name + ".log";
  return s;
}

process_status wait_end(node_channel& ch, const process_handle& h) {
  process_status last;
  bool ended = wait_until(
    [&] {
      auto s = ch.poll(h);
      if (!s)
        return false;
      last = *s;
      return s->state != process_state::running;
    },
    std::chrono::seconds(20));
  REQUIRE(ended);
  return last;
}

std::string read_all(node_channel& ch, const std::string& log) {
  std::string all;
  uint64_t off = 0;
  while (true) {
    auto c = ch.read_log(log, off, 7); // small chunks: offsets matter
    REQUIRE(c);
    if (c->data.empty())
      return all;
    all += c->data;
    off = c->next_offset;
  }
}

} // namespace

TEST_CASE("ssh provider: a 2-node cluster takes whole hosts, idempotently",
          "[ssh][integration]") {
  SKIP_WITHOUT_SSHD();
  ssh_lab lab;
  kill_on_exit killer{lab.root() / "remote"};
  auto p = make(lab.settings());
  CHECK(p->name() == "ssh");
  CHECK_FALSE(p->features().stop);

  auto rec = p->run_instances(request("train", 2));
  INFO((rec ? "" : describe(rec.error()).message));
  REQUIRE(rec);
  REQUIRE(rec->instances.size() == 2);
  CHECK(rec->region == "lab");
  CHECK(rec->instances[0].internal_ip == "127.0.0.2");
  CHECK(rec->instances[1].internal_ip == "127.0.0.3");
  CHECK(rec->instances[0].state == instance_state::running);
  CHECK(fs::is_directory(lab.root() / "remote/train/0/.sky"));
  CHECK(fs::is_directory(lab.root() / "remote/train/1/.sky"));

  // The same attempt again: the same hosts.
  auto again = p->run_instances(request("train", 2));
  REQUIRE(again);
  CHECK(again->instances[1].internal_ip == "127.0.0.3");
  // Another attempt while running: refused.
  auto other = p->run_instances(request("train", 2, 2));
  REQUIRE_FALSE(other);
  CHECK(code_of(other.error()) == errc::already_exists);

  // One host left: capacity says so; a second 2-node cluster does not fit.
  auto cap = p->capacity();
  REQUIRE(cap);
  REQUIRE(cap->size() == 3);
  CHECK((*cap)[0].free.cpus == 0);
  CHECK((*cap)[2].free.cpus > 0);
  CHECK((*cap)[2].name == "lab/127.0.0.4:" + std::to_string(lab.host(2).port));
  auto full = p->run_instances(request("eval", 2));
  REQUIRE_FALSE(full);
  CHECK(code_of(full.error()) == errc::no_capacity);
  CHECK_THAT(message_of(full.error()),
             Catch::Contains("held by cluster 'train'"));
  auto huge = request("big", 1);
  huge.per_node.cpus = 100000;
  auto no_fit = p->run_instances(huge);
  REQUIRE_FALSE(no_fit);
  CHECK_THAT(message_of(no_fit.error()), Catch::Contains("100000 asked"));

  // Stop is declared unsupported and says what to do instead.
  auto stop = p->stop_instances("train");
  REQUIRE_FALSE(stop);
  CHECK(code_of(stop.error()) == errc::unsupported);
  CHECK_THAT(describe(stop.error()).hint, Catch::Contains("skyctl down train"));

  // The assignment survives a new provider object (a skyd restart).
  auto p2 = make(lab.settings());
  auto q = p2->query_instances("train");
  REQUIRE(q);
  CHECK(q->instances.size() == 2);
  auto listed = p2->list_clusters();
  REQUIRE(listed);
  CHECK(listed->size() == 1);
  auto unknown = p2->query_instances("nope");
  REQUIRE_FALSE(unknown);
  CHECK(code_of(unknown.error()) == errc::not_found);
}

TEST_CASE("ssh channel: a job runs detached with env and cwd; logs by offset",
          "[ssh][integration]") {
  SKIP_WITHOUT_SSHD();
  ssh_lab lab;
  kill_on_exit killer{lab.root() / "remote"};
  auto p = make(lab.settings());
  auto rec = p->run_instances(request("jobs", 2));
  REQUIRE(rec);
  auto ch = p->open_channel(*rec, 1);
  REQUIRE(ch);
  CHECK((*ch)->ip() == "127.0.0.3");
  CHECK((*ch)->home() == (lab.root() / "remote/jobs/1").string());

  auto h = (*ch)->start(
    spec_of("job-1",
            "echo \"greeting=$GREETING\"; pwd; echo \"node=$SKYD_NODE_HOME\"; "
            "echo err >&2; exit 3",
            {{"GREETING", "it's a \"test\""}}, "work/dir"));
  INFO((h ? "" : describe(h.error()).message));
  REQUIRE(h);
  CHECK(h->pid > 0);
  auto end = wait_end(**ch, *h);
  CHECK(end.state == process_state::exited);
  CHECK(end.exit_code == 3);
  CHECK(end.ended_at_ms > 0);
  auto log = read_all(**ch, h->log_file);
  auto home = (*ch)->home();
  CHECK(log
        == "greeting=it's a \"test\"\n" + home + "/work/dir\nnode=" + home
             + "\nerr\n");
  // Past the end: empty, same offset.
  auto tail = (*ch)->read_log(h->log_file, log.size(), 100);
  REQUIRE(tail);
  CHECK(tail->data.empty());
  CHECK(tail->next_offset == log.size());
  auto missing = (*ch)->read_log("logs/none.log", 0, 10);
  REQUIRE_FALSE(missing);
  CHECK(code_of(missing.error()) == errc::not_found);

  // Bad input is refused before anything runs.
  auto bad = (*ch)->start(spec_of("job-2", "true", {{"1BAD", "x"}}));
  REQUIRE_FALSE(bad);
  CHECK(code_of(bad.error()) == errc::invalid_argument);
}

TEST_CASE("ssh channel: signal reaches the whole process group",
          "[ssh][integration]") {
  SKIP_WITHOUT_SSHD();
  ssh_lab lab(1);
  kill_on_exit killer{lab.root() / "remote"};
  auto p = make(lab.settings());
  auto rec = p->run_instances(request("sig", 1));
  REQUIRE(rec);
  auto ch = p->open_channel(*rec, 0);
  REQUIRE(ch);
  auto h = (*ch)->start(spec_of("job-1", "sleep 300 & sleep 301; wait"));
  REQUIRE(h);
  // Right after start the group already holds the script's processes.
  CHECK(wait_until([&] { return live_group_members(h->pid).size() >= 3; }));
  auto s = (*ch)->poll(*h);
  REQUIRE(s);
  CHECK(s->state == process_state::running);
  REQUIRE((*ch)->signal(*h, SIGTERM));
  auto end = wait_end(**ch, *h);
  CHECK(end.state == process_state::exited);
  CHECK(end.exit_code == 128 + SIGTERM);
  CHECK(wait_until([&] { return live_group_members(h->pid).empty(); }));
  // A handle whose start time is not the pid's is never signalled (a
  // reused pid); the same once the pid is reaped (a zombie still reserves
  // it, so signalling it then is harmless, as on local).
  auto other = (*ch)->start(spec_of("job-2", "sleep 300"));
  REQUIRE(other);
  auto forged = *other;
  forged.start_ticks += 1;
  auto refused = (*ch)->signal(forged, SIGKILL);
  REQUIRE_FALSE(refused);
  CHECK(code_of(refused.error()) == errc::not_found);
  auto st = (*ch)->poll(*other);
  REQUIRE(st);
  CHECK(st->state == process_state::running);
  REQUIRE((*ch)->signal(*other, SIGTERM));
  CHECK(wait_end(**ch, *other).exit_code == 128 + SIGTERM);
  auto again = (*ch)->signal(*h, SIGTERM);
  if (!local_detail::read_proc_stat(h->pid)) {
    REQUIRE_FALSE(again);
    CHECK(code_of(again.error()) == errc::not_found);
  }
}

TEST_CASE("ssh channel: processes outlive the session and are found again",
          "[ssh][integration]") {
  SKIP_WITHOUT_SSHD();
  ssh_lab lab(1);
  kill_on_exit killer{lab.root() / "remote"};
  auto p = make(lab.settings());
  auto rec = p->run_instances(request("re", 1));
  REQUIRE(rec);
  auto ch = p->open_channel(*rec, 0);
  REQUIRE(ch);
  auto h = (*ch)->start(spec_of("job-1", "echo started; sleep 300"));
  REQUIRE(h);
  auto none = (*ch)->find_process("logs/job-9.log");
  REQUIRE(none);
  CHECK_FALSE(*none);

  // Drop every connection, then come back as a new skyd would.
  p->drop_sessions();
  p.reset();
  auto p2 = make(lab.settings());
  auto rec2 = p2->query_instances("re");
  REQUIRE(rec2);
  auto ch2 = p2->open_channel(*rec2, 0);
  REQUIRE(ch2);
  auto found = (*ch2)->find_process("logs/job-1.log");
  REQUIRE(found);
  REQUIRE(*found);
  CHECK(**found == *h);
  auto s = (*ch2)->poll(**found);
  REQUIRE(s);
  CHECK(s->state == process_state::running);
  CHECK(
    wait_until([&] { return read_all(**ch2, h->log_file) == "started\n"; }));
  REQUIRE((*ch2)->signal(**found, SIGKILL));
  // SIGKILL cannot be trapped: no exit record, so the process is lost.
  bool lost = wait_until([&] {
    auto st = (*ch2)->poll(**found);
    return st && st->state == process_state::lost;
  });
  CHECK(lost);

  // A process that ended is found by its exit file alone.
  auto h2 = (*ch2)->start(spec_of("job-2", "exit 7"));
  REQUIRE(h2);
  wait_end(**ch2, *h2);
  auto ended = (*ch2)->find_process("logs/job-2.log");
  REQUIRE(ended);
  REQUIRE(*ended);
  CHECK((*ended)->pid == 0);
  auto st = (*ch2)->poll(**ended);
  REQUIRE(st);
  CHECK(st->state == process_state::exited);
  CHECK(st->exit_code == 7);
}

TEST_CASE("ssh channel: upload copies only changed files",
          "[ssh][integration]") {
  SKIP_WITHOUT_SSHD();
  ssh_lab lab(1);
  kill_on_exit killer{lab.root() / "remote"};
  auto p = make(lab.settings());
  auto rec = p->run_instances(request("up", 1));
  REQUIRE(rec);
  auto ch = p->open_channel(*rec, 0);
  REQUIRE(ch);
  auto src = lab.root() / "workdir";
  fs::create_directories(src / "sub/deeper");
  fs::create_directories(src / ".git");
  std::ofstream{src / "a.txt"} << "alpha";
  std::ofstream{src / "sub/b.txt"} << "bravo!";
  std::ofstream{src / "sub/deeper/c.sh"} << "#!/bin/sh\necho c\n";
  fs::permissions(src / "sub/deeper/c.sh", fs::perms::owner_all);
  std::ofstream{src / ".git/HEAD"} << "ref";
  fs::create_symlink("a.txt", src / "link");

  auto first = (*ch)->upload(src, "sky_workdir");
  INFO((first ? "" : describe(first.error()).message));
  REQUIRE(first);
  CHECK(first->files_copied == 4); // 3 files + 1 link
  CHECK(first->bytes_copied == 5 + 6 + 17);
  auto dst = lab.root() / "remote/up/0/sky_workdir";
  CHECK(slurp(dst / "sub/b.txt") == "bravo!");
  CHECK(fs::is_symlink(dst / "link"));
  CHECK(fs::read_symlink(dst / "link") == "a.txt");
  CHECK_FALSE(fs::exists(dst / ".git"));
  CHECK(
    (fs::status(dst / "sub/deeper/c.sh").permissions() & fs::perms::owner_exec)
    != fs::perms::none);

  auto second = (*ch)->upload(src, "sky_workdir");
  REQUIRE(second);
  CHECK(second->files_copied == 0);
  CHECK(second->files_unchanged == 4);
  CHECK(second->bytes_copied == 0);

  std::ofstream{src / "a.txt"} << "alpha, longer";
  fs::remove(src / "sub/b.txt");
  auto third = (*ch)->upload(src, "sky_workdir");
  REQUIRE(third);
  CHECK(third->files_copied == 1);
  CHECK(third->files_deleted == 1);
  CHECK(slurp(dst / "a.txt") == "alpha, longer");
  CHECK_FALSE(fs::exists(dst / "sub/b.txt"));
}

TEST_CASE("ssh provider: terminate kills the cluster's processes, removes its "
          "directories and releases the hosts",
          "[ssh][integration]") {
  SKIP_WITHOUT_SSHD();
  ssh_lab lab(2);
  kill_on_exit killer{lab.root() / "remote"};
  auto p = make(lab.settings());
  auto rec = p->run_instances(request("gone", 2));
  REQUIRE(rec);
  std::vector<int64_t> pids;
  for (uint32_t rank = 0; rank < 2; ++rank) {
    auto ch = p->open_channel(*rec, rank);
    REQUIRE(ch);
    // A child that leaves the group (setsid) is found by the node marker.
    auto h = (*ch)->start(spec_of("job-1", "setsid sleep 300 & sleep 300"));
    REQUIRE(h);
    pids.push_back(h->pid);
  }
  REQUIRE(p->terminate_instances("gone"));
  for (auto pid : pids)
    CHECK(wait_until([&] { return !running(pid); }));
  CHECK_FALSE(fs::exists(lab.root() / "remote/gone"));
  auto q = p->query_instances("gone");
  REQUIRE_FALSE(q);
  CHECK(code_of(q.error()) == errc::not_found);
  REQUIRE(p->terminate_instances("gone")); // idempotent
  auto cap = p->capacity();
  REQUIRE(cap);
  for (const auto& m : *cap)
    CHECK(m.free.cpus > 0);
  CHECK(p->run_instances(request("next", 2)));
}

TEST_CASE("ssh host keys: a changed key is refused loudly; strict refuses "
          "unknown hosts",
          "[ssh][integration]") {
  SKIP_WITHOUT_SSHD();
  ssh_lab lab(1);
  auto s = lab.settings();
  {
    auto p = make(s);
    auto checks = p->check_hosts();
    REQUIRE(checks.size() == 1);
    INFO(checks[0].problem);
    CHECK(checks[0].ok);
    CHECK(checks[0].probe.cpus >= 1);
  }
  auto known = slurp(s.root / "known_hosts");
  CHECK_THAT(
    known, Catch::Contains("[127.0.0.2]:" + std::to_string(lab.host(0).port)));

  lab.restart_host(0, true);
  auto p = make(s);
  auto checks = p->check_hosts();
  REQUIRE(checks.size() == 1);
  CHECK_FALSE(checks[0].ok);
  CHECK_THAT(checks[0].problem, Catch::Contains("HOST KEY CHANGED"));
  CHECK_THAT(checks[0].problem, Catch::Contains("127.0.0.2"));
  CHECK_THAT(checks[0].problem, Catch::Contains("SHA256:"));
  CHECK_THAT(checks[0].problem,
             Catch::Contains((s.root / "known_hosts").string()));
  auto rec = p->run_instances(request("c", 1));
  REQUIRE_FALSE(rec);
  CHECK_THAT(message_of(rec.error()), Catch::Contains("HOST KEY CHANGED"));
  CHECK(slurp(s.root / "known_hosts") == known); // never rewritten

  auto strict = lab.settings();
  strict.root = lab.root() / "state-strict";
  strict.policy = ssh::host_key_policy::strict;
  auto ps = make(strict);
  auto sc = ps->check_hosts();
  REQUIRE(sc.size() == 1);
  CHECK_FALSE(sc[0].ok);
  CHECK_THAT(sc[0].problem, Catch::Contains("host key policy strict"));
}

TEST_CASE("ssh provider: an unreachable host and a refused key are named; "
          "the rest of the pool works",
          "[ssh][integration]") {
  SKIP_WITHOUT_SSHD();
  ssh_lab lab(2);
  kill_on_exit killer{lab.root() / "remote"};
  auto s = lab.settings();
  // Host 0 refuses our key (a key it never authorized); host 2 is nothing.
  auto other_key = lab.root() / "otherkey";
  REQUIRE(sky::testing::run({"ssh-keygen", "-q", "-t", "ed25519", "-N", "",
                             "-f", other_key.string()})
            .exit_code
          == 0);
  s.pools.pools[0].hosts[0].identity_file = other_key.string();
  auto dead_port = free_port("127.0.0.4");
  s.pools.pools[0].hosts.push_back(
    ssh::pool_host{"127.0.0.4", dead_port, current_user(), lab.key().string()});
  auto p = make(s);
  auto checks = p->check_hosts();
  REQUIRE(checks.size() == 3);
  CHECK_FALSE(checks[0].ok);
  CHECK_THAT(checks[0].problem, Catch::Contains("refused the key"));
  CHECK_THAT(checks[0].problem, Catch::Contains("127.0.0.2"));
  CHECK(checks[1].ok);
  CHECK_FALSE(checks[2].ok);
  CHECK_THAT(checks[2].problem, Catch::Contains("cannot connect to"));
  CHECK_THAT(checks[2].problem, Catch::Contains("127.0.0.4"));

  auto two = p->run_instances(request("c2", 2));
  REQUIRE_FALSE(two);
  CHECK_THAT(message_of(two.error()), Catch::Contains("refused the key"));
  auto one = p->run_instances(request("c1", 1));
  REQUIRE(one);
  CHECK(one->instances[0].internal_ip == "127.0.0.3");
}

TEST_CASE("ssh provider: a host that stops answering is lost and an event "
          "is pushed",
          "[ssh][integration]") {
  SKIP_WITHOUT_SSHD();
  ssh_lab lab(2);
  kill_on_exit killer{lab.root() / "remote"};
  auto p = make(lab.settings());
  std::mutex mu;
  std::vector<provider_event> events;
  p->set_event_sink([&](provider_event ev) {
    std::lock_guard guard{mu};
    events.push_back(std::move(ev));
  });
  auto rec = p->run_instances(request("lossy", 2));
  REQUIRE(rec);
  auto ch = p->open_channel(*rec, 1);
  REQUIRE(ch);
  auto h = (*ch)->start(spec_of("job-1", "sleep 300"));
  REQUIRE(h);
  REQUIRE((*ch)->poll(*h));

  // The machine goes away: its sshd, its sessions and its processes.
  lab.kill_host(1);
  ::kill(static_cast<pid_t>(-h->pid), SIGKILL);
  // Not lost at once: a short outage is a transient error.
  auto early = (*ch)->poll(*h);
  REQUIRE_FALSE(early);
  CHECK(code_of(early.error()) == errc::transient);
  bool lost = wait_until(
    [&] {
      auto s = (*ch)->poll(*h);
      return s && s->state == process_state::lost;
    },
    std::chrono::seconds(15));
  CHECK(lost);
  {
    std::lock_guard guard{mu};
    REQUIRE(events.size() == 1);
    CHECK(events[0].what == provider_event::kind::lost);
    CHECK(events[0].provider == "ssh");
    CHECK(events[0].cluster == "lossy");
    CHECK(events[0].rank == 1);
    CHECK_THAT(events[0].reason, Catch::Contains("127.0.0.3"));
  }
  auto lost_ranks = p->check_nodes("lossy");
  REQUIRE(lost_ranks);
  CHECK(*lost_ranks == std::vector<uint32_t>{1});
  // The healthy node still works.
  auto ch0 = p->open_channel(*rec, 0);
  REQUIRE(ch0);
  auto h0 = (*ch0)->start(spec_of("job-2", "echo fine"));
  REQUIRE(h0);
  CHECK(wait_end(**ch0, *h0).exit_code == 0);

  // Down with a host still down: the hosts are released, the dead one's
  // directory is cleaned once it answers again.
  REQUIRE(p->terminate_instances("lossy"));
  CHECK(fs::exists(lab.root() / "remote/lossy/1"));
  CHECK(fs::exists(lab.root() / "state/cleanup.json"));
  lab.restart_host(1, false);
  auto p2 = make(lab.settings());
  auto again = p2->run_instances(request("after", 2));
  INFO((again ? "" : describe(again.error()).message));
  REQUIRE(again);
  CHECK_FALSE(fs::exists(lab.root() / "remote/lossy"));
}

TEST_CASE("ssh provider: a free host that died since its probe is passed "
          "over, and no longer offered",
          "[ssh][integration]") {
  SKIP_WITHOUT_SSHD();
  ssh_lab lab(3);
  kill_on_exit killer{lab.root() / "remote"};
  auto p = make(lab.settings());
  // Every host probed (and cached) while alive.
  REQUIRE(p->capacity()->size() == 3);
  lab.kill_host(0);
  // The cached probe still offers host 0 ...
  CHECK(p->capacity()->size() == 3);
  // ... so it is chosen first, found dead, and the next free host takes
  // its place: ranks 0 and 1 on hosts 1 and 2.
  auto rec = p->run_instances(request("c", 2));
  INFO((rec ? std::string{} : message_of(rec.error())));
  REQUIRE(rec);
  REQUIRE(rec->instances.size() == 2);
  CHECK(rec->instances[0].internal_ip == "127.0.0.3");
  CHECK(rec->instances[1].internal_ip == "127.0.0.4");
  // Capacity no longer counts the dead host.
  auto cap = p->capacity();
  REQUIRE(cap);
  CHECK(cap->size() == 2);
  for (const auto& m : *cap)
    CHECK(m.name.find("127.0.0.2") == std::string::npos);
  // With no free host left, the refusal names the dead one.
  auto more = p->run_instances(request("d", 1));
  REQUIRE_FALSE(more);
  CHECK(code_of(more.error()) == errc::no_capacity);
  CHECK_THAT(message_of(more.error()), Catch::Contains("127.0.0.2"));
  REQUIRE(p->terminate_instances("c"));
}
