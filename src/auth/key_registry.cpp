#include "auth/key_registry.hpp"

#include <openssl/crypto.h>
#include <openssl/evp.h>
#include <openssl/hmac.h>
#include <openssl/rand.h>

#include <cstring>
#include <stdexcept>

namespace anygpt::auth {

namespace {
std::string hex(const unsigned char* p, std::size_t n) {
  static const char* digits = "0123456789abcdef";
  std::string out(n * 2, '0');
  for (std::size_t i = 0; i < n; ++i) {
    out[2 * i] = digits[p[i] >> 4];
    out[2 * i + 1] = digits[p[i] & 0xf];
  }
  return out;
}

std::shared_ptr<KeyEntry> make_entry(const config::KeyRecord& r) {
  auto e = std::make_shared<KeyEntry>();
  e->api_key = r.api_key;
  e->user_id = r.user_id;
  e->role = r.role;
  e->tier = r.tier;
  e->extra = r.extra;
  e->counters = std::make_shared<KeyCounters>();
  e->counters->token_usage.store(r.token_usage);
  e->counters->request_count.store(r.request_count);
  return e;
}
}  // namespace

Digest key_digest(std::string_view key) {
  // Fetched once: the implicit fetch behind EVP_sha256() costs a lookup on every call.
  static EVP_MD* const kSha256 = EVP_MD_fetch(nullptr, "SHA256", nullptr);
  Digest d{};
  unsigned int len = 0;
  EVP_Digest(key.data(), key.size(), d.data(), &len, kSha256, nullptr);
  return d;
}

std::string digest_hex(const Digest& d) {
  return hex(d.data(), d.size());
}

std::optional<Digest> digest_from_hex(std::string_view s) {
  if (s.size() != 64) return std::nullopt;
  auto nibble = [](char c) -> int {
    if (c >= '0' && c <= '9') return c - '0';
    if (c >= 'a' && c <= 'f') return c - 'a' + 10;
    return -1;
  };
  Digest d{};
  for (std::size_t i = 0; i < d.size(); ++i) {
    int hi = nibble(s[2 * i]), lo = nibble(s[2 * i + 1]);
    if (hi < 0 || lo < 0) return std::nullopt;
    d[i] = static_cast<unsigned char>(hi * 16 + lo);
  }
  return d;
}

std::string key_fingerprint(std::string_view secret, std::string_view key) {
  unsigned char out[EVP_MAX_MD_SIZE];
  unsigned int len = 0;
  HMAC(EVP_sha256(), secret.data(), static_cast<int>(secret.size()), reinterpret_cast<const unsigned char*>(key.data()),
       key.size(), out, &len);
  return hex(out, len);
}

std::string key_preview(std::string_view key) {
  if (key.size() <= 8) return "...";
  return std::string(key.substr(0, 4)) + "..." + std::string(key.substr(key.size() - 4));
}

std::string generate_api_key() {
  unsigned char buf[32];
  if (RAND_bytes(buf, sizeof buf) != 1) throw std::runtime_error("RAND_bytes failed");
  return hex(buf, sizeof buf);
}

std::size_t KeyRegistry::DigestHash::operator()(const Digest& d) const noexcept {
  std::size_t h;
  std::memcpy(&h, d.data(), sizeof h);
  return h;
}

KeyRegistry::KeyRegistry(const std::vector<config::KeyRecord>& records) {
  auto t = std::make_shared<Table>();
  for (const auto& r : records) {
    t->emplace(key_digest(r.api_key), make_entry(r));
    last_usage_sum_ += r.token_usage + r.request_count;
  }
  table_.store(std::shared_ptr<const Table>(std::move(t)));
}

std::shared_ptr<const KeyEntry> KeyRegistry::find(std::string_view key) const {
  if (key.empty()) return nullptr;
  auto t = table();
  auto it = t->find(key_digest(key));
  if (it == t->end()) return nullptr;
  const auto& stored = it->second->api_key;
  if (stored.size() != key.size() || CRYPTO_memcmp(stored.data(), key.data(), key.size()) != 0) return nullptr;
  return it->second;
}

bool KeyRegistry::add(const config::KeyRecord& record) {
  std::lock_guard lock(write_mu_);
  auto cur = table();
  auto d = key_digest(record.api_key);
  if (cur->count(d)) return false;
  for (const auto& [_, e] : *cur)
    if (e->user_id == record.user_id) return false;
  auto next = std::make_shared<Table>(*cur);
  next->emplace(d, make_entry(record));
  table_.store(std::shared_ptr<const Table>(std::move(next)), std::memory_order_release);
  structure_dirty_.store(true);
  return true;
}

void KeyRegistry::upsert(const config::KeyRecord& record) {
  std::lock_guard lock(write_mu_);
  auto cur = table();
  auto d = key_digest(record.api_key);
  auto next = std::make_shared<Table>(*cur);
  auto entry = make_entry(record);
  if (auto it = cur->find(d); it != cur->end()) entry->counters = it->second->counters;
  (*next)[d] = std::move(entry);
  table_.store(std::shared_ptr<const Table>(std::move(next)), std::memory_order_release);
  structure_dirty_.store(true);
}

std::shared_ptr<const KeyEntry> KeyRegistry::remove_digest(const Digest& digest) {
  std::lock_guard lock(write_mu_);
  auto cur = table();
  auto it = cur->find(digest);
  if (it == cur->end()) return nullptr;
  auto removed = it->second;
  auto next = std::make_shared<Table>(*cur);
  next->erase(digest);
  table_.store(std::shared_ptr<const Table>(std::move(next)), std::memory_order_release);
  structure_dirty_.store(true);
  return removed;
}

std::shared_ptr<const KeyEntry> KeyRegistry::remove(std::string_view api_key) {
  if (!find(api_key)) return nullptr;
  return remove_digest(key_digest(api_key));
}

std::shared_ptr<const KeyEntry> KeyRegistry::remove_user(std::string_view user_id) {
  for (const auto& [d, e] : *table())
    if (e->user_id == user_id) return remove_digest(d);
  return nullptr;
}

std::vector<std::shared_ptr<const KeyEntry>> KeyRegistry::entries() const {
  std::vector<std::shared_ptr<const KeyEntry>> out;
  auto t = table();
  out.reserve(t->size());
  for (const auto& [_, e] : *t) out.push_back(e);
  return out;
}

bool KeyRegistry::has_admin() const {
  for (const auto& [_, e] : *table())
    if (e->is_admin()) return true;
  return false;
}

std::vector<config::KeyRecord> KeyRegistry::records() const {
  std::vector<config::KeyRecord> out;
  auto t = table();
  out.reserve(t->size());
  for (const auto& [_, e] : *t) {
    config::KeyRecord r;
    r.api_key = e->api_key;
    r.user_id = e->user_id;
    r.role = e->role;
    r.tier = e->tier;
    r.extra = e->extra;
    r.token_usage = e->counters->token_usage.load(std::memory_order_relaxed);
    r.request_count = e->counters->request_count.load(std::memory_order_relaxed);
    out.push_back(std::move(r));
  }
  return out;
}

bool KeyRegistry::take_dirty() {
  std::lock_guard lock(write_mu_);
  std::int64_t sum = 0;
  for (const auto& [_, e] : *table())
    sum += e->counters->token_usage.load(std::memory_order_relaxed) +
           e->counters->request_count.load(std::memory_order_relaxed);
  bool dirty = structure_dirty_.exchange(false) || sum != last_usage_sum_;
  last_usage_sum_ = sum;
  return dirty;
}

}  // namespace anygpt::auth
