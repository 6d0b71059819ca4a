#pragma once

// What skyctl prints: tables for people, JSON for scripts, errors with
// hints, and the exit codes scripts can rely on (docs/CLI.md).

#include <iosfwd>
#include <string>
#include <vector>

#include <msgpack.hpp>
#include <nlohmann/json.hpp>

#include "messages/result.hpp"

namespace sky::cli {

/// Exit codes of skyctl.
enum exit_code : int {
  exit_ok = 0,
  /// skyd answered with an error (not found, conflict, ...).
  exit_failed = 1,
  /// Bad command line or input file.
  exit_usage = 2,
  /// skyd is not running, cannot start, or stopped answering.
  exit_unavailable = 3,
  /// A deadline passed.
  exit_timeout = 4,
  /// Interrupted by Ctrl-C.
  exit_interrupted = 130,
};

/// The exit code for an error of skyd's (or the client's) making.
int exit_code_for(const caf::error& err);

/// Prints "skyctl: <message>" and the hint on stderr; returns the exit code.
int report(const caf::error& err);

/// The same on `out`.
int report(const caf::error& err, std::ostream& out);

/// Reports a problem with skyctl's own input (arguments, task YAML, local
/// files) and returns exit_usage whatever the error's code: a missing YAML
/// is as much bad usage as a malformed one.
int report_usage(const caf::error& err);

/// Converts a decoded msgpack value to JSON (maps keep their order).
nlohmann::ordered_json to_json(const msgpack::object& obj);

/// Decodes a msgpack body and converts it to JSON.
result<nlohmann::ordered_json> body_to_json(std::string_view body);

/// A table with a header row; columns sized to their widest cell.
class table {
public:
  explicit table(std::vector<std::string> header);
  void add(std::vector<std::string> row);
  void print(std::ostream& out) const;
  bool empty() const { return rows_.empty(); }

private:
  std::vector<std::string> header_;
  std::vector<std::vector<std::string>> rows_;
};

/// "2026-11-28 12:31:05" in local time for a Unix time in milliseconds.
std::string format_time_ms(int64_t unix_ms);

/// "3h 5m", "42s": a short human duration.
std::string format_duration_ms(int64_t ms);

} // namespace sky::cli
