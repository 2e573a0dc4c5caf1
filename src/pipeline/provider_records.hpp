// pipeline/provider_records: which provider holds an object a key created through anygpt (a video
// generation job; a Response an "openai-responses" provider stores), so that reads of it
// (GET /v1/videos/{id}, GET /v1/responses/{id}) go to that provider, for that key only (anyone
// else gets a 404). OwnedStores: in memory per instance and, in Redis mode, in Redis
// (anygpt:video:<id>, anygpt:response:<id>), so any instance answers.
#pragma once

#include "pipeline/owned_store.hpp"

namespace anygpt::pipeline {

enum class Held {
  kVideoJob,  // kept VIDEO_REQUEST_CACHE_TTL_MS, at most 100 000 per instance
  kResponse,  // kept RESPONSES_OWNER_TTL_MS (30 days, as OpenAI keeps them), at most 200 000
};

OwnedStore::Options provider_records_options(Held kind);

// Remembers that `provider_id` holds `id`, created for `key` (here and, in Redis mode, for all).
void record_holder(Gateway& gw, Held kind, std::string id, std::string provider_id, const auth::Digest& key);

// The provider holding `id` for `key` (here, else from Redis); nullopt when unknown.
boost::asio::awaitable<std::optional<std::string>> find_holder(Gateway& gw, Held kind, std::string id,
                                                               auth::Digest key);

}  // namespace anygpt::pipeline
