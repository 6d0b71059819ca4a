#pragma once

// The node channel of a node on an SSH host. Processes run under the same
// wrapper as local nodes (providers/common/wrapper.hpp), detached with
// setsid (own session and process group, stdin /dev/null, output appended
// to a log file on the host), so neither a dropped connection nor a skyd
// restart kills them; poll, find_process and signal read the wrapper's
// start and exit files on the host, so any channel object, in any skyd
// process, re-attaches by handle. Semantics are local_channel's.

#include <chrono>
#include <functional>
#include <memory>
#include <string>

#include "providers/node_channel.hpp"
#include "providers/ssh/session.hpp"

namespace sky::providers::ssh {

struct channel_settings {
  /// The node's directory on the host (absolute).
  std::string home;
  /// What other nodes and the job use to reach it.
  std::string ip;
  /// A host that has not answered for this long is lost: poll reports its
  /// processes lost (and calls on_lost) instead of a transient error.
  std::chrono::milliseconds loss_after{30'000};
  /// Called with a reason when poll concludes the node (or a process on
  /// it) is lost; may be empty.
  std::function<void(const std::string&)> on_lost;
};

class ssh_node_channel final : public node_channel {
public:
  ssh_node_channel(std::shared_ptr<host_session> session,
                   channel_settings settings);

  std::string home() const override;
  std::string ip() const override;

  /// One command on the host in the steady state (two the first time a
  /// node runs something: the wrapper is installed). Environment: PATH,
  /// HOME and USER of the login user, LANG=C.UTF-8, TERM=dumb, then
  /// `spec.env` (names must be shell names), and SKYD_NODE_HOME. Not
  /// retried on a dropped connection: find_process tells whether it ran.
  result<process_handle> start(const process_spec& spec) override;

  /// running / exited / lost as on local; a host unreachable for longer
  /// than loss_after makes it lost, shorter is errc::transient.
  result<process_status> poll(const process_handle& handle) override;

  result<std::optional<process_handle>>
  find_process(const std::string& log_file) override;

  /// Over SFTP.
  result<log_chunk> read_log(const std::string& log_file, uint64_t offset,
                             size_t max_bytes) override;

  /// To the whole process group, only while the leader's start time still
  /// matches the handle (errc::not_found otherwise).
  result<void> signal(const process_handle& handle, int sig) override;

  /// See sftp_sync.hpp.
  result<upload_stats> upload(const std::filesystem::path& local_dir,
                              const std::string& remote_dir) override;

private:
  /// `p` if absolute, else under home.
  std::string resolve(const std::string& p) const;
  result<exec_result> run(std::string_view script,
                          const std::vector<std::string>& args,
                          std::string_view input = {}, bool idempotent = true);
  /// Turns an unreachable host into "lost" once it has been down long
  /// enough; else nullopt (the caller returns the error).
  std::optional<process_status> lost_if_down(const caf::error& err);
  void report_lost(const std::string& reason);

  std::shared_ptr<host_session> session_;
  channel_settings settings_;
};

} // namespace sky::providers::ssh
