#pragma once

// How far a provider failure reaches: what failover blocks before it tries
// the next candidate. Providers put it on their errors (provider_error), the
// optimizer's failover policy reads it; it lives here, beside errc, because
// both of them (and nothing above them) need it.

#include <cstdint>
#include <string_view>

namespace sky {

enum class failure_scope : uint8_t { zone, region, cloud };

std::string_view to_string(failure_scope s) noexcept;

} // namespace sky
