#include "actors/stream/credit_stream.hpp"

#include <algorithm>

namespace sky::actors {

credit_stream::credit_stream(reply_target target, uint32_t window)
  : target(std::move(target)), credits(window) {}

bool credit_stream::grant(uint32_t n) {
  bool was_blocked = credits == 0;
  credits = std::min<uint32_t>(credits + n, max_credits);
  return was_blocked;
}

} // namespace sky::actors
