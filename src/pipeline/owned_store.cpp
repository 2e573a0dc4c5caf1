#include "pipeline/owned_store.hpp"

#include "pipeline/gateway.hpp"
#include "pipeline/shared_state.hpp"

namespace anygpt::pipeline {

void OwnedStore::drop_oldest() {
  auto it = entries_.find(order_.front());
  if (it != entries_.end()) {
    bytes_ -= it->second.value.size();
    entries_.erase(it);
  }
  order_.pop_front();
}

void OwnedStore::keep(std::string id, const auth::Digest& key, std::string value, Clock::time_point expires) {
  if (value.size() > options_.max_bytes) return;
  const auto now = Clock::now();
  std::lock_guard lock(mu_);
  while (!order_.empty()) {
    auto front = entries_.find(order_.front());
    const bool expired = front == entries_.end() || front->second.expires <= now;
    if (!expired && entries_.size() < options_.max_entries && bytes_ + value.size() <= options_.max_bytes) break;
    drop_oldest();
  }
  bytes_ += value.size();
  auto [it, added] = entries_.try_emplace(id);
  if (!added) bytes_ -= it->second.value.size();  // (kept again, e.g. read back from Redis)
  it->second = Entry{key, std::move(value), expires};
  if (added) order_.push_back(std::move(id));
}

std::optional<std::string> OwnedStore::find(std::string_view id, const auth::Digest& key, Clock::time_point now) {
  std::lock_guard lock(mu_);
  auto it = entries_.find(id);
  if (it == entries_.end() || it->second.key != key || now >= it->second.expires) return std::nullopt;
  return it->second.value;
}

void share(Gateway& gw, OwnedStore& store, std::string id, const auth::Digest& key, std::string value,
           std::chrono::milliseconds ttl) {
  if (gw.shared) {
    SharedState::Fields fields;
    fields.emplace_back(store.options().redis_field, value);
    gw.shared->put_record(store.options().redis_key(id), key, std::move(fields), ttl);
  }
  store.keep(std::move(id), key, std::move(value), OwnedStore::Clock::now() + ttl);
}

boost::asio::awaitable<std::optional<std::string>> lookup(Gateway& gw, OwnedStore& store, std::string id,
                                                          auth::Digest key) {
  auto local = store.find(id, key, OwnedStore::Clock::now());
  if (local || !gw.shared) co_return local;
  auto record = co_await gw.shared->get_record(store.options().redis_key(id), key);
  if (!record) co_return std::nullopt;
  auto value = record->field(store.options().redis_field);
  if (value.empty()) co_return std::nullopt;
  store.keep(std::move(id), key, value, OwnedStore::Clock::now() + record->ttl);
  co_return value;
}

}  // namespace anygpt::pipeline
