#pragma once

// Pure helpers of the failover walk (cluster_launch.cpp): what to block
// after a failed attempt, and the one line a user reads per attempt.

#include <string>

#include "optimizer/placement/infra.hpp"
#include "optimizer/placement/optimizer.hpp"
#include "messages/failure_scope.hpp"

namespace sky::optimizer {

/// What to block after an attempt of candidate `c` in `tried_zone` failed
/// with an error of `scope`: the zone tried (on-demand candidates carry
/// their region's zones and are tried one zone at a time), the region, or
/// the cloud. A fixed-capacity pool is all or nothing.
optimizer::block_entry failover_block(const optimizer::candidate& c,
                                      const std::string& tried_zone,
                                      failure_scope scope,
                                      const std::string& reason);

/// "gcp/us-central1/us-central1-a a2-highgpu-8g (simulated): no on-demand
/// capacity ... (zone blocked), trying the next candidate". A message that
/// starts with the place already named by `infra` (as the sim provider's
/// do) does not repeat it.
std::string failover_line(const std::string& infra,
                          const std::string& instance_type,
                          const std::string& message,
                          optimizer::block_scope blocked);

} // namespace sky::optimizer
