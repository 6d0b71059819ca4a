#pragma once

// node_channel::upload over SFTP: what sync_directory (providers/local/
// sync_dir.hpp) does on this host, to a directory on an SSH host. Only
// files whose size or mtime (seconds: SFTP v3 carries no more) differ are
// sent; each is written to a temporary beside its target, given the
// source's permission bits and mtime, then renamed over it, so a reader on
// the host never sees half a file. Entries the source no longer has are
// deleted; `.git` directories are skipped in both trees; symbolic links
// are copied as links; sockets, FIFOs and devices are skipped.

#include <filesystem>
#include <string>

#include "messages/result.hpp"
#include "providers/node_channel.hpp"

struct sftp_session_struct;

namespace sky::providers::ssh {

/// `remote_dir` is absolute; it is created (with its parents) when missing.
/// `host` names the host in messages.
result<upload_stats> sftp_upload(sftp_session_struct* sftp,
                                 const std::filesystem::path& local_dir,
                                 const std::string& remote_dir,
                                 const std::string& host);

/// Up to `max_bytes` of a remote file from `offset`; errc::not_found when
/// the file does not exist.
result<log_chunk> sftp_read_range(sftp_session_struct* sftp,
                                  const std::string& path, uint64_t offset,
                                  size_t max_bytes, const std::string& host);

} // namespace sky::providers::ssh
