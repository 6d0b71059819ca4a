#include <catch2/catch.hpp>

#include <csignal>
#include <fcntl.h>
#include <filesystem>
#include <fstream>
#include <pthread.h>
#include <sstream>
#include <thread>
#include <unistd.h>

#include "providers/common/fs_util.hpp"
#include "providers/local/local_channel.hpp"
#include "providers/common/proc_stat.hpp"
#include "tests/support/process.hpp"
#include "tests/support/test_support.hpp"
#include "tests/unit/providers/local_test_util.hpp"

using namespace sky;
using namespace sky::providers;
using namespace sky::providers::testing;
namespace fs = std::filesystem;

namespace {

process_spec spec_of(std::string name, std::string script,
                     std::string log = {}) {
  process_spec s;
  s.name = name;
  s.script = std::move(script);
  s.log_file = log.empty() ? "logs/" + name + ".log" : std::move(log);
  return s;
}

/// Polls until the process is no longer running; its final status.
process_status wait_done(local_channel& ch, const process_handle& h) {
  process_status last;
  bool done = wait_until([&] {
    auto st = ch.poll(h);
    REQUIRE(st);
    last = *st;
    return st->state != process_state::running;
  });
  REQUIRE(done);
  return last;
}

/// A script that waits until the file "go" exists in its cwd, then runs
/// `then`: the test decides when it ends.
std::string gated(const std::string& then) {
  return "while [ ! -e go ]; do sleep 0.02; done\n" + then;
}

} // namespace

TEST_CASE("channel: start, running, exited with code, time, output, env, cwd") {
  sky::testing::temp_dir tmp{"skyloc"};
  kill_on_exit cleanup{tmp.path()};
  local_channel ch{tmp.path() / "node"};
  CHECK(ch.home() == (tmp.path() / "node").string());
  CHECK(ch.ip() == "127.0.0.1");
  ::setenv("SKY_LOCAL_LEAK_CHECK", "leaked", 1);
  auto spec = spec_of("job", gated("echo out-$FOO\n"
                                   "echo err-line >&2\n"
                                   "echo cwd=$(pwd)\n"
                                   "echo home=$HOME term=$TERM user=$USER\n"
                                   "echo leak=${SKY_LOCAL_LEAK_CHECK:-none}\n"
                                   "echo path-set=${PATH:+yes}\n"
                                   "read -r line || echo stdin-eof\n"
                                   "exit 7\n"));
  spec.env = {{"FOO", "bar baz"}, {"TERM", "xterm"}};
  spec.cwd = "work/dir";
  auto before = local_detail::now_unix_ms();
  auto h = ch.start(spec);
  ::unsetenv("SKY_LOCAL_LEAK_CHECK");
  REQUIRE(h);
  CHECK(h->pid > 0);
  CHECK(h->log_file == (tmp.path() / "node/logs/job.log").string());
  CHECK(h->exit_file == h->log_file + ".exit");
  auto st = local_detail::read_proc_stat(h->pid);
  REQUIRE(st);
  CHECK(st->start_ticks == h->start_ticks);
  // Its own session and group, and not our child (double fork).
  CHECK(st->session == h->pid);
  CHECK(st->pgrp == h->pid);
  CHECK(st->ppid != ::getpid());

  auto running = ch.poll(*h);
  REQUIRE(running);
  CHECK(running->state == process_state::running);
  CHECK_FALSE(fs::exists(h->exit_file));

  std::ofstream{tmp.path() / "node/work/dir/go"};
  auto done = wait_done(ch, *h);
  auto after = local_detail::now_unix_ms();
  CHECK(done.state == process_state::exited);
  CHECK(done.exit_code == 7);
  CHECK(done.ended_at_ms >= before);
  CHECK(done.ended_at_ms <= after);

  auto log = slurp(h->log_file);
  CHECK_THAT(log, Catch::Contains("out-bar baz\n"));
  CHECK_THAT(log, Catch::Contains("err-line\n"));
  CHECK_THAT(log, Catch::Contains(
                    "cwd=" + (tmp.path() / "node/work/dir").string() + "\n"));
  CHECK_THAT(log, Catch::Contains("home=" + ch.home() + " term=xterm user="));
  CHECK_THAT(log, Catch::Contains("leak=none\n"));
  CHECK_THAT(log, Catch::Contains("path-set=yes\n"));
  CHECK_THAT(log, Catch::Contains("stdin-eof\n"));
  // The wrapper deletes the script file (after writing the exit file).
  CHECK(
    wait_until([&] { return fs::is_empty(tmp.path() / "node/.sky/scripts"); }));
}

TEST_CASE("channel: read_log from offsets, in pieces, to the end") {
  sky::testing::temp_dir tmp{"skyloc"};
  kill_on_exit cleanup{tmp.path()};
  local_channel ch{tmp.path() / "node"};
  auto h = ch.start(spec_of("printer", "for i in $(seq 1 200); do echo "
                                       "line-$i; done\n"));
  REQUIRE(h);
  REQUIRE(wait_done(ch, *h).exit_code == 0);
  auto full = slurp(h->log_file);
  REQUIRE(full.size() > 1000);

  std::string joined;
  uint64_t offset = 0;
  for (int i = 0; i < 1000; ++i) {
    // Relative to home, as the job actor passes it.
    auto chunk = ch.read_log("logs/printer.log", offset, 97);
    REQUIRE(chunk);
    if (chunk->data.empty()) {
      CHECK(chunk->next_offset == offset);
      break;
    }
    CHECK(chunk->data.size() <= 97);
    CHECK(chunk->next_offset == offset + chunk->data.size());
    joined += chunk->data;
    offset = chunk->next_offset;
  }
  CHECK(joined == full);
  auto middle = ch.read_log(h->log_file, 7, 7);
  REQUIRE(middle);
  CHECK(middle->data == full.substr(7, 7));
  auto past = ch.read_log(h->log_file, full.size() + 100, 10);
  REQUIRE(past);
  CHECK(past->data.empty());
  auto missing = ch.read_log("logs/none.log", 0, 10);
  REQUIRE_FALSE(missing);
  CHECK(code_of(missing.error()) == errc::not_found);
}

TEST_CASE(
  "channel: a process outlives its starter, a new channel re-attaches") {
  sky::testing::temp_dir tmp{"skyloc"};
  kill_on_exit cleanup{tmp.path()};
  auto home = tmp.path() / "node";
  auto r = sky::testing::run(
    {sky::testing::built_binary("tests/support/local_start_helper"),
     home.string(), "detached", "logs/d.log",
     gated("echo survived; exit 5\n")});
  INFO(r.err);
  REQUIRE(r.exit_code == 0);
  std::istringstream out{r.out};
  process_handle h;
  out >> h.pid >> h.start_ticks >> h.log_file >> h.exit_file;
  REQUIRE(h.pid > 0);

  // The starter has exited and been reaped; the process still runs.
  REQUIRE(running(h.pid));
  local_channel fresh{home};
  auto st = fresh.poll(h);
  REQUIRE(st);
  CHECK(st->state == process_state::running);

  std::ofstream{home / "go"};
  auto done = wait_done(fresh, h);
  CHECK(done.state == process_state::exited);
  CHECK(done.exit_code == 5);
  CHECK_THAT(slurp(h.log_file), Catch::Contains("survived"));
}

TEST_CASE("channel: SIGTERM to the group ends the script and its children") {
  sky::testing::temp_dir tmp{"skyloc"};
  kill_on_exit cleanup{tmp.path()};
  local_channel ch{tmp.path() / "node"};
  auto h = ch.start(spec_of("group", "sleep 1000 & echo $! > kid1\n"
                                     "sleep 1000 & echo $! > kid2\n"
                                     "wait\n"));
  REQUIRE(h);
  auto kid = [&](const char* name) -> int64_t {
    std::ifstream in{tmp.path() / "node" / name};
    int64_t pid = 0;
    in >> pid;
    return pid;
  };
  REQUIRE(wait_until([&] { return kid("kid1") > 0 && kid("kid2") > 0; }));
  auto k1 = kid("kid1");
  auto k2 = kid("kid2");
  REQUIRE(running(k1));
  REQUIRE(running(k2));
  CHECK(local_detail::read_proc_stat(k1)->pgrp == h->pid);
  CHECK(live_group_members(h->pid).size() >= 4); // wrapper, bash, 2 sleeps

  REQUIRE(ch.signal(*h, SIGTERM));
  auto done = wait_done(ch, *h);
  CHECK(done.state == process_state::exited);
  CHECK(done.exit_code == 128 + SIGTERM);
  CHECK(wait_until([&] { return !running(k1) && !running(k2); }));
  CHECK(wait_until([&] { return live_group_members(h->pid).empty(); }));
}

TEST_CASE("channel: a blocked SIGTERM in the caller does not reach the job") {
  // skyd's threads may block signals; the mask is inherited across fork and
  // exec, so the channel must reset it.
  sky::testing::temp_dir tmp{"skyloc"};
  kill_on_exit cleanup{tmp.path()};
  local_channel ch{tmp.path() / "node"};
  sigset_t term, old;
  sigemptyset(&term);
  sigaddset(&term, SIGTERM);
  pthread_sigmask(SIG_BLOCK, &term, &old);
  auto h = ch.start(spec_of("masked", "sleep 1000\n"));
  pthread_sigmask(SIG_SETMASK, &old, nullptr);
  REQUIRE(h);
  REQUIRE(ch.signal(*h, SIGTERM));
  auto done = wait_done(ch, *h);
  CHECK(done.state == process_state::exited);
  CHECK(done.exit_code == 128 + SIGTERM);
}

TEST_CASE("channel: a signal right after start is never lost") {
  // start() returns once the wrapper's traps are set: a stop or cancel that
  // follows at once still gets the exit code recorded.
  sky::testing::temp_dir tmp{"skyloc"};
  kill_on_exit cleanup{tmp.path()};
  local_channel ch{tmp.path() / "node"};
  for (int i = 0; i < 20; ++i) {
    auto h = ch.start(spec_of("quick" + std::to_string(i), "sleep 1000\n"));
    REQUIRE(h);
    REQUIRE(ch.signal(*h, SIGTERM));
    auto done = wait_done(ch, *h);
    INFO("round " << i);
    REQUIRE(done.state == process_state::exited);
    CHECK(done.exit_code == 128 + SIGTERM);
  }
}

TEST_CASE("channel: wrapper killed with the script is lost, wrong start time "
          "is lost and never signalled") {
  sky::testing::temp_dir tmp{"skyloc"};
  kill_on_exit cleanup{tmp.path()};
  local_channel ch{tmp.path() / "node"};
  auto h = ch.start(spec_of("victim", "sleep 1000\n"));
  REQUIRE(h);
  auto other = ch.start(spec_of("bystander", "sleep 1000\n"));
  REQUIRE(other);

  auto forged = *other;
  forged.start_ticks += 1;
  auto st = ch.poll(forged);
  REQUIRE(st);
  CHECK(st->state == process_state::lost);
  auto refused = ch.signal(forged, SIGKILL);
  REQUIRE_FALSE(refused);
  CHECK(code_of(refused.error()) == errc::not_found);
  // The real process was not touched.
  auto real = ch.poll(*other);
  REQUIRE(real);
  CHECK(real->state == process_state::running);

  REQUIRE(::kill(static_cast<pid_t>(-h->pid), SIGKILL) == 0);
  auto done = wait_done(ch, *h);
  CHECK(done.state == process_state::lost);
  CHECK_FALSE(fs::exists(h->exit_file));
  // Once init has reaped it, the pid is free for reuse: signal refuses.
  // (While it is a zombie its pid is still reserved, so signalling the
  // group is harmless.)
  auto gone = ch.signal(*h, SIGTERM);
  if (!local_detail::read_proc_stat(h->pid))
    CHECK_FALSE(gone);

  REQUIRE(ch.signal(*other, SIGKILL));
  CHECK(wait_done(ch, *other).state == process_state::lost);
}

TEST_CASE("channel: a new start with the same log is not taken for the old") {
  sky::testing::temp_dir tmp{"skyloc"};
  kill_on_exit cleanup{tmp.path()};
  local_channel ch{tmp.path() / "node"};
  auto first = ch.start(spec_of("setup", "exit 3\n", "setup.log"));
  REQUIRE(first);
  REQUIRE(wait_done(ch, *first).exit_code == 3);
  auto second = ch.start(spec_of("setup", gated("exit 4\n"), "setup.log"));
  REQUIRE(second);
  auto st = ch.poll(*second);
  REQUIRE(st);
  CHECK(st->state == process_state::running);
  std::ofstream{tmp.path() / "node/go"};
  CHECK(wait_done(ch, *second).exit_code == 4);
}

TEST_CASE("channel: starts from many threads each get their own process") {
  sky::testing::temp_dir tmp{"skyloc"};
  kill_on_exit cleanup{tmp.path()};
  local_channel ch{tmp.path() / "node"};
  constexpr int n = 8;
  std::vector<result<process_handle>> handles(
    n, result<process_handle>{process_handle{}});
  std::vector<std::thread> threads;
  for (int i = 0; i < n; ++i)
    threads.emplace_back([&, i] {
      // Same name on purpose: scripts must not overwrite each other.
      handles[i] = ch.start(
        spec_of("same", "sleep 0.2; exit " + std::to_string(i + 10) + "\n",
                "logs/t" + std::to_string(i) + ".log"));
    });
  for (auto& t : threads)
    t.join();
  for (int i = 0; i < n; ++i) {
    REQUIRE(handles[i]);
    CHECK(wait_done(ch, *handles[i]).exit_code == i + 10);
  }
}

TEST_CASE("channel: descriptors of the caller do not leak into the job") {
  sky::testing::temp_dir tmp{"skyloc"};
  kill_on_exit cleanup{tmp.path()};
  local_channel ch{tmp.path() / "node"};
  // No O_CLOEXEC on purpose; high, so that it is not a descriptor the
  // wrapper closes anyway (3).
  int opened = ::open("/dev/null", O_RDONLY);
  REQUIRE(opened > 2);
  int leaky = ::fcntl(opened, F_DUPFD, 50);
  ::close(opened);
  REQUIRE(leaky >= 50);
  auto h = ch.start(spec_of("fds", "ls /proc/$$/fd\n"));
  ::close(leaky);
  REQUIRE(h);
  REQUIRE(wait_done(ch, *h).exit_code == 0);
  std::istringstream in{slurp(h->log_file)};
  std::vector<int> fds;
  for (int fd; in >> fd;)
    fds.push_back(fd);
  CHECK(std::find(fds.begin(), fds.end(), leaky) == fds.end());
  CHECK(std::find(fds.begin(), fds.end(), 1) != fds.end());
}

TEST_CASE("channel: bad requests are refused with what to fix") {
  sky::testing::temp_dir tmp{"skyloc"};
  kill_on_exit cleanup{tmp.path()};
  local_channel ch{tmp.path() / "node"};
  auto bad_name = ch.start(spec_of("../x", "true"));
  REQUIRE_FALSE(bad_name);
  CHECK(code_of(bad_name.error()) == errc::invalid_argument);
  auto no_log = spec_of("ok", "true");
  no_log.log_file.clear();
  CHECK_FALSE(ch.start(no_log));
  auto bad_env = spec_of("ok", "true");
  bad_env.env = {{"A=B", "c"}};
  CHECK_FALSE(ch.start(bad_env));
  std::ofstream{tmp.path() / "file"};
  auto bad_cwd = spec_of("ok", "true");
  bad_cwd.cwd = (tmp.path() / "file/sub").string();
  auto r = ch.start(bad_cwd);
  REQUIRE_FALSE(r);
  CHECK_THAT(message_of(r.error()), Catch::Contains("working directory"));
  CHECK_FALSE(ch.poll(process_handle{}));
  CHECK_FALSE(ch.signal(process_handle{}, SIGTERM));
}

TEST_CASE("channel: find_process recovers a handle skyd never recorded") {
  sky::testing::temp_dir tmp{"skyloc"};
  kill_on_exit cleanup{tmp.path()};
  local_channel ch{tmp.path() / "node"};
  // Never started: nothing to find (starting it now cannot run it twice).
  auto none = ch.find_process("logs/never.log");
  REQUIRE(none);
  CHECK_FALSE(none->has_value());

  auto h = ch.start(spec_of("found", gated("exit 6\n")));
  REQUIRE(h);
  // Remove what skyd's own bookkeeping knows: the wrapper's start file
  // alone must lead back to the process.
  for (const auto& entry :
       fs::directory_iterator(tmp.path() / "node/.sky/procs"))
    fs::remove(entry.path());
  auto found
    = local_channel{tmp.path() / "node"}.find_process("logs/found.log");
  REQUIRE(found);
  REQUIRE(found->has_value());
  CHECK((*found)->pid == h->pid);
  CHECK((*found)->start_ticks == h->start_ticks);
  auto running = ch.poll(**found);
  REQUIRE(running);
  CHECK(running->state == process_state::running);

  std::ofstream{tmp.path() / "node/go"};
  auto done = wait_done(ch, *h);
  CHECK(done.exit_code == 6);
  // Once it ended, the exit file answers (even without pid or record).
  auto ended = ch.find_process("logs/found.log");
  REQUIRE(ended);
  REQUIRE(ended->has_value());
  auto st = ch.poll(**ended);
  REQUIRE(st);
  CHECK(st->state == process_state::exited);
  CHECK(st->exit_code == 6);
}
