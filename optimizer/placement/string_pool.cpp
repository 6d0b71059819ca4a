#include "optimizer/placement/string_pool.hpp"

namespace sky::optimizer {

string_pool::string_pool() {
  intern("");
}

name_id string_pool::intern(std::string_view s) {
  if (auto it = index_.find(s); it != index_.end())
    return it->second;
  auto id = static_cast<name_id>(strings_.size());
  strings_.emplace_back(s);
  index_.emplace(std::string_view{strings_.back()}, id);
  return id;
}

std::optional<name_id> string_pool::find(std::string_view s) const {
  if (auto it = index_.find(s); it != index_.end())
    return it->second;
  return std::nullopt;
}

} // namespace sky::optimizer
