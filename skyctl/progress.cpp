#include "skyctl/progress.hpp"

#include <ostream>

namespace sky::cli {

namespace {

// Cuts `text` to at most `columns` characters, counting UTF-8 code points
// (good enough: the messages are mostly ASCII).
std::string fit(const std::string& text, int columns) {
  if (columns <= 0)
    return {};
  std::string out;
  int shown = 0;
  for (size_t i = 0; i < text.size(); ++i) {
    unsigned char c = static_cast<unsigned char>(text[i]);
    bool starts_char = (c & 0xC0) != 0x80;
    if (starts_char && ++shown > columns)
      break;
    if (text[i] == '\n')
      break;
    out += text[i];
  }
  return out;
}

} // namespace

progress_display::progress_display(std::ostream& err, const terminal_info& term)
  : err_(err), tty_(term.stderr_tty), width_(term.width),
    glyphs_(glyphs::get(term.utf8)) {}

progress_display::~progress_display() {
  clear();
}

void progress_display::stage(const std::string& stage,
                             const std::string& text) {
  if (!tty_) {
    if (text != last_plain_) {
      err_ << glyphs_.progress << " " << text << "\n" << std::flush;
      last_plain_ = text;
    }
    stage_ = stage;
    text_ = text;
    return;
  }
  // The previous text stays behind as a line: marked done when its stage
  // is over, as a step otherwise (a failed attempt must stay readable, not
  // vanish under the next one).
  if (!text_.empty() && text != text_) {
    clear();
    err_ << (stage != stage_ ? glyphs_.done : glyphs_.progress) << " " << text_
         << "\n";
  }
  stage_ = stage;
  text_ = text;
  draw();
}

void progress_display::status(const std::string& text) {
  if (!tty_)
    return;
  if (!stage_.empty())
    done();
  text_ = text;
  draw();
}

void progress_display::note(const std::string& text) {
  clear();
  err_ << text << "\n" << std::flush;
  if (tty_ && !text_.empty())
    draw();
}

void progress_display::done() {
  clear();
  if (tty_ && !stage_.empty())
    err_ << glyphs_.done << " " << text_ << "\n" << std::flush;
  stage_.clear();
  text_.clear();
}

void progress_display::stop() {
  clear();
  stage_.clear();
  text_.clear();
}

void progress_display::suspend() {
  clear();
  suspended_ = true;
}

void progress_display::resume(bool at_line_start) {
  if (!at_line_start)
    return;
  suspended_ = false;
  draw();
}

void progress_display::tick(clock::time_point now) {
  if (!tty_ || text_.empty() || suspended_)
    return;
  if (now - last_tick_ < std::chrono::milliseconds(100))
    return;
  last_tick_ = now;
  ++frame_;
  draw();
}

void progress_display::draw() {
  if (!tty_ || text_.empty() || suspended_)
    return;
  // "\r\033[K" returns to column 0 and erases the line; the text is cut to
  // the width so that it never wraps (a wrapped line cannot be erased).
  err_ << "\r\033[K" << glyphs_.frame(frame_) << " " << fit(text_, width_ - 3)
       << std::flush;
  drawn_ = true;
}

void progress_display::clear() {
  if (!drawn_)
    return;
  err_ << "\r\033[K" << std::flush;
  drawn_ = false;
}

} // namespace sky::cli
