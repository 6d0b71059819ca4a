#pragma once

// Small file helpers shared by the local provider and its node channel:
// atomic writes (write a temporary beside the target, then rename, so that a
// reader or a crash never sees half a file), whole-file reads, clocks and
// errno texts.

#include <cstdint>
#include <filesystem>
#include <optional>
#include <string>

#include "messages/failure_scope.hpp"
#include "messages/result.hpp"

namespace sky::providers::local_detail {

/// Writes `content` to `path` atomically: a temporary file in the same
/// directory is written, flushed to disk and renamed over `path`.
result<void> write_file_atomic(const std::filesystem::path& path,
                               const std::string& content, int mode = 0644);

/// The whole file, nullopt when it does not exist, an error when it exists
/// but cannot be read.
result<std::optional<std::string>> read_file(const std::filesystem::path& path);

/// Milliseconds since the Unix epoch (wall clock: recorded for users).
int64_t now_unix_ms();

/// "<what>: <strerror(err)>".
std::string errno_text(const std::string& what, int err);

/// `p` if absolute, else `base / p`, normalized lexically.
std::filesystem::path resolve_under(const std::filesystem::path& base,
                                    const std::string& p);

/// A file or directory name made of [A-Za-z0-9._-] that is not "." or ".."
/// and does not start with a dot (so it never hides or escapes).
bool is_safe_name(const std::string& name);

/// A cluster's name becomes a directory's (a sandbox, a node directory), so
/// providers that keep one refuse names is_safe_name refuses, with one
/// text: invalid_argument "<who>: cluster name '<cluster>' cannot name a
/// directory", blocking `scope` for failover (the provider's own).
result<void> check_cluster_dir_name(const std::string& who,
                                    const std::string& cluster,
                                    failure_scope scope);

} // namespace sky::providers::local_detail
