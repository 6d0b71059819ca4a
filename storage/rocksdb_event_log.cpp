#include "storage/rocksdb_event_log.hpp"

#include <array>

#include <rocksdb/db.h>
#include <rocksdb/options.h>
#include <rocksdb/table.h>
#include <rocksdb/write_batch.h>

namespace sky::storage {

namespace {

constexpr const char* events_cf = "events";
constexpr const char* state_cf = "state";

// Big-endian so that RocksDB's bytewise order is numeric order.
std::array<char, 8> seq_key(uint64_t seq) {
  std::array<char, 8> key;
  for (int i = 7; i >= 0; --i) {
    key[static_cast<size_t>(i)] = static_cast<char>(seq & 0xff);
    seq >>= 8;
  }
  return key;
}

uint64_t seq_from_key(const rocksdb::Slice& key) {
  uint64_t seq = 0;
  for (size_t i = 0; i < key.size() && i < 8; ++i)
    seq = (seq << 8) | static_cast<unsigned char>(key[i]);
  return seq;
}

caf::error storage_error(const std::filesystem::path& dir,
                         std::string_view what, const rocksdb::Status& st) {
  std::string hint;
  if (st.IsIOError() && st.ToString().find("lock") != std::string::npos)
    hint = "another process has this event log open; stop it first";
  else if (st.IsCorruption())
    hint = "the event log is damaged; move " + dir.string()
           + " aside to start fresh (history is lost)";
  return make_error(errc::storage_error,
                    std::string{what} + " failed for " + dir.string() + ": "
                      + st.ToString(),
                    hint);
}

class rocksdb_event_log final : public event_log {
public:
  rocksdb_event_log(std::filesystem::path dir, rocksdb_settings settings,
                    std::unique_ptr<rocksdb::DB> db,
                    std::vector<rocksdb::ColumnFamilyHandle*> handles)
    : dir_(std::move(dir)), settings_(settings), db_(std::move(db)),
      handles_(std::move(handles)) {
    events_ = handles_[1];
    state_ = handles_[2];
    std::unique_ptr<rocksdb::Iterator> it{
      db_->NewIterator(rocksdb::ReadOptions{}, events_)};
    it->SeekToLast();
    if (it->Valid()) {
      last_seq_ = seq_from_key(it->key());
      it->SeekToFirst();
      first_seq_ = seq_from_key(it->key());
    } else {
      // An empty events family may still follow trimmed history: the
      // position survives in the default family.
      std::string value;
      if (db_->Get(rocksdb::ReadOptions{}, "next_seq", &value).ok()
          && value.size() == 8)
        last_seq_ = seq_from_key(value) - 1;
      first_seq_ = last_seq_ + 1;
    }
  }

  ~rocksdb_event_log() override {
    for (auto* h : handles_)
      db_->DestroyColumnFamilyHandle(h);
    db_->Close();
  }

  result<std::vector<event>> append(std::vector<event_draft> drafts) override {
    for (const auto& d : drafts)
      if (auto ok = validate_entity(d.entity); !ok)
        return ok.error();
    auto events = number_drafts(drafts, last_seq_ + 1, now_unix_ms());
    rocksdb::WriteBatch batch;
    for (size_t i = 0; i < events.size(); ++i) {
      auto key = seq_key(events[i].seq);
      auto value = encode_event(events[i]);
      batch.Put(events_, rocksdb::Slice{key.data(), key.size()}, value);
      const auto& d = drafts[i];
      if (d.snapshot == snapshot_op::put)
        batch.Put(state_, d.entity, d.snapshot_value);
      else if (d.snapshot == snapshot_op::erase)
        batch.Delete(state_, d.entity);
    }
    rocksdb::WriteOptions wo;
    wo.sync = settings_.sync;
    if (auto st = db_->Write(wo, &batch); !st.ok())
      return storage_error(dir_, "append", st);
    if (!events.empty()) {
      last_seq_ = events.back().seq;
      if (first_seq_ > last_seq_)
        first_seq_ = events.front().seq;
    }
    return events;
  }

  result<std::vector<event>> read(uint64_t from_seq,
                                  size_t max_count) const override {
    std::vector<event> out;
    std::unique_ptr<rocksdb::Iterator> it{
      db_->NewIterator(rocksdb::ReadOptions{}, events_)};
    auto key = seq_key(from_seq);
    for (it->Seek(rocksdb::Slice{key.data(), key.size()});
         it->Valid() && out.size() < max_count; it->Next()) {
      auto ev = decode_event(
        std::string_view{it->value().data(), it->value().size()});
      if (!ev)
        return make_error(errc::storage_error,
                          "event " + std::to_string(seq_from_key(it->key()))
                            + " in " + dir_.string() + " cannot be decoded: "
                            + describe(ev.error()).message);
      out.push_back(std::move(*ev));
    }
    if (!it->status().ok())
      return storage_error(dir_, "read", it->status());
    return out;
  }

  uint64_t last_seq() const override { return last_seq_; }

  uint64_t first_seq() const override { return first_seq_; }

  result<std::optional<std::string>>
  load_snapshot(std::string_view entity) const override {
    std::string value;
    auto st = db_->Get(rocksdb::ReadOptions{}, state_,
                       rocksdb::Slice{entity.data(), entity.size()}, &value);
    if (st.IsNotFound())
      return std::optional<std::string>{};
    if (!st.ok())
      return storage_error(dir_, "snapshot read", st);
    return std::optional<std::string>{std::move(value)};
  }

  result<std::vector<std::pair<std::string, std::string>>>
  load_snapshots(std::string_view prefix) const override {
    std::vector<std::pair<std::string, std::string>> out;
    auto ok
      = scan_snapshots(prefix, "snapshot scan", [&](rocksdb::Iterator& it) {
          out.emplace_back(it.key().ToString(), it.value().ToString());
        });
    if (!ok)
      return ok.error();
    return out;
  }

  result<uint64_t> count_snapshots(std::string_view prefix) const override {
    uint64_t n = 0;
    auto ok = scan_snapshots(prefix, "snapshot count",
                             [&](rocksdb::Iterator&) { ++n; });
    if (!ok)
      return ok.error();
    return n;
  }

  result<uint64_t> trim_before(uint64_t seq) override {
    uint64_t limit = std::min(seq, last_seq_ + 1);
    if (limit <= first_seq_)
      return uint64_t{0};
    auto from = seq_key(first_seq_);
    auto to = seq_key(limit);
    rocksdb::WriteBatch batch;
    batch.DeleteRange(events_, rocksdb::Slice{from.data(), from.size()},
                      rocksdb::Slice{to.data(), to.size()});
    // Remember the position in case every event is trimmed.
    auto next = seq_key(last_seq_ + 1);
    batch.Put("next_seq", rocksdb::Slice{next.data(), next.size()});
    rocksdb::WriteOptions wo;
    wo.sync = settings_.sync;
    if (auto st = db_->Write(wo, &batch); !st.ok())
      return storage_error(dir_, "trim", st);
    uint64_t removed = limit - first_seq_;
    first_seq_ = limit;
    return removed;
  }

private:
  // Calls `each` with the iterator at every snapshot whose entity starts
  // with `prefix`, in entity order.
  template <class F>
  result<void> scan_snapshots(std::string_view prefix, const char* what,
                              F each) const {
    const rocksdb::Slice p{prefix.data(), prefix.size()};
    std::unique_ptr<rocksdb::Iterator> it{
      db_->NewIterator(rocksdb::ReadOptions{}, state_)};
    for (it->Seek(p); it->Valid() && it->key().starts_with(p); it->Next())
      each(*it);
    if (!it->status().ok())
      return storage_error(dir_, what, it->status());
    return {};
  }

  std::filesystem::path dir_;
  rocksdb_settings settings_;
  std::unique_ptr<rocksdb::DB> db_;
  std::vector<rocksdb::ColumnFamilyHandle*> handles_;
  rocksdb::ColumnFamilyHandle* events_ = nullptr;
  rocksdb::ColumnFamilyHandle* state_ = nullptr;
  uint64_t last_seq_ = 0;
  uint64_t first_seq_ = 1;
};

} // namespace

result<std::unique_ptr<event_log>>
open_rocksdb_event_log(const std::filesystem::path& dir,
                       const rocksdb_settings& settings) {
  std::error_code ec;
  std::filesystem::create_directories(dir, ec);
  if (ec)
    return make_error(errc::storage_error,
                      "cannot create " + dir.string() + ": " + ec.message(),
                      "check the permissions of SKYD_HOME");
  rocksdb::Options options;
  options.create_if_missing = true;
  options.create_missing_column_families = true;
  options.write_buffer_size = settings.write_buffer_bytes;
  options.max_write_buffer_number = 2;
  options.keep_log_file_num = 3;
  options.max_log_file_size = size_t{1} << 20;
  options.info_log_level = rocksdb::WARN_LEVEL;
  options.stats_dump_period_sec = 0;
  options.max_background_jobs = 2;
  options.max_open_files = 256;
  rocksdb::ColumnFamilyOptions cf_options{options};
  rocksdb::BlockBasedTableOptions table;
  table.block_cache = nullptr; // default cache (8 MiB), shared per family
  std::vector<rocksdb::ColumnFamilyDescriptor> families{
    {rocksdb::kDefaultColumnFamilyName, cf_options},
    {events_cf, cf_options},
    {state_cf, cf_options},
  };
  std::vector<rocksdb::ColumnFamilyHandle*> handles;
  rocksdb::DB* raw = nullptr;
  auto st = rocksdb::DB::Open(rocksdb::DBOptions{options}, dir.string(),
                              families, &handles, &raw);
  if (!st.ok())
    return storage_error(dir, "opening the event log", st);
  return std::unique_ptr<event_log>{new rocksdb_event_log(
    dir, settings, std::unique_ptr<rocksdb::DB>{raw}, std::move(handles))};
}

} // namespace sky::storage
