// store/redis/layout: anygpt's data layout in Redis (docs/STORAGE.md), its Lua scripts and the
// codecs of its values and pub/sub events. Pure: no I/O.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "config/data_files.hpp"

namespace anygpt::store::redis {

inline constexpr std::string_view kMetaKey = "anygpt:meta";            // hash: schema, imported_from
inline constexpr std::string_view kKeysKey = "anygpt:keys";            // hash: <sha256 hex> -> key record JSON
inline constexpr std::string_view kUsageKey = "anygpt:usage";          // hash: <sha256 hex>:t / :r -> counters
inline constexpr std::string_view kProvidersKey = "anygpt:providers";  // string: providers.json document
inline constexpr std::string_view kModelsKey = "anygpt:models";        // string: models.json document
inline constexpr std::string_view kEventsChannel = "anygpt:events";    // pub/sub: key and health events
inline constexpr std::string_view kLegacyKey = "api:data";             // the original's hash (fields p, k, m)
inline constexpr std::string_view kSchemaVersion = "1";

// "anygpt:rl:<digest>": a key's shared GCRA state (hash s/m/d: theoretical arrival times, ms).
std::string rate_key(std::string_view digest_hex);
// "anygpt:batch:<instance>:<seq>": marks a usage batch as applied (idempotent replays).
std::string batch_key(std::string_view instance, std::uint64_t seq);
// "anygpt:video:<id>": hash {provider, key} of a video generation job (key: sha256 hex of the
// creator's key), expiring after VIDEO_REQUEST_CACHE_TTL_MS.
std::string video_key(std::string_view job_id);
// "anygpt:interaction:<id>": hash {key, body} of a finished interaction (its Interaction object),
// expiring after INTERACTIONS_TTL_MS.
std::string interaction_key(std::string_view id);
inline constexpr std::string_view kRecordKeyField = "key";  // both: sha256 hex of the creating key
// "anygpt:response:<id>": hash {provider, key} of a Response an openai-responses provider stores,
// expiring after RESPONSES_OWNER_TTL_MS.
std::string response_key(std::string_view id);
inline constexpr std::string_view kProviderField = "provider";  // video jobs and responses
inline constexpr std::string_view kInteractionBodyField = "body";

// Lua: leases up to ARGV[1] requests from the GCRA windows ARGV[2..4] (rps, rpm, rpd; 0 =
// unlimited) of KEYS[1], on Redis' own clock. Returns {granted, retry_after_ms, left, limit,
// reset_ms} where left/limit/reset describe the tightest window after the grant.
extern const char* const kLeaseScript;
// Lua: KEYS[1] = batch marker, KEYS[2] = usage hash; ARGV = digest, tokens, requests, ...
// Applies the increments once per marker (a replayed batch changes nothing) and returns the
// totals {tokens, requests, ...} of the batch's keys.
extern const char* const kUsageScript;

// A key record as stored in anygpt:keys (keys.json's fields plus "apiKey"; no counters).
std::string encode_key_record(const config::KeyRecord& record);
core::Result<config::KeyRecord> decode_key_record(std::string_view json);

// Pub/sub events. Each starts with the sender's instance id so it can skip its own.
struct Event {
  enum class Kind { kKeyAdded, kKeyRemoved, kCircuitOpen };
  Kind kind = Kind::kKeyAdded;
  std::string origin;       // instance id of the sender
  std::string digest;       // keys: sha256 hex of the key
  std::string provider;     // circuit: provider id
  std::string model;        // circuit: model id, empty = the whole provider
  std::int64_t for_ms = 0;  // circuit: how long it stays open
};
std::string encode_event(const Event& e);
std::optional<Event> decode_event(std::string_view text);

}  // namespace anygpt::store::redis
