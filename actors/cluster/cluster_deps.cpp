#include "actors/cluster/cluster_deps.hpp"

namespace sky::actors {

int64_t system_now_ms() {
  using namespace std::chrono;
  return duration_cast<milliseconds>(system_clock::now().time_since_epoch())
    .count();
}

} // namespace sky::actors
