#include "providers/ssh/remote_scripts.hpp"

#include <cctype>
#include <charconv>
#include <sstream>

#include "providers/common/wrapper.hpp"

namespace sky::providers::ssh {

namespace {

/// FNV-1a: stable across builds and platforms (std::hash is not), which
/// the wrapper's file name needs.
uint64_t fnv1a(std::string_view s) {
  uint64_t h = 1469598103934665603ULL;
  for (unsigned char c : s) {
    h ^= c;
    h *= 1099511628211ULL;
  }
  return h;
}

bool is_shell_name(const std::string& k) {
  if (k.empty()
      || !(std::isalpha(static_cast<unsigned char>(k[0])) || k[0] == '_'))
    return false;
  for (char c : k)
    if (!(std::isalnum(static_cast<unsigned char>(c)) || c == '_'))
      return false;
  return true;
}

std::vector<std::string_view> lines_of(std::string_view text) {
  std::vector<std::string_view> out;
  size_t pos = 0;
  while (pos < text.size()) {
    auto end = text.find('\n', pos);
    if (end == std::string_view::npos)
      end = text.size();
    out.push_back(text.substr(pos, end - pos));
    pos = end + 1;
  }
  return out;
}

template <class T>
bool parse_whole(std::string_view s, T& out) {
  auto r = std::from_chars(s.data(), s.data() + s.size(), out);
  return r.ec == std::errc{} && r.ptr == s.data() + s.size();
}

caf::error garbled(std::string_view what, std::string_view text) {
  std::string shown{text.substr(0, 200)};
  return make_error(errc::transient,
                    std::string{"ssh: unexpected output from the host's "}
                      + std::string{what} + ": '" + shown + "'",
                    "check that the host runs Linux with bash and coreutils");
}

} // namespace

std::string shell_quote(std::string_view s) {
  std::string out = "'";
  for (char c : s) {
    if (c == '\'')
      out += "'\\''";
    else
      out += c;
  }
  out += "'";
  return out;
}

std::string bash_command(std::string_view script,
                         const std::vector<std::string>& args) {
  std::string cmd = "bash -c " + shell_quote(script) + " skyd";
  for (const auto& a : args) {
    cmd += ' ';
    cmd += shell_quote(a);
  }
  return cmd;
}

std::string wrapper_path(const std::string& node_home) {
  char hex[17];
  std::snprintf(hex, sizeof(hex), "%016llx",
                static_cast<unsigned long long>(fnv1a(node_wrapper_script())));
  return node_home + "/.sky/wrapper-" + std::string{hex, 12} + ".sh";
}

std::string_view install_wrapper_script() {
  return R"SH(w=$1
mkdir -p -- "${w%/*}" || exit 1
cat > "$w.tmp.$$" && chmod 755 "$w.tmp.$$" && mv -f -- "$w.tmp.$$" "$w"
)SH";
}

std::string_view start_script() {
  // Why a FIFO on fd 3: the wrapper writes one byte to fd 3 from the
  // script's own process just before it execs the script (see wrapper.cpp),
  // so once `read` returns, a signal sent to the group reaches the script;
  // if the wrapper dies first, the FIFO closes and `read` returns at once.
  // Why the stdin is read first: the channel may have to send it again
  // after installing the wrapper, and an unread stdin would be lost anyway.
  // Why the .launch marker: a skyd that dies between sending this and
  // learning the pid must not start the process a second time
  // (find_script reports "launched").
  return R"SH(set -u
node=$1 log=$2 cwd=$3 script=$4 wrapper=$5
mkdir -p -- "$node/.sky/scripts" "${log%/*}" "$cwd" || exit 11
( umask 077; cat > "$script" ) || exit 12
[ -f "$wrapper" ] || { rm -f -- "$script"; exit 20; }
exit_file=$log.exit
rm -f -- "$exit_file" "$log.start"
: > "$log.launch" || exit 12
ready=$node/.sky/ready.$$
rm -f -- "$ready"
mkfifo -m 600 -- "$ready" || exit 13
cd -- "$cwd" || exit 14
env -i PATH="$PATH" HOME="$HOME" USER="$(id -un)" LANG=C.UTF-8 TERM=dumb \
  SKYD_NODE_HOME="$node" setsid bash "$wrapper" "$script" "$exit_file" \
  3>"$ready" </dev/null >>"$log" 2>&1 &
read -r -n 1 -t 30 _ <"$ready"
rm -f -- "$ready"
if [ -s "$log.start" ]; then cat -- "$log.start"; else exit 15; fi
)SH";
}

result<std::string>
script_with_env(const std::map<std::string, std::string>& env,
                const std::string& node_home, const std::string& script) {
  std::string out;
  for (const auto& [k, v] : env) {
    if (!is_shell_name(k))
      return make_error(errc::invalid_argument,
                        "environment variable name '" + k
                          + "' cannot be set on an SSH node",
                        "use letters, digits and '_', not starting with a "
                        "digit");
    if (v.find('\0') != std::string::npos)
      return make_error(errc::invalid_argument,
                        "environment variable " + k + " contains a NUL byte");
    out += "export " + k + "=" + shell_quote(v) + "\n";
  }
  // Last, so that the task's env cannot hide the process from terminate.
  out += "export SKYD_NODE_HOME=" + shell_quote(node_home) + "\n";
  out += script;
  if (!out.empty() && out.back() != '\n')
    out += '\n';
  return out;
}

std::string_view poll_script() {
  // The pid's stat is read before the exit file: the wrapper writes the
  // exit file before it ends, so a pid seen gone here has its file by the
  // time the file is read.
  return R"SH(pid=$1 exit_file=$2
stat=
[ "$pid" -gt 0 ] 2>/dev/null && stat=$(cat "/proc/$pid/stat" 2>/dev/null)
if [ -n "$stat" ]; then
  rest=${stat##*) }
  set -f
  set -- $rest
  echo "proc $1 ${20}"
else
  echo "proc none"
fi
if [ -f "$exit_file" ]; then printf 'exit '; cat -- "$exit_file"; else echo "exit none"; fi
)SH";
}

result<poll_output> parse_poll_output(std::string_view text) {
  poll_output out;
  bool have_proc = false;
  bool have_exit = false;
  for (auto line : lines_of(text)) {
    if (line.rfind("proc ", 0) == 0) {
      auto rest = line.substr(5);
      have_proc = true;
      if (rest == "none")
        continue;
      auto sp = rest.find(' ');
      if (sp != 1)
        return garbled("process check", text);
      out.state = rest[0];
      if (!parse_whole(rest.substr(2), out.start_ticks))
        return garbled("process check", text);
    } else if (line.rfind("exit ", 0) == 0) {
      have_exit = true;
      auto rest = line.substr(5);
      if (rest != "none")
        out.exit_text = std::string{rest};
    }
  }
  if (!have_proc || !have_exit)
    return garbled("process check", text);
  return out;
}

std::optional<process_status> parse_exit_text(std::string_view text) {
  while (!text.empty() && (text.back() == '\n' || text.back() == ' '))
    text.remove_suffix(1);
  auto space = text.find(' ');
  if (space == std::string_view::npos)
    return std::nullopt;
  process_status s;
  s.state = process_state::exited;
  if (!parse_whole(text.substr(0, space), s.exit_code)
      || !parse_whole(text.substr(space + 1), s.ended_at_ms))
    return std::nullopt;
  return s;
}

result<process_status> decide_status(const poll_output& out,
                                     const process_handle& handle) {
  if (out.exit_text) {
    if (auto s = parse_exit_text(*out.exit_text))
      return *s;
    return make_error(errc::fatal,
                      "exit file " + handle.exit_file
                        + " is malformed: " + *out.exit_text,
                      "it should hold '<exit code> <unix ms>'");
  }
  process_status s;
  bool alive = handle.pid > 0 && out.state
               && out.start_ticks == handle.start_ticks && *out.state != 'Z'
               && *out.state != 'X';
  s.state = alive ? process_state::running : process_state::lost;
  return s;
}

std::string_view find_script() {
  return R"SH(log=$1
i=0
while :; do
  if [ -f "$log.exit" ]; then echo ended; exit 0; fi
  if [ -s "$log.start" ]; then printf 'started '; cat -- "$log.start"; exit 0; fi
  [ -e "$log.launch" ] || { echo none; exit 0; }
  i=$((i + 1))
  [ $i -gt 20 ] && { echo launched; exit 0; }
  sleep 0.1
done
)SH";
}

result<found_process> parse_find_output(std::string_view text) {
  while (!text.empty() && (text.back() == '\n' || text.back() == ' '))
    text.remove_suffix(1);
  found_process f;
  if (text == "none")
    return f;
  if (text == "ended") {
    f.what = found_process::kind::ended;
    return f;
  }
  if (text == "launched") {
    f.what = found_process::kind::launched;
    return f;
  }
  if (text.rfind("started ", 0) == 0) {
    auto rest = text.substr(8);
    auto sp = rest.find(' ');
    if (sp != std::string_view::npos && parse_whole(rest.substr(0, sp), f.pid)
        && parse_whole(rest.substr(sp + 1), f.start_ticks) && f.pid > 0) {
      f.what = found_process::kind::started;
      return f;
    }
  }
  return garbled("process lookup", text);
}

std::string_view signal_script() {
  return R"SH(pid=$1 ticks=$2 sig=$3
stat=
[ "$pid" -gt 0 ] 2>/dev/null && stat=$(cat "/proc/$pid/stat" 2>/dev/null)
[ -n "$stat" ] || exit 3
rest=${stat##*) }
set -f
set -- $rest
[ "${20}" = "$ticks" ] || exit 3
kill -n "$sig" -- "-$pid" || exit 4
)SH";
}

std::string_view cleanup_node_script() {
  // Processes are found by the node marker in their environment (every
  // process started on the node inherits it, also those that left the
  // wrapper's process group), as local's node_killer does through /proc.
  return R"SH(node=$1 grace=$2
marker="SKYD_NODE_HOME=$node"
find_pids() {
  for d in /proc/[0-9]*; do
    p=${d#/proc/}
    [ "$p" = "$$" ] && continue
    grep -qzxF -- "$marker" "$d/environ" 2>/dev/null && echo "$p"
  done
}
pids=$(find_pids)
if [ -n "$pids" ]; then
  kill -TERM $pids 2>/dev/null
  end=$((SECONDS + grace))
  while [ $SECONDS -lt $end ]; do
    sleep 0.2
    pids=$(find_pids)
    [ -z "$pids" ] && break
  done
  pids=$(find_pids)
  [ -n "$pids" ] && kill -KILL $pids 2>/dev/null
fi
rm -rf -- "$node" || exit 1
rmdir -- "${node%/*}" 2>/dev/null
exit 0
)SH";
}

std::string_view prepare_node_script() {
  return R"SH(mkdir -p -- "$1/.sky")SH";
}

std::string_view home_script() {
  return R"SH(cd && pwd -P)SH";
}

} // namespace sky::providers::ssh
