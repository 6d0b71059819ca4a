#include "providers/common/process_records.hpp"

#include <nlohmann/json.hpp>

#include "providers/common/fs_util.hpp"
#include "providers/common/proc_stat.hpp"

namespace sky::providers::local_detail {

namespace {

std::string record_file_name(const process_handle& h) {
  return std::to_string(h.pid) + "-" + std::to_string(h.start_ticks) + ".json";
}

bool still_running(const process_handle& h) {
  auto st = read_proc_stat(h.pid);
  return st && st->start_ticks == h.start_ticks && !st->is_dead();
}

} // namespace

std::filesystem::path procs_dir(const std::filesystem::path& home) {
  return home / ".sky" / "procs";
}

result<void> save_process_record(const std::filesystem::path& home,
                                 const process_record& rec) {
  nlohmann::json j{
    {"pid", rec.handle.pid},
    {"start_ticks", rec.handle.start_ticks},
    {"log_file", rec.handle.log_file},
    {"exit_file", rec.handle.exit_file},
    {"name", rec.name},
    {"started_at_ms", rec.started_at_ms},
  };
  std::error_code ec;
  std::filesystem::create_directories(procs_dir(home), ec);
  return write_file_atomic(procs_dir(home) / record_file_name(rec.handle),
                           j.dump(2) + "\n");
}

std::vector<process_record>
load_process_records(const std::filesystem::path& home) {
  std::vector<process_record> out;
  std::error_code ec;
  for (const auto& entry :
       std::filesystem::directory_iterator(procs_dir(home), ec)) {
    if (entry.path().extension() != ".json")
      continue;
    auto text = read_file(entry.path());
    if (!text || !*text)
      continue;
    auto j = nlohmann::json::parse(**text, nullptr, false);
    if (j.is_discarded() || !j.is_object())
      continue;
    try {
      process_record rec;
      rec.handle.pid = j.at("pid").get<int64_t>();
      rec.handle.start_ticks = j.at("start_ticks").get<uint64_t>();
      rec.handle.log_file = j.value("log_file", "");
      rec.handle.exit_file = j.value("exit_file", "");
      rec.name = j.value("name", "");
      rec.started_at_ms = j.value("started_at_ms", int64_t{0});
      out.push_back(std::move(rec));
    } catch (const nlohmann::json::exception&) {
      continue;
    }
  }
  return out;
}

void remove_process_record(const std::filesystem::path& home,
                           const process_handle& h) {
  std::error_code ec;
  std::filesystem::remove(procs_dir(home) / record_file_name(h), ec);
}

void prune_process_records(const std::filesystem::path& home) {
  for (const auto& rec : load_process_records(home))
    if (!still_running(rec.handle))
      remove_process_record(home, rec.handle);
}

} // namespace sky::providers::local_detail
