// pipeline/owned_store: short-lived values bound to the key that created them, by id (the
// provider that created a video job; a finished interaction). Kept in memory for a TTL, at most
// `max_entries` entries and `max_bytes` of values (the oldest go first); thread-safe. In Redis
// mode share() also writes them to Redis (a hash with the owner's key digest and the value, same
// TTL; docs/STORAGE.md) and lookup() reads them back on a local miss, so any instance answers.
#pragma once

#include <boost/asio/awaitable.hpp>
#include <chrono>
#include <cstddef>
#include <deque>
#include <map>
#include <mutex>
#include <optional>
#include <string>
#include <string_view>

#include "auth/key_registry.hpp"

namespace anygpt::pipeline {

class OwnedStore {
 public:
  using Clock = std::chrono::steady_clock;
  struct Options {
    std::string (*redis_key)(std::string_view id);  // the Redis hash of an id (store/redis/layout)
    std::string_view redis_field;                   // the hash field holding the value
    std::size_t max_entries;
    std::size_t max_bytes;
  };
  explicit OwnedStore(Options options) : options_(options) {}

  const Options& options() const { return options_; }
  // In this instance's memory only.
  void keep(std::string id, const auth::Digest& key, std::string value, Clock::time_point expires);
  // The value of `id` when this key stored it and it has not expired.
  std::optional<std::string> find(std::string_view id, const auth::Digest& key, Clock::time_point now);

 private:
  struct Entry {
    auth::Digest key;
    std::string value;
    Clock::time_point expires;
  };
  void drop_oldest();  // REQUIRES: mu_ held, order_ not empty

  const Options options_;
  std::mutex mu_;
  std::map<std::string, Entry, std::less<>> entries_;
  std::deque<std::string> order_;  // ids oldest first (one TTL per store: the first to expire first)
  std::size_t bytes_ = 0;          // of the values kept
};

struct Gateway;

// Keeps `value` for `key` here and, in Redis mode, for every instance (queued for the
// SharedState thread; never waits).
void share(Gateway& gw, OwnedStore& store, std::string id, const auth::Digest& key, std::string value,
           std::chrono::milliseconds ttl);

// The value of `id` for `key`: kept here, else (Redis mode) read from Redis without blocking the
// caller's loop, and then kept here too. nullopt for an unknown or expired id, another key's, or
// when Redis cannot be asked (the local answer stands).
boost::asio::awaitable<std::optional<std::string>> lookup(Gateway& gw, OwnedStore& store, std::string id,
                                                          auth::Digest key);

}  // namespace anygpt::pipeline
