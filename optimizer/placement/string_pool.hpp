#pragma once

// Interned strings: catalogs repeat the same few thousand region, zone,
// instance-type and accelerator names across ~100k rows, so each row stores
// 32-bit ids instead of strings (memory, and id comparisons in the hot loop).

#include <cstdint>
#include <deque>
#include <optional>
#include <string>
#include <string_view>
#include <unordered_map>

namespace sky::optimizer {

/// Id of an interned string; 0 is always the empty string.
using name_id = uint32_t;

class string_pool {
public:
  string_pool();
  string_pool(string_pool&&) = default;
  string_pool& operator=(string_pool&&) = default;
  // The index holds views into `strings_`; a copy would dangle.
  string_pool(const string_pool&) = delete;
  string_pool& operator=(const string_pool&) = delete;

  /// Id of `s`, adding it when new.
  name_id intern(std::string_view s);

  /// Id of `s` when it was interned before.
  std::optional<name_id> find(std::string_view s) const;

  std::string_view view(name_id id) const { return strings_[id]; }

  size_t size() const { return strings_.size(); }

private:
  // A deque never relocates its elements, so the views in `index_` stay
  // valid as it grows (a vector would move short strings' inline buffers).
  std::deque<std::string> strings_;
  std::unordered_map<std::string_view, name_id> index_;
};

} // namespace sky::optimizer
