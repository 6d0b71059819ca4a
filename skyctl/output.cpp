#include "skyctl/output.hpp"

#include <algorithm>
#include <ctime>
#include <iostream>

#include "messages/msgpack_util.hpp"

namespace sky::cli {

int exit_code_for(const caf::error& err) {
  switch (describe(err).code) {
    case errc::unavailable:
      return exit_unavailable;
    case errc::timeout:
      return exit_timeout;
    case errc::cancelled:
      return exit_interrupted;
    case errc::invalid_argument:
      return exit_usage;
    default:
      return exit_failed;
  }
}

int report(const caf::error& err) {
  return report(err, std::cerr);
}

int report(const caf::error& err, std::ostream& out) {
  auto info = describe(err);
  out << "skyctl: " << info.message << "\n";
  if (!info.hint.empty())
    out << "hint: " << info.hint << "\n";
  out.flush();
  return exit_code_for(err);
}

int report_usage(const caf::error& err) {
  report(err, std::cerr);
  return exit_usage;
}

nlohmann::ordered_json to_json(const msgpack::object& obj) {
  using json = nlohmann::ordered_json;
  switch (obj.type) {
    case msgpack::type::NIL:
      return nullptr;
    case msgpack::type::BOOLEAN:
      return obj.via.boolean;
    case msgpack::type::POSITIVE_INTEGER:
      return obj.via.u64;
    case msgpack::type::NEGATIVE_INTEGER:
      return obj.via.i64;
    case msgpack::type::FLOAT32:
    case msgpack::type::FLOAT64:
      return obj.via.f64;
    case msgpack::type::STR:
      return std::string{obj.via.str.ptr, obj.via.str.size};
    case msgpack::type::BIN:
      return std::string{obj.via.bin.ptr, obj.via.bin.size};
    case msgpack::type::ARRAY: {
      json arr = json::array();
      for (uint32_t i = 0; i < obj.via.array.size; ++i)
        arr.push_back(to_json(obj.via.array.ptr[i]));
      return arr;
    }
    case msgpack::type::MAP: {
      json map = json::object();
      for (uint32_t i = 0; i < obj.via.map.size; ++i) {
        const auto& kv = obj.via.map.ptr[i];
        std::string key
          = kv.key.type == msgpack::type::STR
              ? std::string{kv.key.via.str.ptr, kv.key.via.str.size}
              : to_json(kv.key).dump();
        map[key] = to_json(kv.val);
      }
      return map;
    }
    default:
      return nullptr;
  }
}

result<nlohmann::ordered_json> body_to_json(std::string_view body) {
  auto doc = decode_document(body, "reply body");
  if (!doc)
    return doc.error();
  return to_json(doc->get());
}

table::table(std::vector<std::string> header) : header_(std::move(header)) {}

void table::add(std::vector<std::string> row) {
  row.resize(header_.size());
  rows_.push_back(std::move(row));
}

void table::print(std::ostream& out) const {
  std::vector<size_t> width(header_.size());
  for (size_t c = 0; c < header_.size(); ++c) {
    width[c] = header_[c].size();
    for (const auto& row : rows_)
      width[c] = std::max(width[c], row[c].size());
  }
  auto line = [&](const std::vector<std::string>& cells) {
    std::string text;
    for (size_t c = 0; c < cells.size(); ++c) {
      text += cells[c];
      if (c + 1 < cells.size())
        text += std::string(width[c] - cells[c].size() + 2, ' ');
    }
    // An empty last cell would leave padding at the end of the line.
    while (!text.empty() && text.back() == ' ')
      text.pop_back();
    out << text << "\n";
  };
  line(header_);
  for (const auto& row : rows_)
    line(row);
}

std::string format_time_ms(int64_t unix_ms) {
  std::time_t secs = static_cast<std::time_t>(unix_ms / 1000);
  std::tm tm{};
  localtime_r(&secs, &tm);
  char buf[32];
  std::strftime(buf, sizeof(buf), "%Y-%m-%d %H:%M:%S", &tm);
  return buf;
}

std::string format_duration_ms(int64_t ms) {
  int64_t s = ms / 1000;
  if (s < 60)
    return std::to_string(s) + "s";
  if (s < 3600)
    return std::to_string(s / 60) + "m " + std::to_string(s % 60) + "s";
  if (s < 86400)
    return std::to_string(s / 3600) + "h " + std::to_string(s % 3600 / 60)
           + "m";
  return std::to_string(s / 86400) + "d " + std::to_string(s % 86400 / 3600)
         + "h";
}

} // namespace sky::cli
