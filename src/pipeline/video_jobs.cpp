#include "pipeline/video_jobs.hpp"

#include <cstdint>

#include "pipeline/gateway.hpp"
#include "store/redis/layout.hpp"

namespace anygpt::pipeline {

OwnedStore::Options video_jobs_options() {
  return OwnedStore::Options{&store::redis::video_key, store::redis::kVideoProviderField, 100000, SIZE_MAX};
}

void record_video_job(Gateway& gw, std::string id, std::string provider_id, const auth::Digest& key) {
  share(gw, gw.videos, std::move(id), key, std::move(provider_id),
        std::chrono::milliseconds(gw.config.video_request_cache_ttl_ms));
}

boost::asio::awaitable<std::optional<std::string>> find_video_job(Gateway& gw, std::string id, auth::Digest key) {
  return lookup(gw, gw.videos, std::move(id), key);
}

}  // namespace anygpt::pipeline
