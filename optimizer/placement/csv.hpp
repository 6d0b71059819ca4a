#pragma once

// A small RFC 4180 CSV reader for SkyPilot catalogs: quoted fields may hold
// commas, newlines and doubled quotes (the GpuInfo column holds Python dict
// literals such as "{'Gpus': [{'Name': 'A100', ...}]}").

#include <cstddef>
#include <string>
#include <string_view>
#include <vector>

namespace sky::optimizer {

/// One record of a CSV text.
struct csv_record {
  /// Fields; views into the reader's buffer, valid until the reader is
  /// destroyed.
  std::vector<std::string_view> fields;
  /// 1-based line on which the record starts.
  size_t line = 0;
  /// Non-empty when the record is malformed (e.g. an unterminated quote);
  /// `fields` then holds what could be read.
  std::string error;
};

class csv_reader {
public:
  /// Takes the whole text; quoted fields are unescaped in place.
  explicit csv_reader(std::string text);

  /// Reads the next record into `out`; false at the end of the text. Blank
  /// lines are skipped.
  bool next(csv_record& out);

private:
  std::string text_;
  size_t pos_ = 0;
  size_t line_ = 1;
};

/// Splits one line (no record separator inside) into fields, for tests and
/// small inputs. Returns false on an unterminated quote.
bool split_csv_line(std::string_view line, std::vector<std::string>& out);

} // namespace sky::optimizer
