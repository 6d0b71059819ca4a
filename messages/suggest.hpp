#pragma once

// "Did you mean ...?" for misspelt keys, verbs, flags and names.

#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace sky {

/// Edit distance (insertions, deletions, substitutions, adjacent swaps).
size_t edit_distance(std::string_view a, std::string_view b);

/// The candidate closest to `word` when it is close enough to be a plausible
/// typo (distance at most a third of the word's length, and at least 1 for
/// short words); nullopt otherwise. Ties go to the earlier candidate.
std::optional<std::string>
closest_match(std::string_view word,
              const std::vector<std::string>& candidates);

/// " (did you mean 'x'?)" or "" when nothing is close: appended to messages.
std::string did_you_mean(std::string_view word,
                         const std::vector<std::string>& candidates);

} // namespace sky
