#include "providers/local/local_channel.hpp"

#include <sstream>

#include <atomic>
#include <cerrno>
#include <charconv>
#include <csignal>
#include <cstdlib>
#include <fcntl.h>
#include <pwd.h>
#include <sys/stat.h>
#include <unistd.h>

#include "providers/local/detached_spawn.hpp"
#include "providers/common/fs_util.hpp"
#include "providers/common/proc_stat.hpp"
#include "providers/common/process_records.hpp"
#include "providers/local/sync_dir.hpp"
#include "providers/common/wrapper.hpp"

namespace sky::providers {

namespace {

namespace fs = std::filesystem;
using namespace local_detail;

std::string env_or(const char* name, const std::string& fallback) {
  const char* v = std::getenv(name);
  return v != nullptr && *v != '\0' ? std::string{v} : fallback;
}

std::string user_name() {
  char buf[4096];
  struct passwd pw {};
  struct passwd* found = nullptr;
  if (::getpwuid_r(::getuid(), &pw, buf, sizeof(buf), &found) == 0
      && found != nullptr)
    return found->pw_name;
  return env_or("USER", "root");
}

result<std::string> find_bash() {
  for (const char* p : {"/bin/bash", "/usr/bin/bash", "/usr/local/bin/bash"})
    if (::access(p, X_OK) == 0)
      return std::string{p};
  return make_error(errc::fatal,
                    "local: bash not found in /bin, /usr/bin or "
                    "/usr/local/bin",
                    "install bash on this host");
}

result<void> validate_env(const std::map<std::string, std::string>& env) {
  for (const auto& [k, v] : env) {
    if (k.empty() || k.find('=') != std::string::npos
        || k.find('\0') != std::string::npos)
      return make_error(errc::invalid_argument,
                        "environment variable name '" + k + "' is invalid",
                        "use letters, digits and '_'");
    if (v.find('\0') != std::string::npos)
      return make_error(errc::invalid_argument,
                        "environment variable " + k + " contains a NUL byte");
  }
  return {};
}

result<void> make_dirs(const fs::path& p, const char* what) {
  std::error_code ec;
  fs::create_directories(p, ec);
  if (ec)
    return make_error(errc::fatal,
                      std::string{"local: cannot create the "} + what + " "
                        + p.string() + ": " + ec.message(),
                      "check permissions and free space on this host");
  return {};
}

/// Installs the wrapper once per content: rewriting it on every start
/// would change the file under a bash that is reading it.
result<void> install_wrapper(const fs::path& path) {
  std::string want{node_wrapper_script()};
  auto have = read_file(path);
  if (have && *have && **have == want)
    return {};
  return write_file_atomic(path, want, 0755);
}

/// A script file of its own for each start, so that two starts with the
/// same name never run each other's script. The wrapper deletes it.
fs::path unique_script_path(const fs::path& dir, const std::string& name) {
  static std::atomic<uint64_t> counter{0};
  return dir
         / (name + "-" + std::to_string(now_unix_ms()) + "-"
            + std::to_string(::getpid()) + "-"
            + std::to_string(counter.fetch_add(1)) + ".sh");
}

std::optional<process_status> parse_exit_file(std::string_view text) {
  process_status s;
  s.state = process_state::exited;
  auto space = text.find(' ');
  if (space == std::string_view::npos)
    return std::nullopt;
  auto code = text.substr(0, space);
  auto ms = text.substr(space + 1);
  while (!ms.empty() && (ms.back() == '\n' || ms.back() == ' '))
    ms.remove_suffix(1);
  auto r1
    = std::from_chars(code.data(), code.data() + code.size(), s.exit_code);
  auto r2 = std::from_chars(ms.data(), ms.data() + ms.size(), s.ended_at_ms);
  if (r1.ec != std::errc{} || r1.ptr != code.data() + code.size()
      || r2.ec != std::errc{} || r2.ptr != ms.data() + ms.size())
    return std::nullopt;
  return s;
}

// Written by the wrapper before the script runs: "<pid> <start ticks>".
fs::path start_file_of(const fs::path& log) {
  auto f = log;
  f += ".start";
  return f;
}

result<void> check_handle(const process_handle& h) {
  if (h.pid <= 0 || h.exit_file.empty())
    return make_error(errc::invalid_argument,
                      "process handle without pid or exit file (pid "
                        + std::to_string(h.pid) + ")",
                      "use a handle returned by start()");
  return {};
}

} // namespace

local_channel::local_channel(fs::path home, std::string ip)
  : ip_(std::move(ip)) {
  std::error_code ec;
  auto abs = fs::absolute(home, ec);
  home_ = (ec ? home : abs).lexically_normal();
  // No trailing separator: the path is compared as text in the node marker.
  if (home_.has_filename() == false && home_.has_parent_path())
    home_ = home_.parent_path();
}

std::string local_channel::home() const {
  return home_.string();
}

std::string local_channel::ip() const {
  return ip_;
}

result<process_handle> local_channel::start(const process_spec& spec) {
  if (!is_safe_name(spec.name))
    return make_error(errc::invalid_argument,
                      "process name '" + spec.name
                        + "' is not a safe file "
                          "name",
                      "use letters, digits, '.', '_' and '-'");
  if (spec.log_file.empty())
    return make_error(errc::invalid_argument,
                      "process '" + spec.name + "' has no log file",
                      "set process_spec::log_file");
  if (auto ok = validate_env(spec.env); !ok)
    return ok.error();
  auto bash = find_bash();
  if (!bash)
    return bash.error();
  auto sky_dir = home_ / ".sky";
  auto log = resolve_under(home_, spec.log_file);
  auto cwd = spec.cwd.empty() ? home_ : resolve_under(home_, spec.cwd);
  for (auto [dir, what] : {std::pair{sky_dir / "scripts", "node directory"},
                           std::pair{log.parent_path(), "log directory"},
                           std::pair{cwd, "working directory"}})
    if (auto ok = make_dirs(dir, what); !ok)
      return ok.error();
  auto exit_file = log;
  exit_file += ".exit";
  // A previous run with the same log would otherwise look finished (or
  // started).
  std::error_code ec;
  fs::remove(exit_file, ec);
  fs::remove(start_file_of(log), ec);
  auto wrapper = sky_dir / "wrapper.sh";
  if (auto ok = install_wrapper(wrapper); !ok)
    return ok.error();
  auto script = unique_script_path(sky_dir / "scripts", spec.name);
  if (auto ok = write_file_atomic(script, spec.script, 0644); !ok)
    return ok.error();

  std::map<std::string, std::string> env{
    {"PATH",
     env_or("PATH",
            "/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin")},
    {"HOME", home_.string()},
    {"USER", user_name()},
    {"LANG", env_or("LANG", "C.UTF-8")},
    {"TERM", "dumb"},
  };
  for (const auto& [k, v] : spec.env)
    env[k] = v;
  env[node_marker_env] = home_.string();
  spawn_request req;
  req.program = *bash;
  req.argv = {"bash", wrapper.string(), script.string(), exit_file.string()};
  for (const auto& [k, v] : env)
    req.env.push_back(k + "=" + v);
  req.cwd = cwd;
  req.log_file = log;
  req.ready_fd = 3; // the wrapper closes it once its traps are set
  auto spawned = spawn_detached(req);
  if (!spawned) {
    fs::remove(script, ec);
    return spawned.error();
  }
  process_handle handle{spawned->pid, spawned->start_ticks, log.string(),
                        exit_file.string()};
  prune_process_records(home_);
  if (auto ok = save_process_record(home_, {handle, spec.name, now_unix_ms()});
      !ok) {
    // Without its record, stop could still find it by the node marker; but
    // a process the caller cannot account for must not keep running.
    ::kill(static_cast<pid_t>(-handle.pid), SIGKILL);
    return ok.error();
  }
  return handle;
}

result<process_status> local_channel::poll(const process_handle& handle) {
  // A handle recovered by find_process for a process that already ended
  // carries only its exit file.
  if (handle.pid <= 0 && !handle.exit_file.empty())
    if (auto text = read_file(handle.exit_file); text && *text)
      if (auto status = parse_exit_file(**text))
        return *status;
  if (auto ok = check_handle(handle); !ok)
    return ok.error();
  // Stat first, exit file second: the wrapper writes the exit file before
  // it ends, so a process seen dead here has its file by the next read.
  auto st = read_proc_stat(handle.pid);
  auto text = read_file(handle.exit_file);
  if (!text)
    return text.error();
  if (*text) {
    if (auto status = parse_exit_file(**text))
      return *status;
    return make_error(
      errc::fatal, "exit file " + handle.exit_file + " is malformed: " + **text,
      "it should hold '<exit code> <unix ms>'");
  }
  process_status status;
  bool alive = st && st->start_ticks == handle.start_ticks && !st->is_dead();
  status.state = alive ? process_state::running : process_state::lost;
  return status;
}

result<std::optional<process_handle>>
local_channel::find_process(const std::string& log_file) {
  auto log = resolve_under(home_, log_file);
  auto exit_file = log;
  exit_file += ".exit";
  std::error_code ec;
  // Ended: the exit file is all poll needs (its record may be pruned).
  if (fs::exists(exit_file, ec))
    return std::optional<process_handle>{
      process_handle{0, 0, log.string(), exit_file.string()}};
  // Started: the wrapper wrote its pid and start time before the script.
  if (auto text = read_file(start_file_of(log)); text && *text) {
    process_handle h;
    h.log_file = log.string();
    h.exit_file = exit_file.string();
    std::istringstream in{**text};
    if (in >> h.pid >> h.start_ticks && h.pid > 0)
      return std::optional<process_handle>{h};
    return make_error(errc::conflict, "start file of " + log.string()
                                        + " is malformed: " + **text);
  }
  for (const auto& rec : load_process_records(home_))
    if (rec.handle.log_file == log.string())
      return std::optional<process_handle>{rec.handle};
  // No wrapper ever ran for this log (a process whose starter died waits
  // for it and exits without running anything).
  return std::optional<process_handle>{};
}

result<log_chunk> local_channel::read_log(const std::string& log_file,
                                          uint64_t offset, size_t max_bytes) {
  auto path = resolve_under(home_, log_file);
  int fd = ::open(path.c_str(), O_RDONLY | O_CLOEXEC);
  if (fd < 0) {
    int err = errno;
    if (err == ENOENT)
      return make_error(errc::not_found,
                        "log file " + path.string() + " does not exist",
                        "the process may not have been started on this node");
    return make_error(errc::fatal,
                      errno_text("cannot open " + path.string(), err));
  }
  log_chunk chunk;
  chunk.next_offset = offset;
  struct stat st {};
  if (::fstat(fd, &st) == 0 && static_cast<uint64_t>(st.st_size) > offset) {
    auto want = std::min<uint64_t>(max_bytes,
                                   static_cast<uint64_t>(st.st_size) - offset);
    chunk.data.resize(want);
    size_t got = 0;
    while (got < want) {
      auto n = ::pread(fd, chunk.data.data() + got, want - got,
                       static_cast<off_t>(offset + got));
      if (n < 0 && errno == EINTR)
        continue;
      if (n <= 0)
        break;
      got += static_cast<size_t>(n);
    }
    chunk.data.resize(got);
    chunk.next_offset = offset + got;
  }
  ::close(fd);
  return chunk;
}

result<void> local_channel::signal(const process_handle& handle, int sig) {
  if (auto ok = check_handle(handle); !ok)
    return ok.error();
  if (sig < 0 || sig >= NSIG)
    return make_error(errc::invalid_argument,
                      "signal " + std::to_string(sig) + " does not exist");
  auto st = read_proc_stat(handle.pid);
  if (!st || st->start_ticks != handle.start_ticks)
    return make_error(errc::not_found,
                      "process " + std::to_string(handle.pid) + " (log "
                        + handle.log_file
                        + ") is gone or its pid was reused: not signalled",
                      "poll it: it has exited or was lost");
  // While the leader (alive, or a zombie not yet reaped) keeps its start
  // time, its pid is also its process group's id.
  if (::kill(static_cast<pid_t>(-handle.pid), sig) != 0) {
    int err = errno;
    return make_error(
      err == ESRCH ? errc::not_found : errc::fatal,
      errno_text("cannot signal process group " + std::to_string(handle.pid),
                 err));
  }
  return {};
}

result<upload_stats> local_channel::upload(const fs::path& local_dir,
                                           const std::string& remote_dir) {
  return sync_directory(local_dir, resolve_under(home_, remote_dir));
}

} // namespace sky::providers
