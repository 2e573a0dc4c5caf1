// auth: user API keys, their tiers and usage counters.
#pragma once

#include <array>
#include <atomic>
#include <cstdint>
#include <map>
#include <memory>
#include <mutex>
#include <optional>
#include <string>
#include <string_view>
#include <unordered_map>
#include <vector>

#include "config/data_files.hpp"
#include "limits/lease.hpp"
#include "limits/rate_limiter.hpp"

namespace anygpt::auth {

// Live usage of one key. Bumped with relaxed atomics from any thread; read by the flusher.
// With shared state (Redis), `token_usage`/`request_count` are the shared totals as last seen
// plus this instance's `unsynced_*` deltas, which the sync engine drains and pushes.
struct KeyCounters {
  std::atomic<std::int64_t> token_usage{0};
  std::atomic<std::int64_t> request_count{0};
  std::atomic<std::int64_t> unsynced_tokens{0};
  std::atomic<std::int64_t> unsynced_requests{0};
  limits::RateState rate;    // rps/rpm/rpd windows of this instance, shared by every route of the key
  limits::LeaseState lease;  // this instance's slice of the shared (Redis) budget
};

// One user key. Immutable once published; counters are shared and atomic.
struct KeyEntry {
  std::string api_key;  // secret: never logged
  std::string user_id;
  std::string role;
  std::string tier;
  boost::json::object extra;
  std::shared_ptr<KeyCounters> counters;
  bool is_admin() const { return role == "admin"; }
};

using Digest = std::array<unsigned char, 32>;

// SHA-256 of a key: the lookup index, so lookups never compare raw key bytes early-exit.
Digest key_digest(std::string_view key);

// The digest in lower-case hex (64 characters), and back (nullopt when malformed).
std::string digest_hex(const Digest& d);
std::optional<Digest> digest_from_hex(std::string_view hex);

// HMAC-SHA256(secret, key) in hex: the fingerprint used in logs and /v1/keys/me.
std::string key_fingerprint(std::string_view secret, std::string_view key);

// "abcd...wxyz"
std::string key_preview(std::string_view key);

// 64 hex characters from 32 random bytes (OpenSSL RAND_bytes).
std::string generate_api_key();

// The set of keys. Readers take an immutable snapshot without locking; writers (admin
// actions, rare) copy-on-write under a mutex. Thread-safe.
class KeyRegistry {
 public:
  explicit KeyRegistry(const std::vector<config::KeyRecord>& records);

  // The entry for `key`, compared in constant time; nullptr if unknown.
  std::shared_ptr<const KeyEntry> find(std::string_view key) const;

  // Adds a key. Fails (returns false) if the key or the user id already exists.
  bool add(const config::KeyRecord& record);
  // Adds or replaces a key known elsewhere (another instance, the shared store): no user-id
  // check, live counters kept when the key is already present.
  void upsert(const config::KeyRecord& record);
  // Removes the key (by raw key, or the first key of a user id). Returns what was removed.
  std::shared_ptr<const KeyEntry> remove(std::string_view api_key);
  std::shared_ptr<const KeyEntry> remove_user(std::string_view user_id);
  std::shared_ptr<const KeyEntry> remove_digest(const Digest& digest);

  // Every entry of the current snapshot.
  std::vector<std::shared_ptr<const KeyEntry>> entries() const;

  bool has_admin() const;

  // Records the result of one served request.
  static void account(const KeyEntry& key, std::int64_t tokens) {
    key.counters->token_usage.fetch_add(tokens, std::memory_order_relaxed);
    key.counters->request_count.fetch_add(1, std::memory_order_relaxed);
    key.counters->unsynced_tokens.fetch_add(tokens, std::memory_order_relaxed);
    key.counters->unsynced_requests.fetch_add(1, std::memory_order_relaxed);
  }

  // Everything, for persistence (usage read from the live counters).
  std::vector<config::KeyRecord> records() const;

  // Changes since the last call to take_dirty(): true when keys were added or usage moved.
  bool take_dirty();
  void mark_dirty() { structure_dirty_.store(true); }

 private:
  struct DigestHash {
    std::size_t operator()(const Digest& d) const noexcept;
  };
  using Table = std::unordered_map<Digest, std::shared_ptr<const KeyEntry>, DigestHash>;

  std::shared_ptr<const Table> table() const { return table_.load(std::memory_order_acquire); }

  std::atomic<std::shared_ptr<const Table>> table_;
  std::mutex write_mu_;
  std::atomic<bool> structure_dirty_{false};
  std::int64_t last_usage_sum_ = 0;  // guarded by write_mu_ (take_dirty)
};

}  // namespace anygpt::auth
