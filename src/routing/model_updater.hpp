// routing/model_updater: keeps models.json in step with the providers that serve each model (the
// original's refreshProviderCountsInModelsFile, reference §9.1). Pure: no I/O; clock passed in.
#pragma once

#include <boost/json/value.hpp>
#include <cstdint>
#include <map>
#include <string>
#include <string_view>

namespace anygpt::routing {

// The company behind a model id, as the original guesses it (case-insensitive): first the prefix
// before the first '/' through a fixed table ("meta-llama/..." -> "meta"), then substrings of the
// id ("claude" -> "anthropic", ids starting "gpt", "o1" or "chatgpt" -> "openai", ...), else
// "unknown".
std::string guess_owned_by(std::string_view model_id);

// Updates `models_doc` ({"object":"list","data":[...]}) in place from `provider_counts` (model id
// -> number of active providers listing it; the caller decides what "active" means). Returns true
// when anything changed. An entry whose count is 0 or absent is removed, unless it has
// "fallbacks" (an alias that routes elsewhere), which is kept with "providers": 0. Kept entries get
// "providers" = count and, when "owned_by" is missing, not a string or "unknown", the guess.
// Ids with a count > 0 and no entry are appended in id order as {id, object:"model",
// created: now_ms, owned_by: guess, providers: n}. Other fields (capabilities, throughput,
// fallbacks, unknown ones) are untouched; entries without a string "id" are kept as they are; a
// document without a "data" array is left alone (returns false).
bool refresh_models_doc(boost::json::value& models_doc, const std::map<std::string, int>& provider_counts,
                        std::int64_t now_ms);

}  // namespace anygpt::routing
