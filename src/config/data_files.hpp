// Schemas of AnyGPT's data files (providers.json, keys.json, tiers.json, models.json,
// excluded-errors.json) and pure JSON <-> struct codecs for them. No file I/O here.
#pragma once

#include <boost/json/value.hpp>
#include <cstdint>
#include <map>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "core/error.hpp"

namespace anygpt::config {

// One entry of keys.json (the map key is the raw API key, as in the original).
struct KeyRecord {
  std::string api_key;
  std::string user_id;
  std::string role = "user";  // "admin" | "user"
  std::string tier = "free";
  std::int64_t token_usage = 0;
  std::int64_t request_count = 0;
  boost::json::object extra;  // unknown fields, written back untouched
};

struct Tier {
  std::int64_t rps = 0, rpm = 0, rpd = 0;
  std::optional<std::int64_t> max_tokens;  // lifetime token quota; nullopt = unlimited
  std::optional<double> min_provider_score, max_provider_score;
};

// The string that marks an entry anygpt's health checker disabled ("disabled_by"); such an entry
// is re-probed, while one disabled by a human (no marker) stays out of rotation.
inline constexpr std::string_view kAutoDisabledBy = "anygpt-health";

struct ProviderModel {
  std::string id;              // the model id clients ask for
  std::string upstream_model;  // the name sent upstream ("upstream_model"/"model_name"; default id)
  bool disabled = false;       // disabled by a human
  bool auto_disabled = false;  // disabled by anygpt's health checker (kAutoDisabledBy); re-probed
  std::map<std::string, std::string> capability_skips;  // capability name -> reason it is skipped here
  // Health seeds as stored by the last run (null/absent -> nullopt / 0).
  std::optional<double> avg_provider_latency, avg_token_speed, avg_response_time;
  std::int64_t errors = 0, consecutive_errors = 0;
};

// The wire protocol a provider speaks ("protocol" in providers.json). kOpenAIResponses
// ("openai-responses"): an OpenAI host whose Responses API (/responses) /v1/responses clients
// are forwarded to untouched.
enum class ProviderProtocol { kOpenAI, kAnthropic, kGemini, kOllama, kOpenAIResponses };
const char* protocol_name(ProviderProtocol p);

struct Provider {
  std::string id;
  // "protocol"; when absent: gemini if the id contains "gemini" or is "google" (the original's
  // rule), else openai.
  ProviderProtocol protocol = ProviderProtocol::kOpenAI;
  std::string api_key;  // upstream credential: never logged, never in an error body
  // openai: a full chat endpoint or a base URL; other protocols: the API base (absent: the
  // vendor's public base).
  std::string provider_url;
  std::map<std::string, std::string> provider_urls;  // per-model endpoint overrides
  bool streaming_compatible = false;
  bool disabled = false;       // disabled by a human
  bool auto_disabled = false;  // disabled by anygpt's health checker (kAutoDisabledBy); re-probed
  std::int64_t errors = 0;     // cumulative, as stored
  std::vector<ProviderModel> models;
};

struct ModelDef {
  std::string id;
  std::string owned_by;
  std::int64_t created = 0;               // as stored (the original stores ms; see models_to_openai)
  std::vector<std::string> capabilities;  // "capabilities" (text, image_input, ...); non-strings ignored
  std::vector<std::string> fallbacks;     // "fallbacks": model ids tried, in order, when this one fails
  std::int64_t context_window = 0;        // "context_length" (or "context_window") in tokens; 0 = unknown
  boost::json::object raw;
};

// A parse failure names the file and the position (1-based line and column).
core::Result<boost::json::value> parse_json_document(std::string_view file_name, std::string_view text);

core::Result<std::vector<KeyRecord>> keys_from_json(const boost::json::value& doc);
boost::json::value keys_to_json(const std::vector<KeyRecord>& keys);

core::Result<std::map<std::string, Tier>> tiers_from_json(const boost::json::value& doc);
core::Result<std::vector<Provider>> providers_from_json(const boost::json::value& doc);
core::Result<std::vector<ModelDef>> models_from_json(const boost::json::value& doc);
core::Result<std::vector<std::string>> excluded_patterns_from_json(const boost::json::value& doc);

// Defaults written when a file is missing.
std::string_view default_tiers_json();
std::string_view default_models_json();
std::string_view default_keys_json();
std::string_view default_providers_json();
std::string_view default_excluded_errors_json();

}  // namespace anygpt::config
