#pragma once

// What skyctl knows about where it prints: which standard streams are
// terminals (prompts, spinners), whether the locale can show UTF-8 glyphs,
// and how wide stderr is (a spinner line must never wrap, or redrawing it in
// place leaves garbage behind).

#include <string>
#include <string_view>

namespace sky::cli {

struct terminal_info {
  bool stdin_tty = false;
  bool stdout_tty = false;
  bool stderr_tty = false;
  bool utf8 = false;
  /// Columns of stderr when it is a terminal.
  int width = 80;

  /// The process's real terminal.
  static terminal_info detect();
};

/// Whether the locale named by the first non-empty of LC_ALL, LC_CTYPE and
/// LANG uses UTF-8 (as the C library decides which variable wins).
bool locale_is_utf8(const char* lc_all, const char* lc_ctype, const char* lang);

/// The marks skyctl prints, with ASCII stand-ins for non-UTF-8 terminals.
struct glyphs {
  std::string_view chosen;   // the optimizer's choice in a plan table
  std::string_view done;     // a completed stage, a succeeded job
  std::string_view failed;   // a failed job
  std::string_view progress; // a progress line
  std::string_view spinner;  // frames, each `frame_bytes` long
  size_t frame_bytes = 1;

  size_t frames() const { return spinner.size() / frame_bytes; }
  std::string_view frame(size_t i) const {
    return spinner.substr((i % frames()) * frame_bytes, frame_bytes);
  }

  static const glyphs& get(bool utf8);
};

} // namespace sky::cli
