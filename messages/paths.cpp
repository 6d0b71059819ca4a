#include "messages/paths.hpp"

#include <cstdlib>
#include <pwd.h>
#include <unistd.h>

namespace sky {

home_layout home_layout::resolve(const std::string& override) {
  if (!override.empty())
    return {std::filesystem::absolute(override)};
  if (const char* env = std::getenv("SKYD_HOME"); env != nullptr && *env)
    return {std::filesystem::absolute(env)};
  const char* home = std::getenv("HOME");
  if (home == nullptr || *home == '\0') {
    if (auto* pw = getpwuid(getuid()); pw != nullptr)
      home = pw->pw_dir;
  }
  return {std::filesystem::path{home != nullptr ? home : "/tmp"} / ".skyd"};
}

} // namespace sky
