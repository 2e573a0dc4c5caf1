// pipeline/shared_state: keeps this instance in step with the others through Redis
// (DATA_SOURCE_PREFERENCE=redis; docs/STORAGE.md). Owns one thread with its own event loop and
// two Redis connections (commands, pub/sub). The request path never waits on Redis except for
// a rate lease when its local slice is used up (one round trip), and falls back to local state
// whenever Redis is unreachable.
#pragma once

#include <atomic>
#include <boost/asio/awaitable.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/json/value.hpp>
#include <chrono>
#include <deque>
#include <functional>
#include <memory>
#include <mutex>
#include <optional>
#include <string>
#include <thread>
#include <vector>

#include "limits/lease.hpp"
#include "pipeline/gateway.hpp"
#include "store/redis/redis.hpp"

namespace anygpt::pipeline {

// What the data files hold at start: imported into Redis when Redis has nothing yet.
struct LocalData {
  std::vector<config::KeyRecord> keys;
  boost::json::value providers, models;
};

class SharedState {
 public:
  struct Metrics {
    bool up = false;
    std::uint64_t connects = 0, disconnects = 0, batches_pushed = 0, lease_requests = 0, lease_failures = 0;
    std::uint64_t record_reads = 0, record_read_failures = 0;
    std::int64_t pending_ops = 0;
  };

  SharedState(Gateway& gw, store::redis::Options options, std::shared_ptr<boost::asio::ssl::context> tls);
  ~SharedState();
  SharedState(const SharedState&) = delete;
  SharedState& operator=(const SharedState&) = delete;

  // Before serving (blocking, start-up only): connects within `wait`, imports on first use (our
  // layout, else the original's "api:data" hash, else `files`), and returns the shared data with
  // usage totals. An error means Redis cannot be used now: serve from the files; start() keeps
  // trying and reconciles when Redis comes.
  struct Initial {
    std::vector<config::KeyRecord> keys;
    boost::json::value providers, models;
  };
  core::Result<Initial> load(const LocalData& files, std::chrono::milliseconds wait);

  // Starts the background loop: reconnects with backoff, pushes usage deltas, key changes and
  // circuit events, pulls totals and keys, listens for other instances' events.
  void start();
  // Pushes what is pending (bounded by 2 s), then stops the thread. Idempotent.
  void stop();

  bool up() const { return up_.load(std::memory_order_acquire); }
  Metrics metrics() const;

  // Request threads (non-blocking): queue the change for Redis and the other instances.
  // add_key adds to the local registry (false: key or user exists) and queues the write in one
  // step, so a concurrent re-read of the shared keys never mistakes the new key for a revoked one.
  bool add_key(const config::KeyRecord& record);
  void key_removed(const std::string& api_key);
  void circuit_opened(const std::string& provider, const std::string& model, std::chrono::milliseconds duration);
  void error_logged(std::string line);

  // Short-lived records of one key that any instance may be asked about (video jobs,
  // interactions; docs/STORAGE.md): a hash with a time to live, holding the owner's key digest
  // (field "key") beside `fields`. put_record queues HSET + PEXPIRE (idempotent) for the loop
  // thread; nothing is queued while Redis is unreachable (the caller keeps its own copy).
  using Fields = std::vector<std::pair<std::string, std::string>>;
  void put_record(std::string key, const auth::Digest& owner, Fields fields, std::chrono::milliseconds ttl);
  struct Record {
    Fields fields;
    std::chrono::milliseconds ttl{0};                // what is left of its life (0: unknown)
    std::string field(std::string_view name) const;  // "" when absent
  };
  // Reads a record (HGETALL + PTTL, one round trip on the loop thread); resumes on the caller's
  // executor. nullopt when there is none, it is another key's, or Redis is unreachable or failed
  // (the caller's local answer stands).
  boost::asio::awaitable<std::optional<Record>> get_record(std::string key, auth::Digest owner);

  // Leases up to `want` requests of the key's shared budget. Resumes on the caller's executor.
  // nullopt when Redis is unreachable or slow (the caller applies its local limits).
  boost::asio::awaitable<std::optional<limits::Grant>> lease(std::string digest_hex, limits::RateLimits limits,
                                                             std::int64_t want);

 private:
  struct Lease;
  struct Read;
  struct Batch;

  boost::asio::awaitable<core::Result<Initial>> load_shared(const LocalData& files);
  boost::asio::awaitable<void> load_into(const LocalData& files, std::optional<core::Result<Initial>>& out);
  template <class Answer, class Waiter>
  boost::asio::awaitable<Answer> enqueue(std::shared_ptr<Waiter> waiter, std::vector<std::shared_ptr<Waiter>>& queue,
                                         std::uint64_t& counter);
  template <class Waiter>
  void fail_all(std::vector<std::shared_ptr<Waiter>>& waiters, std::uint64_t& failures);
  boost::asio::awaitable<void> run();
  boost::asio::awaitable<void> listen();
  boost::asio::awaitable<bool> reconcile();
  boost::asio::awaitable<bool> exchange();
  boost::asio::awaitable<bool> pull_all();
  void wake();
  void fail_leases(std::vector<std::shared_ptr<Lease>>& leases);
  void fail_reads(std::vector<std::shared_ptr<Read>>& reads);
  void on_event(std::string_view payload);

  Gateway& gw_;
  store::redis::Options options_;
  std::string instance_;  // random id: tags batches and events
  boost::asio::io_context ioc_;
  std::unique_ptr<store::redis::Connection> conn_, sub_;
  std::thread thread_;
  std::atomic<bool> up_{false}, stopping_{false};
  bool warned_down_ = false;

  mutable std::mutex mu_;                      // guards the queues and metrics below
  std::vector<std::vector<std::string>> ops_;  // commands to apply (idempotent), kept until acknowledged
  std::vector<std::shared_ptr<Lease>> leases_;
  std::vector<std::shared_ptr<Read>> reads_;
  std::vector<std::string> fetch_keys_;  // digests announced by others, to read
  bool pull_requested_ = false;
  Metrics metrics_;

  std::unique_ptr<Batch> inflight_;  // usage batch sent but not acknowledged (loop thread only)
  std::uint64_t next_seq_ = 1;
  std::unique_ptr<boost::asio::steady_timer> timer_;
  std::string lease_sha_, usage_sha_;
};

}  // namespace anygpt::pipeline
