#include "tests/support/test_support.hpp"

#include <cstdlib>
#include <fstream>
#include <stdexcept>
#include <stdlib.h>

namespace sky::testing {

temp_dir::temp_dir(const std::string& prefix) {
  std::string tmpl = "/tmp/" + prefix + "-XXXXXX";
  if (mkdtemp(tmpl.data()) == nullptr)
    throw std::runtime_error("mkdtemp failed for " + tmpl);
  path_ = tmpl;
}

temp_dir::~temp_dir() {
  std::error_code ec;
  std::filesystem::remove_all(path_, ec);
}

std::optional<std::filesystem::path> shared_catalogs_dir() {
  for (const char* candidate :
       {static_cast<const char*>(std::getenv("SKY_SHARED_CATALOGS")),
        static_cast<const char*>(SKY_SHARED_CATALOGS)}) {
    if (candidate != nullptr && *candidate != '\0'
        && std::filesystem::is_directory(candidate))
      return std::filesystem::path{candidate};
  }
  return std::nullopt;
}

size_t current_rss_bytes() {
  std::ifstream in{"/proc/self/status"};
  std::string key;
  while (in >> key) {
    if (key == "VmRSS:") {
      size_t kib = 0;
      in >> kib;
      return kib * 1024;
    }
    std::getline(in, key);
  }
  return 0;
}

} // namespace sky::testing
