// The spinner on a terminal, plain lines elsewhere.

#include <catch2/catch.hpp>

#include <sstream>

#include "skyctl/progress.hpp"

using namespace sky::cli;
using clock_type = progress_display::clock;

namespace {

terminal_info tty(bool on, int width = 80) {
  terminal_info t;
  t.stderr_tty = on;
  t.utf8 = false;
  t.width = width;
  return t;
}

size_t count(const std::string& text, const std::string& what) {
  size_t n = 0;
  for (size_t at = text.find(what); at != std::string::npos;
       at = text.find(what, at + 1))
    ++n;
  return n;
}

} // namespace

TEST_CASE("without a terminal every new status is one plain line") {
  std::ostringstream err;
  {
    progress_display p{err, tty(false)};
    p.stage("provisioning", "Provisioning on gcp/us-central1 ...");
    p.stage("provisioning", "Provisioning on gcp/us-central1 ...");
    p.tick(clock_type::now());
    p.status("Job 1: RUNNING");
    p.stage("setup", "Running setup ...");
    p.note("Reusing cluster dev.");
    p.done();
  }
  CHECK(err.str()
        == "* Provisioning on gcp/us-central1 ...\n"
           "* Running setup ...\n"
           "Reusing cluster dev.\n");
  CHECK(err.str().find('\r') == std::string::npos);
  CHECK(err.str().find('\033') == std::string::npos);
}

TEST_CASE("on a terminal one spinner line is redrawn and statuses stay "
          "behind as lines") {
  std::ostringstream err;
  {
    progress_display p{err, tty(true)};
    p.stage("provisioning", "Launching on gcp (attempt 1)");
    p.tick(clock_type::now());
    p.stage("provisioning", "Launching on gcp (attempt 1)");
    p.stage("provisioning", "gcp: no capacity, trying the next candidate");
    p.stage("provisioning", "Launching on aws (attempt 2)");
    p.stage("setup", "Running setup ...");
    p.done();
  }
  const auto text = err.str();
  // Steps of a stage stay readable; the last one of a stage is marked done.
  CHECK(text.find("* Launching on gcp (attempt 1)\n") != std::string::npos);
  CHECK(text.find("* gcp: no capacity, trying the next candidate\n")
        != std::string::npos);
  CHECK(text.find("+ Launching on aws (attempt 2)\n") != std::string::npos);
  CHECK(text.find("+ Running setup ...\n") != std::string::npos);
  // A repeated status is not printed twice.
  CHECK(count(text, "Launching on gcp (attempt 1)\n") == 1);
  CHECK(count(text, "\r\033[K") >= 4);
  // Nothing is left on the spinner line at the end.
  CHECK(text.back() == '\n');
}

TEST_CASE("the spinner never wraps the terminal") {
  std::ostringstream err;
  progress_display p{err, tty(true, 20)};
  p.stage("provisioning", std::string(100, 'x'));
  auto text = err.str();
  auto last = text.substr(text.rfind("\r\033[K") + 4);
  CHECK(last.size() <= 19);
}

TEST_CASE("output on stdout suspends the spinner until a line ends") {
  std::ostringstream err;
  progress_display p{err, tty(true)};
  p.status("Job 1: RUNNING");
  auto drawn = err.str().size();
  p.suspend();
  CHECK(err.str().substr(drawn) == "\r\033[K");
  p.resume(false);
  p.tick(clock_type::now() + std::chrono::seconds(1));
  CHECK(err.str().size() == drawn + 4); // mid-line: not redrawn
  p.resume(true);
  CHECK(err.str().find("Job 1: RUNNING", drawn) != std::string::npos);
}

TEST_CASE("stop removes the spinner without completing the stage") {
  std::ostringstream err;
  {
    progress_display p{err, tty(true)};
    p.stage("provisioning", "Provisioning ...");
    p.stop();
  }
  CHECK(err.str().find("+ Provisioning") == std::string::npos);
}
