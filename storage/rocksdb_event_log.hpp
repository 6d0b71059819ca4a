#pragma once

#include <filesystem>
#include <memory>

#include "storage/event_log.hpp"

namespace sky::storage {

struct rocksdb_settings {
  /// Sync the write-ahead log on every append. Only benchmarks that measure
  /// the cost of durability turn it off.
  bool sync = true;
  /// Memtable size; small because skyd's state is small and RSS matters.
  size_t write_buffer_bytes = size_t{4} << 20;
};

/// Opens (creating when missing) the RocksDB event log at `dir`, with column
/// families `events` (big-endian seq -> msgpack event) and `state` (entity ->
/// latest snapshot). Errors name the directory and the cause.
result<std::unique_ptr<event_log>>
open_rocksdb_event_log(const std::filesystem::path& dir,
                       const rocksdb_settings& settings = {});

} // namespace sky::storage
