#pragma once

// The providers skyd has, by name ("local", later "ssh", "slurm", the
// simulated clouds). Built once at start-up and then read-only, so actors
// share it freely.

#include <map>
#include <memory>
#include <string>

#include "providers/provider.hpp"

namespace sky::actors {

struct provider_set {
  std::map<std::string, std::shared_ptr<providers::provider>> by_name;

  std::shared_ptr<providers::provider> find(const std::string& name) const {
    auto i = by_name.find(name);
    return i == by_name.end() ? nullptr : i->second;
  }
};

using provider_set_ptr = std::shared_ptr<const provider_set>;

} // namespace sky::actors
