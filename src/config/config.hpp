// config: environment and .env parsing into one immutable, validated Config.
#pragma once

#include <cstdint>
#include <functional>
#include <map>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "core/error.hpp"
#include "core/log.hpp"

namespace anygpt::config {

enum class DataSource { kFilesystem, kRedis };

// Every setting the server reads. Built once at start-up by load_config(); never mutated.
struct Config {
  std::string host = "0.0.0.0";
  std::uint16_t port = 3000;
  core::LogLevel log_level = core::LogLevel::kInfo;
  std::string data_dir = ".";
  std::string upload_spool_dir;  // "" = $TMPDIR, else /tmp
  DataSource data_source = DataSource::kFilesystem;
  int worker_threads = 1;

  std::int64_t upstream_timeout_ms = 120000;             // cap on one whole upstream call
  std::int64_t upstream_connect_timeout_ms = 5000;       // TCP + TLS handshake
  std::int64_t upstream_first_byte_timeout_ms = 60000;   // request sent -> response headers
  std::int64_t video_request_cache_ttl_ms = 3600000;     // a video job's polls go to its provider this long
  std::int64_t responses_owner_ttl_ms = 2592000000;      // which provider stores a Response, and whose it is
  std::int64_t interactions_ttl_ms = 900000;             // a finished interaction is kept for its polls this long
  std::int64_t upstream_first_token_timeout_ms = 10000;  // attempt begun -> a stream's first content event
  std::int64_t upstream_idle_timeout_ms = 30000;         // gap between two body reads
  int upstream_pool_size = 64;                           // idle keep-alive connections per host and thread

  // Routing, retries and health (docs/ROUTING.md).
  int routing_max_attempts = 4;                      // upstream attempts per request, retries included
  std::int64_t anthropic_default_max_tokens = 4096;  // max_tokens sent to Anthropic when the client gave none
  std::int64_t routing_budget_ms = 0;                // time to find an answer; 0 = upstream_timeout_ms
  std::int64_t routing_max_retry_after_ms = 2000;    // a longer upstream Retry-After fails over instead
  int routing_spread_points = 10;                    // score gap within which providers share load
  int routing_hedge_after_ms = 0;                // a stream without content this long races the next candidate (0: off)
  std::int64_t health_half_life_ms = 60000;      // EMA half-life in time (also 10 observations)
  int breaker_failure_threshold = 5;             // consecutive failures that take a model out
  std::int64_t breaker_cooldown_ms = 10000;      // first wait before the half-open probe
  std::int64_t breaker_max_cooldown_ms = 30000;  // the wait doubles up to this while probes fail
  bool disable_provider_auto_disable = false;    // true: never take a whole provider out
  int disable_provider_after_models = 2;         // open models that take their provider out
  std::int64_t model_caps_refresh_ms = 5000;     // models.json reload + provider counts refresh

  // Shared state in Redis (DATA_SOURCE_PREFERENCE=redis; docs/STORAGE.md).
  std::string redis_url = "127.0.0.1:6379";  // host:port, redis://, rediss://
  std::string redis_username, redis_password;
  int redis_db = -1;                          // -1: as the URL says (default 0)
  bool redis_tls = false;                     // also implied by rediss://
  std::int64_t redis_sync_interval_ms = 200;  // usage push / pull period
  bool error_log_to_redis = false;
  std::string redis_error_log_key = "api:error_logs";
  std::int64_t redis_error_log_max_entries = 1000;
  std::int64_t error_log_max_bytes = 10LL * 1024 * 1024;  // logs/api-error.jsonl rotation size

  // Image URL inlining (IMAGE_FETCH_*; docs/IMAGE_FETCH.md).
  bool image_fetch_inline = false;              // off: anygpt fetches nothing on a caller's behalf unless asked
  std::int64_t image_fetch_timeout_ms = 15000;  // one deadline per image over every hop
  std::int64_t image_fetch_max_bytes = 8LL * 1024 * 1024;  // per image, enforced while it streams in
  int image_fetch_max_redirects = 3;
  bool image_fetch_allow_private = false;
  bool image_fetch_forward_auth = false;  // forward the client's image_fetch_auth_header as Authorization
  std::string image_fetch_auth_header = "x-image-fetch-authorization";
  std::vector<std::string> image_fetch_allowed_protocols{"http", "https"};
  std::vector<std::string> image_fetch_allowed_hosts;  // empty = any; ".example.com" = it and subdomains
  std::string image_fetch_user_agent =
      "Mozilla/5.0 (X11; Linux x86_64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/122.0.0.0 Safari/537.36";
  std::string image_fetch_referer;       // "" = none
  int image_fetch_max_images = 8;        // distinct image URLs inlined per request
  int image_fetch_max_concurrency = 16;  // image fetches in flight, process-wide
  bool image_fetch_keep_failed = false;  // IMAGE_FETCH_ON_FAILURE=keep: leave failing URLs for the provider

  std::int64_t max_body_bytes = 50LL * 1024 * 1024;
  // Slow and hostile clients (server::ServerOptions has each one's meaning).
  std::int64_t client_header_timeout_ms = 10000;
  std::int64_t client_body_timeout_ms = 20000;
  std::int64_t client_body_min_rate = 1024;
  std::int64_t client_write_timeout_ms = 30000;
  std::int64_t keep_alive_timeout_ms = 65000;
  int max_connections = 0;  // 0: from the open-file limit
  int max_unauthenticated_connections_per_ip = 512;
  // WebSocket /ws (docs/WEBSOCKET.md).
  std::int64_t ws_max_message_bytes = 1 << 20;
  std::int64_t ws_ping_interval_ms = 30000;
  std::int64_t ws_idle_timeout_ms = 120000;
  std::int64_t ws_send_buffer_bytes = 1 << 20;
  int ws_max_in_flight = 16;
  std::int64_t flush_interval_ms = 1000;
  std::int64_t shutdown_timeout_ms = 10000;

  bool enable_models_routes = true;
  bool enable_admin_routes = true;
  bool enable_openai_routes = true;
  bool enable_gemini_routes = true;
  bool enable_anthropic_routes = true;
  bool enable_groq_routes = true;
  bool enable_ollama_routes = true;
  bool enable_openrouter_routes = true;
  bool enable_ws_routes = true;

  std::string default_admin_user_id;
  std::string default_admin_api_key;
  std::string api_key_hash_secret = "anygpt-api";

  std::string cors_origin = "*";
  std::string cors_methods = "GET,POST,PUT,PATCH,DELETE,OPTIONS";
  std::string cors_headers =
      "Authorization,Content-Type,x-api-key,api-key,x-goog-api-key,anthropic-version,x-request-id";
};

// Looks a variable up by name; nullopt when unset.
using EnvLookup = std::function<std::optional<std::string>(std::string_view)>;

// Parses the process environment overlaid on a .env file's variables (the environment wins).
// Every malformed value is an error naming the variable; nothing is silently ignored.
core::Result<Config> load_config(const EnvLookup& env);

// KEY=VALUE lines; '#' comments, optional "export ", single or double quotes.
std::map<std::string, std::string> parse_dotenv(std::string_view text);

// The --help text: every variable with its default and meaning.
std::string help_text();

}  // namespace anygpt::config
