#include "pipeline/provider_records.hpp"

#include <cstdint>

#include "pipeline/gateway.hpp"
#include "store/redis/layout.hpp"

namespace anygpt::pipeline {
namespace {
OwnedStore& store_of(Gateway& gw, Held kind) {
  return kind == Held::kVideoJob ? gw.videos : gw.stored_responses;
}

std::chrono::milliseconds ttl_of(const Gateway& gw, Held kind) {
  return std::chrono::milliseconds(kind == Held::kVideoJob ? gw.config.video_request_cache_ttl_ms
                                                           : gw.config.responses_owner_ttl_ms);
}
}  // namespace

OwnedStore::Options provider_records_options(Held kind) {
  if (kind == Held::kVideoJob)
    return OwnedStore::Options{&store::redis::video_key, store::redis::kProviderField, 100000, SIZE_MAX};
  return OwnedStore::Options{&store::redis::response_key, store::redis::kProviderField, 200000, SIZE_MAX};
}

void record_holder(Gateway& gw, Held kind, std::string id, std::string provider_id, const auth::Digest& key) {
  share(gw, store_of(gw, kind), std::move(id), key, std::move(provider_id), ttl_of(gw, kind));
}

boost::asio::awaitable<std::optional<std::string>> find_holder(Gateway& gw, Held kind, std::string id,
                                                               auth::Digest key) {
  return lookup(gw, store_of(gw, kind), std::move(id), key);
}

}  // namespace anygpt::pipeline
