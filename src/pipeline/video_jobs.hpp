// pipeline/video_jobs: which provider created each video generation job, so that its polls
// (GET /v1/videos/{id}) go to that provider, and whose key created it (another key's poll is a
// 404). Kept VIDEO_REQUEST_CACHE_TTL_MS, at most 100 000 jobs per instance (an OwnedStore); in
// Redis mode also in Redis (anygpt:video:<id>), so any instance answers a poll.
#pragma once

#include "pipeline/owned_store.hpp"

namespace anygpt::pipeline {

OwnedStore::Options video_jobs_options();

// Remembers that `provider_id` created job `id` for `key` (here and, in Redis mode, for all).
void record_video_job(Gateway& gw, std::string id, std::string provider_id, const auth::Digest& key);

// The provider that created job `id` for `key` (here, else from Redis); nullopt when unknown.
boost::asio::awaitable<std::optional<std::string>> find_video_job(Gateway& gw, std::string id, auth::Digest key);

}  // namespace anygpt::pipeline
