// pipeline: the one place that sequences a request: authenticate, check quota, choose a
// provider, call it, fall back, account.
#pragma once

#include <atomic>
#include <boost/asio/thread_pool.hpp>
#include <functional>
#include <map>
#include <memory>
#include <string>

#include "auth/key_registry.hpp"
#include "config/config.hpp"
#include "config/data_files.hpp"
#include "formats/openai/chat_codec.hpp"
#include "pipeline/interactions.hpp"
#include "pipeline/provider_records.hpp"
#include "routing/catalog.hpp"
#include "routing/failure.hpp"
#include "routing/health.hpp"
#include "server/connection_gate.hpp"
#include "server/exchange.hpp"
#include "store/data_dir.hpp"
#include "upstream/client.hpp"

namespace anygpt::pipeline {

class SharedState;
using Tiers = std::map<std::string, config::Tier>;

// Lower-cased excluded-errors.json patterns: failures whose text contains one neither count
// against a provider's health nor take it out.
using ExcludedErrors = std::vector<std::string>;
ExcludedErrors lower_patterns(std::vector<std::string> patterns);

// What the routing did beyond plain attempts, for /metrics.
struct RoutingCounters {
  std::atomic<std::uint64_t> continuations{0};       // cut streams finished on another candidate (parts)
  std::atomic<std::uint64_t> hedges{0};              // races whose hedge started
  std::atomic<std::uint64_t> hedge_wins{0};          // races the hedge won
  std::atomic<std::uint64_t> hedge_loser_tokens{0};  // estimated prompt tokens the cancelled lanes cost upstream
  std::atomic<std::uint64_t> realtime_sessions{0};   // /v1/realtime sessions relayed (upstream opened)
  std::atomic<std::int64_t> realtime_open{0};        // ... open now
};

// Everything a request needs, shared by all worker threads. Owned by main().
// Snapshots (tiers, catalog, excluded errors) are immutable and swapped whole by the
// Housekeeper; keys are a KeyRegistry (lock-free reads); health is a HealthBoard (short locks).
struct Gateway {
  explicit Gateway(config::Config c) : config(std::move(c)), data_dir(config.data_dir) {}

  config::Config config;
  store::DataDir data_dir;
  std::unique_ptr<auth::KeyRegistry> keys;
  std::atomic<std::shared_ptr<const Tiers>> tiers;               // replaced whole when tiers.json changes
  std::vector<config::Provider> providers;                       // providers.json as loaded at start (read-only)
  std::atomic<std::shared_ptr<const routing::Catalog>> catalog;  // replaced when models.json changes
  std::unique_ptr<routing::HealthBoard> health;                  // slots fixed by providers.json at start
  std::atomic<std::shared_ptr<const ExcludedErrors>> excluded_errors;
  routing::RetryPolicy retry;
  SharedState* shared = nullptr;  // set in Redis mode (owned by main)
  std::atomic<bool> ready{false};
  std::function<void()> request_flush;  // asks the background writer to persist keys now
  // Asks the background thread to re-read models.json and refresh its provider counts now;
  // models_generation counts completed refreshes.
  std::function<void()> refresh_models;
  std::atomic<std::uint64_t> models_generation{0};
  OwnedStore videos{provider_records_options(Held::kVideoJob)};  // who created each video job (its polls go there)
  OwnedStore stored_responses{provider_records_options(Held::kResponse)};  // which provider stores a Response
  OwnedStore interactions{interactions_options()};                         // finished interactions, for their polls
  RoutingCounters counters;
  std::function<server::ConnectionStats()> connection_stats;  // the HTTP server's (set by main)
  // Blocking file work of requests (upload spools), kept off the event loops.
  boost::asio::thread_pool file_io{1};
};

struct Caller {
  std::shared_ptr<const auth::KeyEntry> key;
  std::shared_ptr<const Tiers> tiers;  // the snapshot `tier` points into (kept alive here)
  const config::Tier* tier = nullptr;
};

// The key from where the protocol's clients send it (Bearer, then its headers, then its query
// parameter); empty when none. The default: OpenAI's ("Authorization: Bearer", "x-api-key", "api-key").
std::string_view extract_api_key(const server::Exchange& ex,
                                 const formats::KeySources& sources = formats::openai::protocol().keys);

// Authenticates the caller. With check_quota, a key whose tier quota is used up is refused
// with kQuotaExceeded (429 insufficient_quota).
core::Result<Caller> authenticate(const Gateway& gw, const server::Exchange& ex, bool check_quota,
                                  const formats::KeySources& sources = formats::openai::protocol().keys);

// The same for a key found elsewhere (a WebSocket subprotocol, say): `raw` as the client sent it.
core::Result<Caller> authenticate_key(const Gateway& gw, const server::Exchange& ex, std::string_view raw,
                                      bool check_quota);

// Applies the caller's tier rate limits (one budget for every route of the key) and adds the
// x-ratelimit-* headers to the answer. A denial is kRateLimited with a Retry-After header and
// consumes nothing. With shared state up, the budget is shared by every instance (a lease from
// Redis when the local slice is used up: the only wait); otherwise it is this process's own.
boost::asio::awaitable<std::optional<core::Error>> admit(const Gateway& gw, const Caller& caller, server::Exchange& ex);

// Appends a failed request (status >= 500, or a stream broken mid-way: status 200) to the error log
// (logs/api-error.jsonl, and the Redis list with ERROR_LOG_TO_REDIS): request id, method, path
// without query, status, error, provider and the key's fingerprint, never the key.
void record_failure(const Gateway& gw, const server::Exchange& ex, const Caller& caller, const core::Error& error,
                    unsigned status);

// Sends `error` in the protocol's shape (OpenAI's by default) with its status.
boost::asio::awaitable<void> reply_error(server::Exchange& ex, const core::Error& error,
                                         const formats::Protocol& protocol = formats::openai::protocol());

// The upstream client of the calling event-loop thread (set once per thread at start).
void set_thread_client(upstream::Client* client);
upstream::Client& thread_client();

}  // namespace anygpt::pipeline
