#pragma once

// Directory synchronisation for node_channel::upload on a node that shares
// this host's file system: what `rsync -a --delete --exclude .git/` does,
// without rsync.

#include <filesystem>

#include "messages/result.hpp"
#include "providers/node_channel.hpp"

namespace sky::providers {

/// Makes `dst` hold exactly the files of `src`:
/// - a regular file is copied only when its size or mtime differ (copied to
///   a temporary beside the target, then renamed, so a reader never sees
///   half a file); mtime (to the nanosecond) and permission bits are kept;
/// - symbolic links are copied as links (never followed), directories are
///   created with the source's permission bits and mtime;
/// - entries of `dst` that `src` no longer has are deleted;
/// - `.git` directories are skipped at every level, in both trees;
/// - sockets, FIFOs and devices are skipped.
/// `src` itself may be a symlink to a directory. `dst` is created when
/// missing. Nested source and destination (one inside the other) are
/// refused: the copy would recurse or delete its own source.
result<upload_stats> sync_directory(const std::filesystem::path& src,
                                    const std::filesystem::path& dst);

} // namespace sky::providers
