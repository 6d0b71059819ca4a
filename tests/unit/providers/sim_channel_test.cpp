#include <catch2/catch.hpp>

#include <csignal>
#include <fstream>
#include <map>

#include "local_test_util.hpp"
#include "providers/sim/sim_channels.hpp"
#include "sim_test_util.hpp"

using namespace sky;
using namespace sky::providers;
using namespace sky::providers::testing;
using namespace std::chrono_literals;
using Catch::Matchers::Contains;

namespace {

std::unique_ptr<node_channel>
channel(sim_provider& p, const std::string& cluster, uint32_t rank = 0) {
  auto rec = p.query_instances(cluster);
  REQUIRE(rec);
  auto ch = p.open_channel(*rec, rank);
  if (!ch)
    FAIL(text_of(ch.error()));
  return std::move(*ch);
}

process_spec spec(const std::string& name, const std::string& script) {
  process_spec s;
  s.name = name;
  s.script = script;
  s.log_file = "logs/" + name + ".log";
  return s;
}

// Launches `cluster` (m5.large in us-east-1a): a channel to node `rank`.
std::unique_ptr<node_channel> launch_node(sim_fixture& f,
                                          const std::string& cluster,
                                          bool spot = false, uint32_t nodes = 1,
                                          uint32_t rank = 0) {
  REQUIRE(f.aws->run_instances(
    sim_request(cluster, "us-east-1", "us-east-1a", "m5.large", spot, nodes)));
  return channel(*f.aws, cluster, rank);
}

process_status poll_ok(node_channel& ch, const process_handle& h) {
  auto s = ch.poll(h);
  REQUIRE(s);
  return *s;
}

} // namespace

TEST_CASE("sim directive: duration and exit code from the script") {
  auto d = parse_sim_directive("#!/bin/bash\n# sim: duration=30s exit=3\n"
                               "python train.py\n");
  REQUIRE(d);
  CHECK(d->duration_ms == 30'000);
  CHECK(d->exit_code == 3);
  auto none = parse_sim_directive("echo hi\n# a comment\n");
  REQUIRE(none);
  CHECK(none->duration_ms == 0);
  CHECK(none->exit_code == 0);
  auto forever = parse_sim_directive("  #sim: duration=forever\n");
  REQUIRE(forever);
  CHECK_FALSE(forever->duration_ms);
  auto later = parse_sim_directive("# sim: duration=1m\n# sim: exit=1, "
                                   "duration=2h\n");
  REQUIRE(later);
  CHECK(later->duration_ms == 7'200'000);
  CHECK(later->exit_code == 1);
  auto typo = parse_sim_directive("# sim: durration=5s\n");
  REQUIRE_FALSE(typo);
  CHECK_THAT(text_of(typo.error()), Contains("did you mean 'duration'?"));
  CHECK_FALSE(parse_sim_directive("# sim: exit=300\n"));
  CHECK_FALSE(parse_sim_directive("# sim: duration=soon\n"));
  CHECK_FALSE(parse_sim_directive("# sim: 30s\n"));
}

TEST_CASE("sim channel, virtual: processes run for their scripted duration "
          "on the sim clock") {
  sim_fixture f;
  f.open();
  auto ch = launch_node(f, "v", false, 2, 1);
  CHECK(ch->home() == (f.world->settings().root / "aws" / "v" / "1").string());
  CHECK(ch->ip() == "127.0.0.1");
  // Nothing is created on disk in virtual mode.
  CHECK_FALSE(std::filesystem::exists(ch->home()));
  const int64_t t0 = *f.clock;
  auto h = ch->start(spec("train", "# sim: duration=30s exit=3\nrun\n"));
  REQUIRE(h);
  CHECK(h->log_file == ch->home() + "/logs/train.log");
  CHECK(poll_ok(*ch, *h).state == process_state::running);
  f.advance_ms(29'999);
  CHECK(poll_ok(*ch, *h).state == process_state::running);
  f.advance_ms(1);
  auto done = poll_ok(*ch, *h);
  CHECK(done.state == process_state::exited);
  CHECK(done.exit_code == 3);
  CHECK(done.ended_at_ms == t0 + 30'000);
  // No directive: ends at once with 0.
  auto quick = ch->start(spec("setup", "pip install x\n"));
  REQUIRE(quick);
  auto q = poll_ok(*ch, *quick);
  CHECK(q.state == process_state::exited);
  CHECK(q.exit_code == 0);
  // The log says what happened.
  auto log = ch->read_log("logs/train.log", 0, 1 << 20);
  REQUIRE(log);
  CHECK_THAT(log->data, Contains("virtual node"));
  CHECK_THAT(log->data, Contains("runs 30s of sim time, then exits with 3"));
  auto tail = ch->read_log("logs/train.log", log->next_offset, 100);
  REQUIRE(tail);
  CHECK(tail->data.empty());
  CHECK_FALSE(ch->read_log("logs/none.log", 0, 10));
  // Found again by its log (recovery after a crash between start and
  // recording the handle).
  auto found = ch->find_process("logs/train.log");
  REQUIRE(found);
  REQUIRE(*found);
  CHECK(**found == *h);
  auto never = ch->find_process("logs/other.log");
  REQUIRE(never);
  CHECK_FALSE(*never);
  // A channel of the other node sees none of them.
  auto other = channel(*f.aws, "v", 0);
  CHECK(poll_ok(*other, *h).state == process_state::lost);
}

TEST_CASE("sim channel, virtual: signals end a process with 128+sig") {
  sim_fixture f;
  f.open();
  auto ch = launch_node(f, "v");
  auto h = ch->start(spec("serve", "# sim: duration=forever\n"));
  REQUIRE(h);
  f.advance_min(60);
  CHECK(poll_ok(*ch, *h).state == process_state::running);
  REQUIRE(ch->signal(*h, 0));
  REQUIRE(ch->signal(*h, SIGTERM));
  auto s = poll_ok(*ch, *h);
  CHECK(s.state == process_state::exited);
  CHECK(s.exit_code == 143);
  CHECK(s.ended_at_ms == *f.clock);
  auto again = ch->signal(*h, SIGKILL);
  REQUIRE_FALSE(again);
  CHECK(code_of_error(again.error()) == errc::not_found);
  CHECK_FALSE(ch->signal(*h, -1));
}

TEST_CASE("sim channel, virtual: a preempted or torn-down node loses its "
          "processes") {
  sim_fixture f;
  f.open();
  REQUIRE(f.aws->run_instances(
    sim_request("v", "us-east-1", "us-east-1a", "m5.large", true)));
  auto ch = channel(*f.aws, "v");
  auto short_job = ch->start(spec("a", "# sim: duration=1m\n"));
  auto long_job = ch->start(spec("b", "# sim: duration=2h\n"));
  REQUIRE(short_job);
  REQUIRE(long_job);
  f.advance_min(10);
  REQUIRE(f.world->preempt("v"));
  f.advance_min(200);
  // Ended before the preemption: its exit stands.
  auto a = poll_ok(*ch, *short_job);
  CHECK(a.state == process_state::exited);
  CHECK(a.exit_code == 0);
  CHECK(poll_ok(*ch, *long_job).state == process_state::lost);
  auto start = ch->start(spec("c", "true\n"));
  REQUIRE_FALSE(start);
  CHECK(code_of_error(start.error()) == errc::conflict);
  CHECK_THAT(text_of(start.error()), Contains("preempted"));
  CHECK_FALSE(f.aws->open_channel(*f.aws->query_instances("v"), 0));
  REQUIRE(f.aws->terminate_instances("v"));
  CHECK(poll_ok(*ch, *short_job).state == process_state::lost);
}

TEST_CASE("sim channel, virtual: stopping a node stops its processes as "
          "SIGTERM would") {
  sim_fixture f;
  f.open();
  REQUIRE(f.aws->run_instances(
    sim_request("v", "us-east-1", "us-east-1a", "m5.large")));
  auto ch = channel(*f.aws, "v");
  auto h = ch->start(spec("job", "# sim: duration=1h\n"));
  REQUIRE(h);
  f.advance_min(5);
  REQUIRE(f.aws->stop_instances("v"));
  auto s = poll_ok(*ch, *h);
  CHECK(s.state == process_state::exited);
  CHECK(s.exit_code == 143);
}

TEST_CASE("sim channel, virtual: watch_exit tells when a process ends, "
          "once, whatever ends it") {
  sim_fixture f;
  f.open();
  auto ch = launch_node(f, "v", false, 2);
  auto ch1 = channel(*f.aws, "v", 1);
  std::map<std::string, int> told;
  auto watch
    = [&](node_channel& c, const process_handle& h, const std::string& name) {
        return c.watch_exit(h, [&told, name] { ++told[name]; });
      };
  const int64_t t0 = *f.clock;
  auto timed = ch->start(spec("timed", "# sim: duration=30s\n"));
  auto signalled = ch->start(spec("signalled", "# sim: duration=forever\n"));
  auto stopped = ch1->start(spec("stopped", "# sim: duration=1h\n"));
  auto quick = ch->start(spec("quick", "true\n"));
  REQUIRE((timed && signalled && stopped && quick));
  CHECK_FALSE(f.world->next_due_at());
  REQUIRE(watch(*ch, *timed, "timed"));
  REQUIRE(watch(*ch, *signalled, "signalled"));
  REQUIRE(watch(*ch1, *stopped, "stopped"));
  // Already over: told at once, from the call itself.
  REQUIRE(watch(*ch, *quick, "quick"));
  CHECK(told == std::map<std::string, int>{{"quick", 1}});
  // The scripted end is due at its time; sim_watch looks then.
  CHECK(f.world->next_due_at() == t0 + 30'000);
  f.advance_ms(29'999);
  CHECK(f.world->check_preemptions() == 0);
  CHECK(told.count("timed") == 0);
  f.advance_ms(1);
  // Nobody polls the process: any look into the world sees the end.
  (void) f.world->check_preemptions();
  CHECK(told["timed"] == 1);
  CHECK(f.world->next_due_at() == t0 + 3'600'000);
  // A signal ends it at once. A notice that throws breaks nothing (the
  // signal, other notices).
  REQUIRE(ch->watch_exit(*signalled,
                         [] { throw std::runtime_error("watcher gone"); }));
  REQUIRE(ch->signal(*signalled, SIGTERM));
  CHECK(told["signalled"] == 1);
  CHECK(poll_ok(*ch, *signalled).exit_code == 143);
  CHECK(told.count("stopped") == 0);
  // Stopping the node stops its processes (SIGTERM).
  REQUIRE(f.aws->stop_instances("v"));
  CHECK(told["stopped"] == 1);
  // A preempted node loses them, and a torn-down one.
  auto wch = launch_node(f, "w", true);
  auto spot = wch->start(spec("spot", "# sim: duration=forever\n"));
  REQUIRE(spot);
  REQUIRE(watch(*wch, *spot, "spot"));
  REQUIRE(f.world->preempt("w"));
  CHECK(told["spot"] == 1);
  auto xch = launch_node(f, "x");
  auto gone = xch->start(spec("gone", "# sim: duration=forever\n"));
  REQUIRE(gone);
  REQUIRE(watch(*xch, *gone, "gone"));
  REQUIRE(f.aws->terminate_instances("x"));
  CHECK(told["gone"] == 1);
  // Each notice came once, and nothing is left to look for.
  f.advance_min(120);
  (void) f.world->check_preemptions();
  for (const auto& [name, n] : told)
    CHECK(n == 1);
  CHECK(told.size() == 6);
  CHECK_FALSE(f.world->next_due_at());
}

TEST_CASE("sim channel, virtual: upload copies nothing and counts files") {
  sim_fixture f;
  f.open();
  REQUIRE(f.aws->run_instances(
    sim_request("v", "us-east-1", "us-east-1a", "m5.large")));
  auto ch = channel(*f.aws, "v");
  auto src = f.dir.path() / "src";
  std::filesystem::create_directories(src / "sub");
  std::filesystem::create_directories(src / ".git");
  std::ofstream{src / "a.txt"} << "hello";
  std::ofstream{src / "sub" / "b.txt"} << "hi";
  std::ofstream{src / ".git" / "HEAD"} << "ref";
  auto stats = ch->upload(src, "work");
  REQUIRE(stats);
  CHECK(stats->files_copied == 2);
  CHECK(stats->bytes_copied == 7);
  CHECK_FALSE(std::filesystem::exists(ch->home()));
  CHECK_FALSE(ch->upload(f.dir.path() / "missing", "work"));
}

TEST_CASE("sim channel, real: a job really runs in the node's sandbox") {
  sim_fixture f;
  f.settings.mode = sim_node_mode::real;
  f.settings.kill_grace = 500ms;
  kill_on_exit cleanup{f.dir.path()};
  f.open();
  REQUIRE(f.aws->run_instances(
    sim_request("r", "us-east-1", "us-east-1a", "m5.large", true, 2)));
  auto ch = channel(*f.aws, "r", 1);
  const auto home = f.world->settings().root / "aws" / "r" / "1";
  CHECK(ch->home() == home.string());
  REQUIRE(std::filesystem::is_directory(home));
  auto h = ch->start(spec("hello", "echo hello from $SKYPILOT_NODE_RANK\n"
                                   "pwd > where.txt\nexit 4\n"));
  REQUIRE(h);
  REQUIRE(wait_until(
    [&] { return poll_ok(*ch, *h).state == process_state::exited; }));
  CHECK(poll_ok(*ch, *h).exit_code == 4);
  CHECK(slurp(home / "where.txt") == home.string() + "\n");
  auto log = ch->read_log("logs/hello.log", 0, 1 << 20);
  REQUIRE(log);
  CHECK_THAT(log->data, Contains("hello from"));

  // A preemption kills what runs there at once: lost, like a machine gone.
  auto sleeper = ch->start(spec("sleeper", "sleep 60\n"));
  REQUIRE(sleeper);
  REQUIRE(wait_until([&] { return running(sleeper->pid); }));
  REQUIRE(f.world->preempt("r", 1));
  CHECK(wait_until([&] { return !running(sleeper->pid); }, 5s));
  CHECK(poll_ok(*ch, *sleeper).state == process_state::lost);
  // The process that had ended before keeps its exit code.
  CHECK(poll_ok(*ch, *h).exit_code == 4);
  auto refused = ch->start(spec("late", "true\n"));
  REQUIRE_FALSE(refused);
  CHECK(code_of_error(refused.error()) == errc::conflict);
  // The preempted node's disk stays until the cluster is torn down.
  CHECK(std::filesystem::is_directory(home));

  // Tearing down kills the other node's processes and removes the
  // sandboxes.
  auto head = channel(*f.aws, "r", 0);
  auto other = head->start(spec("other", "sleep 60\n"));
  REQUIRE(other);
  REQUIRE(wait_until([&] { return running(other->pid); }));
  REQUIRE(f.aws->terminate_instances("r"));
  CHECK_FALSE(running(other->pid));
  CHECK_FALSE(std::filesystem::exists(f.world->settings().root / "aws" / "r"));
}

TEST_CASE("sim channel, real: a replaced node starts on a fresh disk") {
  sim_fixture f;
  f.settings.mode = sim_node_mode::real;
  kill_on_exit cleanup{f.dir.path()};
  f.open();
  REQUIRE(f.aws->run_instances(
    sim_request("r", "us-east-1", "us-east-1a", "m5.large", true)));
  const auto home = f.world->settings().root / "aws" / "r" / "0";
  std::ofstream{home / "old.txt"} << "from the first machine";
  REQUIRE(f.world->preempt("r"));
  REQUIRE(f.aws->run_instances(
    sim_request("r", "us-east-1", "us-east-1a", "m5.large", true, 1, 2)));
  CHECK(std::filesystem::is_directory(home));
  CHECK_FALSE(std::filesystem::exists(home / "old.txt"));
  CHECK_FALSE(std::filesystem::exists(home / ".sky" / "sim-ended"));
}

TEST_CASE("sim channel, real: stop kills processes and keeps the disk") {
  sim_fixture f;
  f.settings.mode = sim_node_mode::real;
  // The wrapper records SIGTERM only if it is not killed first: a grace
  // the processes cannot outlast even on a loaded CI machine (2 s was
  // exceeded once in 15 runs there). Nothing waits for it when they end.
  f.settings.kill_grace = 10s;
  kill_on_exit cleanup{f.dir.path()};
  f.open();
  REQUIRE(f.aws->run_instances(
    sim_request("r", "us-east-1", "us-east-1a", "m5.large")));
  auto ch = channel(*f.aws, "r");
  auto h = ch->start(spec("job", "sleep 60\n"));
  REQUIRE(h);
  REQUIRE(wait_until([&] { return running(h->pid); }));
  REQUIRE(f.aws->stop_instances("r"));
  CHECK_FALSE(running(h->pid));
  // Stopped, not lost: the wrapper recorded SIGTERM, as on local.
  auto s = poll_ok(*ch, *h);
  CHECK(s.state == process_state::exited);
  CHECK(s.exit_code == 143);
  CHECK(std::filesystem::is_directory(f.world->settings().root / "aws" / "r"
                                      / "0"));
}
