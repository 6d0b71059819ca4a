#include "providers/ssh/ssh_node_channel.hpp"

#include <atomic>
#include <csignal>
#include <filesystem>

#include "providers/common/fs_util.hpp"
#include "providers/common/wrapper.hpp"
#include "providers/ssh/remote_scripts.hpp"
#include "providers/ssh/sftp_sync.hpp"

namespace sky::providers::ssh {

namespace {

std::string trimmed(std::string s) {
  while (!s.empty() && (s.back() == '\n' || s.back() == ' '))
    s.pop_back();
  return s;
}

caf::error command_failed(const host_session& s, const std::string& what,
                          const exec_result& r) {
  return make_error(errc::fatal,
                    "ssh: " + what + " on " + s.label() + " failed (exit "
                      + std::to_string(r.exit_status)
                      + "): " + trimmed(r.err.substr(0, 500)),
                    "check the host: disk space, permissions, bash and "
                    "coreutils installed");
}

} // namespace

ssh_node_channel::ssh_node_channel(std::shared_ptr<host_session> session,
                                   channel_settings settings)
  : session_(std::move(session)), settings_(std::move(settings)) {
  while (settings_.home.size() > 1 && settings_.home.back() == '/')
    settings_.home.pop_back();
}

std::string ssh_node_channel::home() const {
  return settings_.home;
}

std::string ssh_node_channel::ip() const {
  return settings_.ip;
}

std::string ssh_node_channel::resolve(const std::string& p) const {
  std::filesystem::path path{p};
  if (path.is_relative())
    path = std::filesystem::path{settings_.home} / path;
  auto s = path.lexically_normal().string();
  while (s.size() > 1 && s.back() == '/')
    s.pop_back();
  return s;
}

result<exec_result> ssh_node_channel::run(std::string_view script,
                                          const std::vector<std::string>& args,
                                          std::string_view input,
                                          bool idempotent) {
  return session_->exec(bash_command(script, args), input, idempotent);
}

void ssh_node_channel::report_lost(const std::string& reason) {
  if (settings_.on_lost)
    settings_.on_lost(reason);
}

std::optional<process_status>
ssh_node_channel::lost_if_down(const caf::error& err) {
  if (describe(err).code != errc::transient)
    return std::nullopt;
  auto down = session_->unreachable_for();
  if (!down || *down < settings_.loss_after)
    return std::nullopt;
  report_lost("host " + session_->label() + " has not answered for "
              + std::to_string(down->count() / 1000)
              + " s: " + describe(err).message);
  process_status s;
  s.state = process_state::lost;
  return s;
}

result<process_handle> ssh_node_channel::start(const process_spec& spec) {
  if (!local_detail::is_safe_name(spec.name))
    return make_error(errc::invalid_argument,
                      "process name '" + spec.name
                        + "' is not a safe file name",
                      "use letters, digits, '.', '_' and '-'");
  if (spec.log_file.empty())
    return make_error(errc::invalid_argument,
                      "process '" + spec.name + "' has no log file",
                      "set process_spec::log_file");
  auto text = script_with_env(spec.env, settings_.home, spec.script);
  if (!text)
    return text.error();
  static std::atomic<uint64_t> counter{0};
  auto log = resolve(spec.log_file);
  auto cwd = spec.cwd.empty() ? settings_.home : resolve(spec.cwd);
  auto script_file = settings_.home + "/.sky/scripts/" + spec.name + "-"
                     + std::to_string(local_detail::now_unix_ms()) + "-"
                     + std::to_string(counter.fetch_add(1)) + ".sh";
  auto wrapper = wrapper_path(settings_.home);
  std::vector<std::string> args{settings_.home, log, cwd, script_file, wrapper};
  auto r = run(start_script(), args, *text, false);
  if (r && r->exit_status == start_needs_wrapper) {
    auto installed
      = run(install_wrapper_script(), {wrapper}, node_wrapper_script(), true);
    if (!installed)
      return installed.error();
    if (installed->exit_status != 0)
      return command_failed(*session_, "installing the node wrapper",
                            *installed);
    r = run(start_script(), args, *text, false);
  }
  if (!r)
    return r.error();
  if (r->exit_status == start_failed)
    return make_error(errc::fatal,
                      "ssh: process '" + spec.name + "' did not start on "
                        + session_->label() + " (see " + log + " on the host)",
                      "check that setsid (util-linux) and bash are installed "
                      "on the host");
  if (r->exit_status != 0)
    return command_failed(*session_, "starting '" + spec.name + "'", *r);
  auto found = parse_find_output("started " + trimmed(r->out));
  if (!found || found->what != found_process::kind::started)
    return make_error(errc::fatal, "ssh: unexpected answer when starting '"
                                     + spec.name + "' on " + session_->label()
                                     + ": " + trimmed(r->out));
  return process_handle{found->pid, found->start_ticks, log, log + ".exit"};
}

result<process_status> ssh_node_channel::poll(const process_handle& handle) {
  if (handle.exit_file.empty() || (handle.pid <= 0 && handle.log_file.empty()))
    return make_error(errc::invalid_argument,
                      "process handle without pid or exit file (pid "
                        + std::to_string(handle.pid) + ")",
                      "use a handle returned by start()");
  auto r = run(poll_script(), {std::to_string(handle.pid), handle.exit_file});
  if (!r) {
    if (auto lost = lost_if_down(r.error()))
      return *lost;
    return r.error();
  }
  if (r->exit_status != 0)
    return command_failed(*session_, "checking a process", *r);
  auto out = parse_poll_output(r->out);
  if (!out)
    return out.error();
  auto status = decide_status(*out, handle);
  if (status && status->state == process_state::lost)
    report_lost("process " + std::to_string(handle.pid) + " (log "
                + handle.log_file + ") on " + session_->label()
                + " is gone without an exit record");
  return status;
}

result<std::optional<process_handle>>
ssh_node_channel::find_process(const std::string& log_file) {
  auto log = resolve(log_file);
  auto r = run(find_script(), {log});
  if (!r)
    return r.error();
  if (r->exit_status != 0)
    return command_failed(*session_, "looking for a process", *r);
  auto f = parse_find_output(r->out);
  if (!f)
    return f.error();
  switch (f->what) {
    case found_process::kind::none:
      return std::optional<process_handle>{};
    case found_process::kind::ended:
      return std::optional<process_handle>{
        process_handle{0, 0, log, log + ".exit"}};
    case found_process::kind::started:
      return std::optional<process_handle>{
        process_handle{f->pid, f->start_ticks, log, log + ".exit"}};
    case found_process::kind::launched:
      break;
  }
  return make_error(errc::conflict,
                    "ssh: a process with log " + log + " was launched on "
                      + session_->label()
                      + " but never reported its pid: it cannot be traced",
                    "look at the log on the host; remove " + log
                      + ".launch there to allow starting it again");
}

result<log_chunk> ssh_node_channel::read_log(const std::string& log_file,
                                             uint64_t offset,
                                             size_t max_bytes) {
  auto path = resolve(log_file);
  log_chunk chunk;
  auto label = session_->label();
  auto ok = session_->with_sftp([&](sftp_session_struct* sftp) -> result<void> {
    auto c = sftp_read_range(sftp, path, offset, max_bytes, label);
    if (!c)
      return c.error();
    chunk = std::move(*c);
    return {};
  });
  if (!ok)
    return ok.error();
  return chunk;
}

result<void> ssh_node_channel::signal(const process_handle& handle, int sig) {
  if (handle.pid <= 0 || handle.exit_file.empty())
    return make_error(errc::invalid_argument,
                      "process handle without pid or exit file (pid "
                        + std::to_string(handle.pid) + ")",
                      "use a handle returned by start()");
  if (sig <= 0 || sig >= NSIG)
    return make_error(errc::invalid_argument,
                      "signal " + std::to_string(sig) + " does not exist");
  auto r = run(signal_script(),
               {std::to_string(handle.pid), std::to_string(handle.start_ticks),
                std::to_string(sig)});
  if (!r)
    return r.error();
  if (r->exit_status == signal_gone)
    return make_error(errc::not_found,
                      "process " + std::to_string(handle.pid) + " (log "
                        + handle.log_file + ") on " + session_->label()
                        + " is gone or its pid was reused: not signalled",
                      "poll it: it has exited or was lost");
  if (r->exit_status != 0)
    return command_failed(*session_, "signalling a process group", *r);
  return {};
}

result<upload_stats>
ssh_node_channel::upload(const std::filesystem::path& local_dir,
                         const std::string& remote_dir) {
  auto target = resolve(remote_dir);
  upload_stats stats;
  auto label = session_->label();
  auto ok = session_->with_sftp([&](sftp_session_struct* sftp) -> result<void> {
    auto s = sftp_upload(sftp, local_dir, target, label);
    if (!s)
      return s.error();
    stats = *s;
    return {};
  });
  if (!ok)
    return ok.error();
  return stats;
}

} // namespace sky::providers::ssh
