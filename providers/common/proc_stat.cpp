#include "providers/common/proc_stat.hpp"

#include <charconv>
#include <string>

#include "providers/common/fs_util.hpp"

namespace sky::providers::local_detail {

namespace {

template <class T>
bool parse_number(std::string_view s, T& out) {
  auto [ptr, ec] = std::from_chars(s.data(), s.data() + s.size(), out);
  return ec == std::errc{} && ptr == s.data() + s.size();
}

} // namespace

std::optional<proc_stat> parse_proc_stat(std::string_view text) {
  auto open = text.find('(');
  auto close = text.rfind(')');
  if (open == std::string_view::npos || close == std::string_view::npos
      || close < open)
    return std::nullopt;
  proc_stat st;
  auto pid_text = text.substr(0, open);
  while (!pid_text.empty() && pid_text.back() == ' ')
    pid_text.remove_suffix(1);
  if (!parse_number(pid_text, st.pid))
    return std::nullopt;
  // Fields 3.. follow ") ": field 3 is index 0 here.
  auto rest = text.substr(close + 1);
  std::string_view fields[20];
  size_t count = 0;
  size_t pos = 0;
  while (count < 20) {
    while (pos < rest.size() && (rest[pos] == ' ' || rest[pos] == '\n'))
      ++pos;
    if (pos >= rest.size())
      break;
    auto end = rest.find_first_of(" \n", pos);
    if (end == std::string_view::npos)
      end = rest.size();
    fields[count++] = rest.substr(pos, end - pos);
    pos = end;
  }
  // Field 22 (start time) is index 19.
  if (count < 20 || fields[0].size() != 1)
    return std::nullopt;
  st.state = fields[0][0];
  if (!parse_number(fields[1], st.ppid) || !parse_number(fields[2], st.pgrp)
      || !parse_number(fields[3], st.session)
      || !parse_number(fields[19], st.start_ticks))
    return std::nullopt;
  return st;
}

std::optional<proc_stat> read_proc_stat(int64_t pid) {
  if (pid <= 0)
    return std::nullopt;
  auto text = read_file("/proc/" + std::to_string(pid) + "/stat");
  if (!text || !*text)
    return std::nullopt;
  return parse_proc_stat(**text);
}

} // namespace sky::providers::local_detail
