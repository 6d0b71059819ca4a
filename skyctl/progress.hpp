#pragma once

// Progress of a launch as people see it on stderr. On a terminal one
// spinner line shows the latest status, redrawn in place; when a new status
// arrives the previous one stays behind as a line (marked done when its
// stage is over), so every provisioning attempt remains readable. Elsewhere
// (a pipe, a CI log) every new status is one plain line and nothing is
// redrawn.
//
// The task's output goes to stdout on the same terminal: callers bracket
// each write with suspend() / resume() so that the spinner never lands in
// the middle of it.

#include <chrono>
#include <iosfwd>
#include <string>

#include "skyctl/terminal.hpp"

namespace sky::cli {

class progress_display {
public:
  using clock = std::chrono::steady_clock;

  progress_display(std::ostream& err, const terminal_info& term);
  /// Removes the spinner line.
  ~progress_display();
  progress_display(const progress_display&) = delete;
  progress_display& operator=(const progress_display&) = delete;

  /// A progress frame. The previous text is kept as a line: with the done
  /// mark when `stage` differs from its stage, as a step otherwise.
  void stage(const std::string& stage, const std::string& text);

  /// Spinner text without a stage (a job's state); nothing when not on a
  /// terminal.
  void status(const std::string& text);

  /// A permanent line on stderr, above the spinner.
  void note(const std::string& text);

  /// Completes the current stage and removes the spinner.
  void done();

  /// Removes the spinner without completing the stage (it failed, or the
  /// user detached).
  void stop();

  /// Removes the spinner before something is written to stdout.
  void suspend();
  /// Draws the spinner again after a write to stdout; not while the output
  /// stopped mid-line (`at_line_start` false), or the redraw would erase
  /// that partial line.
  void resume(bool at_line_start);

  /// Advances the spinner; call every ~100 ms.
  void tick(clock::time_point now);

  bool on_terminal() const { return tty_; }
  const glyphs& marks() const { return glyphs_; }

private:
  void draw();
  void clear();

  std::ostream& err_;
  bool tty_;
  int width_;
  const glyphs& glyphs_;
  std::string stage_;
  std::string text_;
  std::string last_plain_;
  bool drawn_ = false;
  bool suspended_ = false;
  size_t frame_ = 0;
  clock::time_point last_tick_{};
};

} // namespace sky::cli
