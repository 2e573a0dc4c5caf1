#include "pipeline/interactions.hpp"

#include "pipeline/gateway.hpp"
#include "store/redis/layout.hpp"

namespace anygpt::pipeline {

OwnedStore::Options interactions_options() {
  return OwnedStore::Options{&store::redis::interaction_key, store::redis::kInteractionBodyField, 10000,
                             std::size_t{64} << 20};
}

void keep_interaction(Gateway& gw, std::string id, const auth::Digest& key, std::string body) {
  share(gw, gw.interactions, std::move(id), key, std::move(body),
        std::chrono::milliseconds(gw.config.interactions_ttl_ms));
}

boost::asio::awaitable<std::optional<std::string>> find_interaction(Gateway& gw, std::string id, auth::Digest key) {
  return lookup(gw, gw.interactions, std::move(id), key);
}

}  // namespace anygpt::pipeline
