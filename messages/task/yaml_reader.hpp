#pragma once

// Internal to the task parser: typed, located access to yaml-cpp nodes.
// Every error built here starts with `file:line:col: field.path:` so that a
// user can jump to the spot, and carries a hint that says how to fix it.

#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include <yaml-cpp/yaml.h>

#include "messages/result.hpp"

namespace sky::task::detail {

/// State of one parse: the file name for messages, and a budget of node
/// visits. YAML aliases let a small file reference one big map many times;
/// charging every visited node keeps the work linear in the input size.
struct parse_context {
  std::string file;
  long long budget = 0;

  /// Charges `n` visits; an error once the budget is spent.
  caf::error spend(const YAML::Mark& where, long long n = 1);
};

/// A node together with the path that names it in messages (e.g.
/// "resources.any_of[1].cpus") and the mark to point at.
struct located {
  YAML::Node node;
  std::string path;
  YAML::Mark mark;

  bool is_null() const { return !node.IsDefined() || node.IsNull(); }
};

/// "file:line:col: path: what" with a hint, as `errc::invalid_argument`.
caf::error fail(const parse_context& ctx, const YAML::Mark& mark,
                std::string_view path, std::string_view what, std::string hint);
caf::error fail(const parse_context& ctx, const located& at,
                std::string_view what, std::string hint);

/// Reads a file that must hold one YAML document (a scenario, a pool
/// file): the precheck, yaml-cpp's errors as located messages, more than
/// one document refused with `one_document_hint`. An empty text gives a
/// null node.
result<YAML::Node> load_single_document(const parse_context& ctx,
                                        const std::string& text,
                                        std::string one_document_hint);

/// Re-locates an error from value_grammar.hpp (message = what is wrong with
/// the value) at `at`.
caf::error relocate(const parse_context& ctx, const located& at,
                    const caf::error& err);

/// Applies `at`'s location to a grammar result.
template <class T>
result<T> located_value(const parse_context& ctx, const located& at,
                        result<T> r) {
  if (!r)
    return relocate(ctx, at, r.error());
  return r;
}

/// "a map", "a list", "null" or "the text 'x'" for "expected ..., got ...".
std::string describe_node(const YAML::Node& node);

std::string child_path(std::string_view parent, std::string_view key);
std::string index_path(std::string_view parent, size_t index);

/// The text of a scalar (numbers and booleans as written); errors for maps,
/// lists and null.
result<std::string> read_string(const parse_context& ctx, const located& at);
/// true/false (also yes/no/on/off, as PyYAML reads YAML 1.1).
result<bool> read_bool(const parse_context& ctx, const located& at);
/// A whole number in [lo, hi].
result<long long> read_int(const parse_context& ctx, const located& at,
                           long long lo, long long hi);
/// A finite number (`min_exclusive`: must be > 0; else >= 0 when
/// `non_negative`).
result<double> read_number(const parse_context& ctx, const located& at,
                           bool min_exclusive, bool non_negative);

/// One of `choices` (compared case-insensitively, returned as spelled in
/// `choices`), with "did you mean" for near misses.
result<std::string> read_choice(const parse_context& ctx, const located& at,
                                const std::vector<std::string>& choices);

/// The elements of a list; an error for anything else.
result<std::vector<located>> read_list(parse_context& ctx, const located& at);

/// Fields that SkyPilot has but skyd does not take (yet), or common
/// mistakes; each gets a specific message instead of "unknown field".
struct unsupported_field {
  std::string_view key;
  std::string_view hint;
  /// The message; empty = "is a SkyPilot field that skyd does not support
  /// yet".
  std::string_view what = {};
};

/// The entries of a YAML map, in order, with duplicate keys rejected and
/// merge keys (`<<: *defaults`) resolved as PyYAML does: explicit keys win
/// over merged ones.
class map_view {
public:
  struct entry {
    std::string key;
    YAML::Node key_node;
    YAML::Node value;
  };

  /// Errors when `at` is not a map, has non-text keys or duplicates.
  static result<map_view> open(parse_context& ctx, const located& at);

  const std::vector<entry>& entries() const { return entries_; }
  const located& where() const { return at_; }

  /// The value of `key` as a located node; nullopt when absent or null
  /// (SkyPilot treats `key:` with nothing as not given).
  std::optional<located> get(std::string_view key) const;
  /// Like `get`, but also returns null values.
  std::optional<located> get_raw(std::string_view key) const;
  /// Whether the key is present (null or not).
  bool has(std::string_view key) const;

  /// Rejects keys that are neither in `known` nor in `unsupported`; keys in
  /// `unsupported` are rejected with their own hint; others are "unknown"
  /// with a "did you mean" from `known`.
  caf::error check_keys(const parse_context& ctx,
                        const std::vector<std::string_view>& known,
                        const std::vector<unsupported_field>& unsupported
                        = {}) const;

  /// Location of a value (or of its key when the value is null).
  located locate(const entry& e) const;

private:
  located at_;
  std::vector<entry> entries_;
};

} // namespace sky::task::detail
