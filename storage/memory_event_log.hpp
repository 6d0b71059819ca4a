#pragma once

#include <map>

#include "storage/event_log.hpp"

namespace sky::storage {

/// In-memory event log for tests and simulations. Same contract as the
/// RocksDB log minus durability, plus failure injection.
class memory_event_log : public event_log {
public:
  result<std::vector<event>> append(std::vector<event_draft> drafts) override;
  result<std::vector<event>> read(uint64_t from_seq,
                                  size_t max_count) const override;
  uint64_t last_seq() const override;
  uint64_t first_seq() const override;
  result<std::optional<std::string>>
  load_snapshot(std::string_view entity) const override;
  result<std::vector<std::pair<std::string, std::string>>>
  load_snapshots(std::string_view prefix) const override;
  result<uint64_t> count_snapshots(std::string_view prefix) const override;
  result<uint64_t> trim_before(uint64_t seq) override;

  /// The next `n` appends fail with `errc::storage_error` and change nothing.
  void fail_next_appends(int n) { failures_left_ = n; }

  /// Clock used to stamp drafts without a time (tests pin it).
  void set_clock(int64_t (*clock)()) { clock_ = clock; }

private:
  std::vector<event> events_; // events_[i].seq == first_seq_ + i
  uint64_t first_seq_ = 1;
  std::map<std::string, std::string, std::less<>> snapshots_;
  int failures_left_ = 0;
  int64_t (*clock_)() = &now_unix_ms;
};

} // namespace sky::storage
