#pragma once

// Durations as people write them in scenario files and script directives:
// "500ms", "30s", "10m", "2h", "1d", "1h30m", "1.5h", or a plain number of
// seconds ("90").

#include <cstdint>
#include <string>
#include <string_view>

#include "messages/result.hpp"

namespace sky::providers::sim {

/// Milliseconds; errc::invalid_argument naming the text and the accepted
/// forms. Negative durations do not exist.
result<int64_t> parse_duration_ms(std::string_view text);

/// The shortest exact spelling in the units above: 600000 -> "10m",
/// 5400000 -> "1h30m", 1500 -> "1s500ms", 0 -> "0s".
std::string format_duration_ms(int64_t ms);

} // namespace sky::providers::sim
