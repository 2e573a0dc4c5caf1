// pipeline/interactions: finished interactions (POST /v1/interactions, /v2/interactions) kept for
// their polls: id -> the Interaction body, bound to the key that ran it, INTERACTIONS_TTL_MS each,
// at most 10 000 and 64 MiB per instance (an OwnedStore); in Redis mode also in Redis
// (anygpt:interaction:<id>), so any instance answers a poll.
#pragma once

#include "pipeline/owned_store.hpp"

namespace anygpt::pipeline {

OwnedStore::Options interactions_options();

// Keeps a finished interaction for `key`'s polls (here and, in Redis mode, for all).
void keep_interaction(Gateway& gw, std::string id, const auth::Digest& key, std::string body);

// The kept Interaction body of `id` for `key` (here, else from Redis); nullopt when unknown.
boost::asio::awaitable<std::optional<std::string>> find_interaction(Gateway& gw, std::string id, auth::Digest key);

}  // namespace anygpt::pipeline
