#include "skyctl/terminal.hpp"

#include <algorithm>
#include <cctype>
#include <cstdlib>
#include <sys/ioctl.h>
#include <unistd.h>

namespace sky::cli {

namespace {

bool contains_utf8(std::string_view locale) {
  std::string lower;
  for (char c : locale)
    if (c != '-')
      lower += static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
  return lower.find("utf8") != std::string::npos;
}

} // namespace

terminal_info terminal_info::detect() {
  terminal_info t;
  t.stdin_tty = ::isatty(STDIN_FILENO) == 1;
  t.stdout_tty = ::isatty(STDOUT_FILENO) == 1;
  t.stderr_tty = ::isatty(STDERR_FILENO) == 1;
  t.utf8 = locale_is_utf8(std::getenv("LC_ALL"), std::getenv("LC_CTYPE"),
                          std::getenv("LANG"));
  winsize ws{};
  if (t.stderr_tty && ::ioctl(STDERR_FILENO, TIOCGWINSZ, &ws) == 0
      && ws.ws_col > 0)
    t.width = ws.ws_col;
  return t;
}

bool locale_is_utf8(const char* lc_all, const char* lc_ctype,
                    const char* lang) {
  for (const char* v : {lc_all, lc_ctype, lang})
    if (v != nullptr && *v != '\0')
      return contains_utf8(v);
  return false;
}

const glyphs& glyphs::get(bool utf8) {
  // Braille spinner frames are 3 bytes each in UTF-8.
  static const glyphs unicode{"\u2714",
                              "\u2713",
                              "\u2717",
                              "\u2699\ufe0e",
                              "\u280b\u2819\u2839\u2838\u283c\u2834\u2826"
                              "\u2827\u2807\u280f",
                              3};
  static const glyphs ascii{"*", "+", "x", "*", "|/-\\", 1};
  return utf8 ? unicode : ascii;
}

} // namespace sky::cli
