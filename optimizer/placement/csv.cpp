#include "optimizer/placement/csv.hpp"

namespace sky::optimizer {

csv_reader::csv_reader(std::string text) : text_(std::move(text)) {
  // A UTF-8 byte order mark would otherwise become part of the first header.
  if (text_.starts_with("\xEF\xBB\xBF"))
    pos_ = 3;
}

bool csv_reader::next(csv_record& out) {
  out.fields.clear();
  out.error.clear();
  const size_t n = text_.size();
  // Skip blank lines between records.
  while (pos_ < n && (text_[pos_] == '\n' || text_[pos_] == '\r')) {
    if (text_[pos_] == '\n')
      ++line_;
    ++pos_;
  }
  if (pos_ >= n)
    return false;
  out.line = line_;
  char* data = text_.data();
  for (;;) {
    if (pos_ < n && data[pos_] == '"') {
      // Quoted field: unescape "" in place, writing behind the read cursor.
      size_t read = pos_ + 1;
      size_t write = read;
      const size_t begin = read;
      bool closed = false;
      while (read < n) {
        char c = data[read];
        if (c == '"') {
          if (read + 1 < n && data[read + 1] == '"') {
            data[write++] = '"';
            read += 2;
            continue;
          }
          closed = true;
          ++read;
          break;
        }
        if (c == '\n')
          ++line_;
        data[write++] = c;
        ++read;
      }
      out.fields.emplace_back(data + begin, write - begin);
      pos_ = read;
      if (!closed) {
        out.error = "unterminated quoted field";
        return true;
      }
      // Anything between the closing quote and the separator is kept out of
      // the field; a well-formed file has nothing there.
      while (pos_ < n && data[pos_] != ',' && data[pos_] != '\n')
        ++pos_;
    } else {
      size_t begin = pos_;
      while (pos_ < n && data[pos_] != ',' && data[pos_] != '\n')
        ++pos_;
      size_t end = pos_;
      if (end > begin && data[end - 1] == '\r')
        --end;
      out.fields.emplace_back(data + begin, end - begin);
    }
    if (pos_ >= n)
      return true;
    if (data[pos_] == ',') {
      ++pos_;
      continue;
    }
    // data[pos_] == '\n': end of record.
    ++pos_;
    ++line_;
    return true;
  }
}

bool split_csv_line(std::string_view line, std::vector<std::string>& out) {
  out.clear();
  csv_reader reader{std::string{line}};
  csv_record rec;
  if (!reader.next(rec))
    return true;
  for (auto f : rec.fields)
    out.emplace_back(f);
  return rec.error.empty();
}

} // namespace sky::optimizer
