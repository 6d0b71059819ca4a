#include "providers/sim/sim_channels.hpp"

#include <cctype>
#include <charconv>
#include <sstream>

#include "messages/suggest.hpp"
#include "providers/common/fs_util.hpp"
#include "providers/sim/sim_duration.hpp"

namespace sky::providers {

namespace {

namespace fs = std::filesystem;

std::string_view trim(std::string_view s) {
  while (!s.empty() && std::isspace(static_cast<unsigned char>(s.front())))
    s.remove_prefix(1);
  while (!s.empty() && std::isspace(static_cast<unsigned char>(s.back())))
    s.remove_suffix(1);
  return s;
}

caf::error bad_directive(std::string_view line, std::string what) {
  return make_error(errc::invalid_argument,
                    "sim directive '" + std::string{trim(line)}
                      + "': " + std::move(what),
                    "write e.g. '# sim: duration=30s exit=0' (duration: "
                    "500ms, 30s, 10m, 2h or forever; exit: 0 to 255)");
}

/// The wall time at which a preemption killed the node's processes, from
/// the marker sim_world writes before the kill.
std::optional<int64_t> node_ended_at(const fs::path& home) {
  auto text = local_detail::read_file(home / ".sky" / "sim-ended");
  if (!text || !*text)
    return std::nullopt;
  int64_t ms = 0;
  auto s = trim(**text);
  auto [ptr, ec] = std::from_chars(s.data(), s.data() + s.size(), ms);
  if (ec != std::errc{})
    return std::nullopt;
  return ms;
}

} // namespace

result<sim_directive> parse_sim_directive(const std::string& script) {
  sim_directive d;
  std::istringstream in{script};
  std::string raw;
  while (std::getline(in, raw)) {
    auto line = trim(raw);
    if (line.empty() || line.front() != '#')
      continue;
    auto body = trim(line.substr(1));
    if (body.substr(0, 4) != "sim:")
      continue;
    std::string rest{body.substr(4)};
    for (auto& ch : rest)
      if (ch == ',')
        ch = ' ';
    std::istringstream words{rest};
    std::string word;
    while (words >> word) {
      auto eq = word.find('=');
      if (eq == std::string::npos)
        return bad_directive(line, "'" + word + "' is not key=value");
      auto key = word.substr(0, eq);
      auto value = word.substr(eq + 1);
      if (key == "duration") {
        if (value == "forever" || value == "inf") {
          d.duration_ms.reset();
          continue;
        }
        auto ms = sim::parse_duration_ms(value);
        if (!ms)
          return bad_directive(line, describe(ms.error()).message);
        d.duration_ms = *ms;
      } else if (key == "exit") {
        int code = -1;
        auto [ptr, ec]
          = std::from_chars(value.data(), value.data() + value.size(), code);
        if (ec != std::errc{} || ptr != value.data() + value.size() || code < 0
            || code > 255)
          return bad_directive(line, "exit '" + value
                                       + "' is not a number from 0 to 255");
        d.exit_code = code;
      } else {
        return bad_directive(line, "unknown key '" + key + "'"
                                     + did_you_mean(key, {"duration", "exit"}));
      }
    }
  }
  return d;
}

// ---- real mode --------------------------------------------------------

sim_real_channel::sim_real_channel(std::shared_ptr<sim_world> world,
                                   sim_node_ref node)
  : world_(std::move(world)), node_(std::move(node)),
    inner_(node_.home, node_.ip) {}

std::string sim_real_channel::home() const {
  return inner_.home();
}

std::string sim_real_channel::ip() const {
  return inner_.ip();
}

result<process_handle> sim_real_channel::start(const process_spec& spec) {
  auto state = world_->node_state(node_);
  if (state != instance_state::running)
    return make_error(
      errc::conflict,
      node_.cloud + " (simulated): node " + std::to_string(node_.rank)
        + " of cluster '" + node_.cluster + "' is "
        + std::string{to_string(state)} + ": nothing can start on it",
      "start the cluster again (skyctl start " + node_.cluster + ")");
  return inner_.start(spec);
}

result<process_status> sim_real_channel::poll(const process_handle& handle) {
  auto status = inner_.poll(handle);
  if (!status || status->state != process_state::exited)
    return status;
  // The kill of a preempted node lets the wrapper record an exit code;
  // a machine that vanishes would not have: lost, like on a real cloud.
  if (auto ended = node_ended_at(node_.home);
      ended && status->ended_at_ms >= *ended) {
    process_status lost;
    lost.state = process_state::lost;
    return lost;
  }
  return status;
}

result<std::optional<process_handle>>
sim_real_channel::find_process(const std::string& log_file) {
  return inner_.find_process(log_file);
}

result<log_chunk> sim_real_channel::read_log(const std::string& log_file,
                                             uint64_t offset,
                                             size_t max_bytes) {
  return inner_.read_log(log_file, offset, max_bytes);
}

result<void> sim_real_channel::signal(const process_handle& handle, int sig) {
  return inner_.signal(handle, sig);
}

result<upload_stats> sim_real_channel::upload(const fs::path& local_dir,
                                              const std::string& remote_dir) {
  return inner_.upload(local_dir, remote_dir);
}

// ---- virtual mode -----------------------------------------------------

sim_virtual_channel::sim_virtual_channel(std::shared_ptr<sim_world> world,
                                         sim_node_ref node)
  : world_(std::move(world)), node_(std::move(node)) {}

std::string sim_virtual_channel::home() const {
  return node_.home.string();
}

std::string sim_virtual_channel::ip() const {
  return node_.ip;
}

result<process_handle> sim_virtual_channel::start(const process_spec& spec) {
  auto directive = parse_sim_directive(spec.script);
  if (!directive) {
    auto info = describe(directive.error());
    return make_error(errc::invalid_argument,
                      "process '" + spec.name + "': " + info.message,
                      info.hint);
  }
  return world_->start_virtual(node_, spec, *directive);
}

result<process_status> sim_virtual_channel::poll(const process_handle& handle) {
  return world_->poll_virtual(node_, handle);
}

bool sim_virtual_channel::watch_exit(const process_handle& handle,
                                     std::function<void()> notify) {
  world_->watch_virtual(node_, handle, std::move(notify));
  return true;
}

result<std::optional<process_handle>>
sim_virtual_channel::find_process(const std::string& log_file) {
  return world_->find_virtual(node_, log_file);
}

result<log_chunk> sim_virtual_channel::read_log(const std::string& log_file,
                                                uint64_t offset,
                                                size_t max_bytes) {
  return world_->read_virtual_log(node_, log_file, offset, max_bytes);
}

result<void> sim_virtual_channel::signal(const process_handle& handle,
                                         int sig) {
  return world_->signal_virtual(node_, handle, sig);
}

result<upload_stats>
sim_virtual_channel::upload(const fs::path& local_dir,
                            const std::string& remote_dir) {
  (void) remote_dir;
  std::error_code ec;
  if (!fs::is_directory(local_dir, ec))
    return make_error(errc::invalid_argument,
                      "upload: " + local_dir.string() + " is not a directory",
                      "give the path of a local directory");
  upload_stats stats;
  for (fs::recursive_directory_iterator it{local_dir, ec}, end;
       !ec && it != end; it.increment(ec)) {
    if (it->path().filename() == ".git") {
      it.disable_recursion_pending();
      continue;
    }
    if (it->is_regular_file(ec) && !it->is_symlink(ec)) {
      ++stats.files_copied;
      stats.bytes_copied += it->file_size(ec);
    }
  }
  if (ec)
    return make_error(errc::fatal,
                      "upload: cannot read " + local_dir.string() + ": "
                        + ec.message(),
                      "check the directory's permissions");
  return stats;
}

} // namespace sky::providers
