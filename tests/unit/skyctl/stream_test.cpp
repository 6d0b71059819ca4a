// The launch/exec/logs frame loop against a fake skyd: output, progress,
// exit codes, heartbeats, errors, Ctrl-C and a silent skyd.

#include <catch2/catch.hpp>

#include <sstream>
#include <thread>

#include "fake_skyd.hpp"
#include "skyctl/interrupt.hpp"
#include "skyctl/output.hpp"
#include "skyctl/stream_printer.hpp"

using namespace sky;
using namespace sky::cli;
using sky::testing::fake_skyd;

namespace {

std::string item(std::string type,
                 std::function<void(protocol::stream_item&)> fill = {}) {
  protocol::stream_item i;
  i.type = std::move(type);
  if (fill)
    fill(i);
  return sky::encode(i);
}

std::string log_frame(uint64_t job, std::string data) {
  return item("log", [&](auto& i) {
    i.job_id = job;
    i.data = data;
  });
}

std::string job_frame(uint64_t job, std::string status) {
  return item("job", [&](auto& i) {
    i.job_id = job;
    i.status = status;
  });
}

std::string progress_frame(std::string stage, std::string message) {
  return item("progress", [&](auto& i) {
    i.stage = stage;
    i.message = message;
  });
}

std::string outcome(std::string cluster, uint64_t job, std::string status,
                    std::optional<int32_t> code = std::nullopt) {
  return sky::encode(protocol::job_outcome{cluster, job, status, code});
}

protocol::plan_reply small_plan() {
  protocol::candidate_row c;
  c.cloud = "local";
  c.instance_type = "local";
  c.cpus = 4;
  c.memory_gib = 8;
  c.chosen = true;
  protocol::task_plan t;
  t.candidates = {c};
  protocol::plan_reply p;
  p.tasks = {t};
  return p;
}

struct run_result {
  int exit_code = -1;
  std::string out;
  std::string err;
};

// Sends `verb` to the fake and pumps the stream through a printer.
run_result pump(fake_skyd& skyd, stream_view view,
                stream_settings settings = {}) {
  auto conn = client::connection::open(
    home_layout::ipc_endpoint(skyd.layout().control_socket()));
  REQUIRE(conn);
  interrupt_guard guard;
  auto stream = conn->open_stream("launch", wire::nil_body(), 64);
  REQUIRE(stream);
  std::ostringstream out, err;
  terminal_info term; // not a terminal, ASCII
  progress_display progress{err, term};
  stream_printer printer{out, err, progress, view};
  settings.poll = std::chrono::milliseconds{20};
  auto end = pump_stream(*conn, *stream, printer, settings);
  run_result r;
  r.exit_code = printer.finish(end);
  r.out = out.str();
  r.err = err.str();
  return r;
}

stream_view launch_view(std::string cluster = "dev") {
  stream_view v;
  v.kind = stream_kind::launch;
  v.cluster = std::move(cluster);
  return v;
}

} // namespace

TEST_CASE("job outcomes give the job's exit code") {
  auto code = [](std::string status, std::optional<int32_t> exit) {
    return job_exit_code(protocol::job_outcome{"c", 1, status, exit});
  };
  CHECK(code("SUCCEEDED", std::nullopt) == 0);
  CHECK(code("SUCCEEDED", 0) == 0);
  CHECK(code("FAILED", 7) == 7);
  CHECK(code("FAILED", 255) == 255);
  CHECK(code("FAILED", 300) == 1);
  CHECK(code("FAILED", 0) == 1);
  CHECK(code("FAILED", std::nullopt) == 1);
  CHECK(code("FAILED_SETUP", 2) == 2);
  CHECK(code("CANCELLED", std::nullopt) == 1);
  CHECK(code("RUNNING", std::nullopt) == 0);
  CHECK(code("PENDING", std::nullopt) == 0);
}

TEST_CASE("a launch stream prints the plan and progress on stderr and the "
          "task's output on stdout") {
  fake_skyd skyd;
  skyd.on("launch", [](const fake_skyd::request&) {
    protocol::stream_item plan;
    plan.type = "plan";
    plan.plan = small_plan();
    return std::vector<fake_skyd::reply>{
      fake_skyd::more(sky::encode(plan)),
      fake_skyd::more(progress_frame("provisioning", "Provisioning on local")),
      fake_skyd::heartbeat(),
      fake_skyd::more(progress_frame("setup", "")),
      fake_skyd::more(job_frame(3, "RUNNING")),
      fake_skyd::more(log_frame(3, "hello\n")),
      fake_skyd::more(log_frame(3, "no newline")),
      fake_skyd::more(item("from_the_future")),
      fake_skyd::more(job_frame(3, "SUCCEEDED")),
      fake_skyd::ok(outcome("dev", 3, "SUCCEEDED", 0))};
  });
  auto r = pump(skyd, launch_view());
  CHECK(r.exit_code == 0);
  CHECK(r.out == "hello\nno newline\n");
  CHECK(r.err.find("Considered resources (1 node):") != std::string::npos);
  CHECK(r.err.find("* Provisioning on local\n* Setup ...\n")
        != std::string::npos);
  CHECK(r.err.find("Job 3: SUCCEEDED\n") != std::string::npos);
  // The terminal line already said it: no second "finished" line.
  CHECK(r.err.find("finished") == std::string::npos);
  CHECK(r.err.find("skyctl down dev") != std::string::npos);
}

TEST_CASE("a failed job's exit code becomes skyctl's") {
  fake_skyd skyd;
  skyd.on("launch", [](const fake_skyd::request&) {
    return std::vector<fake_skyd::reply>{
      fake_skyd::more(log_frame(4, "Traceback ...\n")),
      fake_skyd::more(job_frame(4, "FAILED")),
      fake_skyd::ok(outcome("dev", 4, "FAILED", 42))};
  });
  auto r = pump(skyd, launch_view());
  CHECK(r.exit_code == 42);
  CHECK(r.err.find("x Job 4 finished (status: FAILED, exit code 42).")
        != std::string::npos);
}

TEST_CASE("skyd's error frame ends the stream with its message and code") {
  fake_skyd skyd;
  skyd.on("launch", [](const fake_skyd::request&) {
    return std::vector<fake_skyd::reply>{
      fake_skyd::more(progress_frame("provisioning", "Provisioning on gcp")),
      fake_skyd::error(errc::no_capacity, "no candidate has capacity",
                       "retry with -r")};
  });
  auto r = pump(skyd, launch_view());
  CHECK(r.exit_code == exit_failed);
  CHECK(r.err.find("skyctl: no candidate has capacity\nhint: retry with -r\n")
        != std::string::npos);

  fake_skyd gone;
  gone.on("launch", [](const fake_skyd::request&) {
    return std::vector<fake_skyd::reply>{
      fake_skyd::error(errc::unavailable, "skyd is stopping")};
  });
  CHECK(pump(gone, launch_view()).exit_code == exit_unavailable);
}

TEST_CASE("a skyd that goes silent is reported unavailable") {
  fake_skyd skyd;
  skyd.on("launch", [](const fake_skyd::request&) {
    return std::vector<fake_skyd::reply>{
      fake_skyd::more(job_frame(1, "RUNNING"))};
  });
  stream_settings s;
  s.idle_limit = std::chrono::milliseconds{300};
  auto r = pump(skyd, launch_view(), s);
  CHECK(r.exit_code == exit_unavailable);
  CHECK(r.err.find("sent nothing") != std::string::npos);
}

TEST_CASE("consumed frames are granted back as credit") {
  fake_skyd skyd;
  skyd.on("launch", [](const fake_skyd::request&) {
    std::vector<fake_skyd::reply> frames;
    for (int i = 0; i < 40; ++i)
      frames.push_back(fake_skyd::more(log_frame(1, "line\n")));
    frames.push_back(fake_skyd::ok(outcome("dev", 1, "SUCCEEDED")));
    return frames;
  });
  auto r = pump(skyd, launch_view());
  CHECK(r.exit_code == 0);
  size_t lines = 0;
  for (char c : r.out)
    lines += c == '\n';
  CHECK(lines == 40);
  // The fake records notifications on its own thread: give it a moment.
  size_t credits = 0;
  for (int i = 0; i < 200 && credits == 0; ++i) {
    for (const auto& n : skyd.notifications())
      credits += n.verb == "credit";
    if (credits == 0)
      std::this_thread::sleep_for(std::chrono::milliseconds(10));
  }
  CHECK(credits >= 1);
}

TEST_CASE("Ctrl-C cancels the stream, not the job, and exits 130") {
  fake_skyd skyd;
  skyd.end_cancelled_streams_with(outcome("dev", 5, "RUNNING"));
  skyd.on("launch", [](const fake_skyd::request&) {
    auto running = fake_skyd::more(job_frame(5, "RUNNING"));
    running.after = [] { interrupt_guard::trigger(); };
    return std::vector<fake_skyd::reply>{running};
  });
  auto r = pump(skyd, launch_view());
  CHECK(r.exit_code == exit_interrupted);
  CHECK(r.err.find("Detached. The job keeps running; reattach with: "
                   "skyctl logs dev 5")
        != std::string::npos);
  bool cancelled = false;
  for (const auto& n : skyd.notifications())
    cancelled = cancelled || n.verb == "cancel";
  CHECK(cancelled);
}

TEST_CASE("Ctrl-C while skyd names the cluster points at its status") {
  fake_skyd skyd;
  // What skyd answers a cancelled launch that has no job yet.
  skyd.end_cancelled_streams_with(outcome("sky-3f2a", 0, "LAUNCHING"));
  skyd.on("launch", [](const fake_skyd::request&) {
    auto p = fake_skyd::more(progress_frame("provisioning", "Provisioning"));
    p.after = [] { interrupt_guard::trigger(); };
    return std::vector<fake_skyd::reply>{p};
  });
  auto r = pump(skyd, launch_view(""));
  CHECK(r.exit_code == exit_interrupted);
  CHECK(r.err.find("check with: skyctl status sky-3f2a\n")
        != std::string::npos);
}

TEST_CASE("Ctrl-C before any job points at status, even if skyd never "
          "answers the cancel") {
  fake_skyd skyd;
  skyd.on("launch", [](const fake_skyd::request&) {
    auto p = fake_skyd::more(progress_frame("provisioning", "Provisioning"));
    p.after = [] { interrupt_guard::trigger(); };
    return std::vector<fake_skyd::reply>{p};
  });
  stream_settings s;
  s.drain = std::chrono::milliseconds{200};
  auto r = pump(skyd, launch_view(""), s);
  CHECK(r.exit_code == exit_interrupted);
  CHECK(r.err.find("Detached. skyd carries on; check with: skyctl status\n")
        != std::string::npos);
}

TEST_CASE("a detached launch prints the job id and how to follow it") {
  fake_skyd skyd;
  skyd.on("launch", [](const fake_skyd::request&) {
    protocol::stream_item plan;
    plan.type = "plan";
    plan.plan = protocol::plan_reply{};
    plan.plan->reused_cluster = "box";
    return std::vector<fake_skyd::reply>{
      fake_skyd::more(sky::encode(plan)),
      fake_skyd::ok(outcome("box", 9, "PENDING"))};
  });
  auto view = launch_view("");
  view.detach = true;
  auto r = pump(skyd, view);
  CHECK(r.exit_code == 0);
  CHECK(r.err.find("Reusing cluster box.") != std::string::npos);
  CHECK(r.out
        == "Job ID: 9\n"
           "To follow its output: skyctl logs box 9\n"
           "To see the job queue: skyctl queue box\n");
}

TEST_CASE("logs --status prints the status and exits by it") {
  for (auto [status, code] : {std::pair{"SUCCEEDED", 0},
                              {"RUNNING", 0},
                              {"FAILED", 1},
                              {"CANCELLED", 1}}) {
    fake_skyd skyd;
    std::string s = status;
    skyd.on("launch", [s](const fake_skyd::request&) {
      return std::vector<fake_skyd::reply>{
        fake_skyd::more(log_frame(2, "ignored\n")),
        fake_skyd::ok(outcome("dev", 2, s, 3))};
    });
    stream_view view;
    view.kind = stream_kind::logs;
    view.status_only = true;
    view.cluster = "dev";
    auto r = pump(skyd, view);
    CHECK(r.exit_code == code);
    CHECK(r.out == "Job 2: " + s + "\n");
  }
}
