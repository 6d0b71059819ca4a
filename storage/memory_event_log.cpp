#include "storage/memory_event_log.hpp"

#include <algorithm>

namespace sky::storage {

result<std::vector<event>>
memory_event_log::append(std::vector<event_draft> drafts) {
  if (failures_left_ > 0) {
    --failures_left_;
    return make_error(errc::storage_error, "injected append failure");
  }
  for (const auto& d : drafts)
    if (auto ok = validate_entity(d.entity); !ok)
      return ok.error();
  auto events = number_drafts(drafts, last_seq() + 1, clock_());
  for (const auto& d : drafts) {
    if (d.snapshot == snapshot_op::put)
      snapshots_.insert_or_assign(d.entity, d.snapshot_value);
    else if (d.snapshot == snapshot_op::erase)
      snapshots_.erase(d.entity);
  }
  events_.insert(events_.end(), events.begin(), events.end());
  return events;
}

result<std::vector<event>> memory_event_log::read(uint64_t from_seq,
                                                  size_t max_count) const {
  std::vector<event> out;
  uint64_t from = std::max(from_seq, first_seq_);
  for (uint64_t seq = from; seq <= last_seq() && out.size() < max_count; ++seq)
    out.push_back(events_[seq - first_seq_]);
  return out;
}

uint64_t memory_event_log::last_seq() const {
  return first_seq_ + events_.size() - 1;
}

uint64_t memory_event_log::first_seq() const {
  return first_seq_;
}

result<std::optional<std::string>>
memory_event_log::load_snapshot(std::string_view entity) const {
  auto i = snapshots_.find(entity);
  if (i == snapshots_.end())
    return std::optional<std::string>{};
  return std::optional<std::string>{i->second};
}

result<std::vector<std::pair<std::string, std::string>>>
memory_event_log::load_snapshots(std::string_view prefix) const {
  std::vector<std::pair<std::string, std::string>> out;
  for (auto i = snapshots_.lower_bound(prefix);
       i != snapshots_.end() && topic_matches(i->first, prefix); ++i)
    out.emplace_back(i->first, i->second);
  return out;
}

result<uint64_t>
memory_event_log::count_snapshots(std::string_view prefix) const {
  uint64_t n = 0;
  for (auto i = snapshots_.lower_bound(prefix);
       i != snapshots_.end() && topic_matches(i->first, prefix); ++i)
    ++n;
  return n;
}

result<uint64_t> memory_event_log::trim_before(uint64_t seq) {
  uint64_t limit = std::min(seq, last_seq() + 1);
  if (limit <= first_seq_)
    return uint64_t{0};
  uint64_t n = limit - first_seq_;
  events_.erase(events_.begin(), events_.begin() + static_cast<long>(n));
  first_seq_ = limit;
  return n;
}

} // namespace sky::storage
