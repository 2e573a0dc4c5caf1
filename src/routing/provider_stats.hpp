// routing/provider_stats: writes a health snapshot (routing/stats.hpp) back into a parsed
// providers.json document in the original's fields (reference §4.1). Pure: no I/O, no clock.
#pragma once

#include <boost/json/value.hpp>
#include <vector>

#include "routing/stats.hpp"

namespace anygpt::routing {

// Updates `providers_doc` (the providers.json array) in place; returns true when anything changed.
// For each provider object whose "id" has a ProviderStats: avg_response_time and
// avg_provider_latency (2 decimals or null), errors, provider_score (integer or null); for each of
// its "models" entries that has a ModelStats: response_times (rebuilt from the samples, never an
// apiKey), errors, consecutive_errors, avg_response_time, avg_provider_latency, avg_token_speed
// (2 decimals or null) and token_generation_speed = avg_token_speed when known.
// disabled: an open circuit sets "disabled": true with "disabled_by": config::kAutoDisabledBy,
// except on an entry a human disabled (disabled without the marker), which is never touched; a
// closed circuit re-enables only entries carrying the marker. Every other field (apiKey,
// provider_url, capability_skips, unknown ones) and the order of existing keys are kept; entries
// without stats, non-object entries and a document that is not an array are left as they are.
bool apply_stats(boost::json::value& providers_doc, const std::vector<ProviderStats>& stats);

}  // namespace anygpt::routing
