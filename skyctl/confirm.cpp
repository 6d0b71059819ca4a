#include "skyctl/confirm.hpp"

#include <algorithm>
#include <cctype>
#include <istream>
#include <ostream>

namespace sky::cli {

bool should_confirm(const terminal_info& term, bool yes) {
  return term.stdin_tty && !yes;
}

bool ask_yes_no(std::string_view question, std::istream& in,
                std::ostream& out) {
  for (int attempt = 0; attempt < 3; ++attempt) {
    out << question << " [Y/n] " << std::flush;
    std::string answer;
    if (!std::getline(in, answer)) {
      out << "\n";
      return false;
    }
    answer.erase(
      std::remove_if(answer.begin(), answer.end(),
                     [](unsigned char c) { return std::isspace(c); }),
      answer.end());
    std::transform(answer.begin(), answer.end(), answer.begin(),
                   [](unsigned char c) { return std::tolower(c); });
    if (answer.empty() || answer == "y" || answer == "yes")
      return true;
    if (answer == "n" || answer == "no")
      return false;
    out << "Please answer y or n.\n";
  }
  return false;
}

std::string join_names(const std::vector<std::string>& names) {
  std::string out;
  for (const auto& n : names)
    out += (out.empty() ? "" : ", ") + n;
  return out;
}

} // namespace sky::cli
