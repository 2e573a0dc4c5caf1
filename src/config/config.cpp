#include "config/config.hpp"

#include <cctype>
#include <charconv>
#include <vector>

namespace anygpt::config {
namespace {

using core::ErrorKind;
using core::make_error;

// One row per variable: the single source of --help and of parsing.
struct Var {
  const char* name;
  const char* default_text;
  const char* help;
  // Applies a present value to cfg; returns an error message when malformed.
  std::function<std::optional<std::string>(Config&, const std::string&)> apply;
};

std::optional<std::string> parse_int(const std::string& v, std::int64_t lo, std::int64_t hi, std::int64_t& out) {
  std::int64_t n = 0;
  auto [p, ec] = std::from_chars(v.data(), v.data() + v.size(), n);
  if (ec != std::errc{} || p != v.data() + v.size() || v.empty()) return "'" + v + "' is not an integer";
  if (n < lo || n > hi) return "'" + v + "' is out of range [" + std::to_string(lo) + ", " + std::to_string(hi) + "]";
  out = n;
  return std::nullopt;
}

std::optional<std::string> parse_bool(const std::string& v, bool& out) {
  if (v == "true" || v == "1" || v == "yes" || v == "on") {
    out = true;
  } else if (v == "false" || v == "0" || v == "no" || v == "off") {
    out = false;
  } else {
    return "'" + v + "' is not a boolean (true/false/1/0)";
  }
  return std::nullopt;
}

template <class T>
Var int_var(const char* name, const char* def, const char* help, T Config::*field, std::int64_t lo, std::int64_t hi) {
  return Var{name, def, help, [field, lo, hi](Config& c, const std::string& v) {
               std::int64_t n = 0;
               if (auto err = parse_int(v, lo, hi, n)) return err;
               c.*field = static_cast<T>(n);
               return std::optional<std::string>{};
             }};
}

Var bool_var(const char* name, const char* help, bool Config::*field, const char* def = "true") {
  return Var{name, def, help, [field](Config& c, const std::string& v) { return parse_bool(v, c.*field); }};
}

Var string_var(const char* name, const char* def, const char* help, std::string Config::*field) {
  return Var{name, def, help, [field](Config& c, const std::string& v) {
               c.*field = v;
               return std::optional<std::string>{};
             }};
}

// A header value or URL from the environment: printable, no CR/LF (it goes into request heads).
std::optional<std::string> header_safe(const std::string& v) {
  for (char c : v)
    if (static_cast<unsigned char>(c) < 0x20 || c == 0x7f) return std::string("must not contain control characters");
  return std::nullopt;
}

// A comma list, trimmed and lower-cased, empty entries dropped; each entry checked by `check`.
Var list_var(const char* name, const char* def, const char* help, std::vector<std::string> Config::*field,
             std::optional<std::string> (*check)(std::string&)) {
  return Var{name, def, help, [field, check](Config& c, const std::string& v) -> std::optional<std::string> {
               std::vector<std::string> out;
               std::size_t start = 0;
               while (start <= v.size()) {
                 auto comma = v.find(',', start);
                 if (comma == std::string::npos) comma = v.size();
                 std::string entry(v, start, comma - start);
                 start = comma + 1;
                 while (!entry.empty() && (entry.front() == ' ' || entry.front() == '\t')) entry.erase(0, 1);
                 while (!entry.empty() && (entry.back() == ' ' || entry.back() == '\t')) entry.pop_back();
                 for (auto& ch : entry) ch = static_cast<char>(std::tolower(static_cast<unsigned char>(ch)));
                 if (entry.empty()) continue;
                 if (auto err = check(entry)) return "'" + entry + "': " + *err;
                 out.push_back(std::move(entry));
               }
               c.*field = std::move(out);
               return std::nullopt;
             }};
}

std::optional<std::string> image_protocol(std::string& p) {
  if (!p.empty() && p.back() == ':') p.pop_back();  // the original's form ("https:")
  if (p != "http" && p != "https") return std::string("only http and https images can be fetched");
  return std::nullopt;
}

std::optional<std::string> image_host(std::string& h) {
  if (h.find('*') != std::string::npos)
    return std::string("no wildcards: '.example.com' matches it and its subdomains");
  if (h.find_first_of("/@ ") != std::string::npos) return std::string("a host name or address, not a URL");
  return std::nullopt;
}

const std::vector<Var>& vars() {
  static const std::vector<Var> table = {
      int_var("PORT", "3000", "TCP port to listen on (0 picks a free port)", &Config::port, 0, 65535),
      string_var("HOST", "0.0.0.0", "address to listen on", &Config::host),
      Var{"LOG_LEVEL", "info", "debug | info | warn | error | silent",
          [](Config& c, const std::string& v) -> std::optional<std::string> {
            if (v == "debug")
              c.log_level = core::LogLevel::kDebug;
            else if (v == "info")
              c.log_level = core::LogLevel::kInfo;
            else if (v == "warn")
              c.log_level = core::LogLevel::kWarn;
            else if (v == "error")
              c.log_level = core::LogLevel::kError;
            else if (v == "silent")
              c.log_level = core::LogLevel::kSilent;
            else
              return "'" + v + "' is not one of debug, info, warn, error, silent";
            return std::nullopt;
          }},
      string_var("DATA_DIR", ".",
                 "directory of providers.json, keys.json, tiers.json, models.json, "
                 "excluded-errors.json",
                 &Config::data_dir),
      string_var("UPLOAD_SPOOL_DIR", "(the system temp dir)",
                 "where uploads (images/edits, audio/transcriptions and translations) over 256 KB are kept while "
                 "they go upstream, as unlinked files",
                 &Config::upload_spool_dir),
      Var{"DATA_SOURCE_PREFERENCE", "filesystem",
          "filesystem | redis (keys, usage, rate limits shared through Redis; see docs/STORAGE.md)",
          [](Config& c, const std::string& v) -> std::optional<std::string> {
            if (v == "filesystem")
              c.data_source = DataSource::kFilesystem;
            else if (v == "redis")
              c.data_source = DataSource::kRedis;
            else
              return "'" + v + "' is not one of filesystem, redis";
            return std::nullopt;
          }},
      string_var("REDIS_URL", "127.0.0.1:6379", "Redis: host:port, redis://[user:pass@]host:port/db or rediss://",
                 &Config::redis_url),
      string_var("REDIS_USERNAME", "(unset)", "Redis ACL user", &Config::redis_username),
      string_var("REDIS_PASSWORD", "(unset)", "Redis password", &Config::redis_password),
      int_var("REDIS_DB", "0", "Redis database number", &Config::redis_db, 0, 1000000),
      int_var("ANTHROPIC_DEFAULT_MAX_TOKENS", "4096",
              "max_tokens sent to anthropic-protocol providers when the request has none",
              &Config::anthropic_default_max_tokens, 1, 1000000),
      bool_var("REDIS_TLS", "TLS to Redis (certificate verified against the system CA store)", &Config::redis_tls,
               "false"),
      int_var("REDIS_SYNC_INTERVAL_MS", "200", "how often usage is pushed to and pulled from Redis, ms",
              &Config::redis_sync_interval_ms, 10, 60000),
      bool_var("ERROR_LOG_TO_REDIS", "also push error-log lines to a capped Redis list", &Config::error_log_to_redis,
               "false"),
      string_var("REDIS_ERROR_LOG_KEY", "api:error_logs", "the Redis list for error-log lines",
                 &Config::redis_error_log_key),
      int_var("REDIS_ERROR_LOG_MAX_ENTRIES", "1000", "length cap of that list", &Config::redis_error_log_max_entries, 1,
              10000000),
      int_var("ERROR_LOG_MAX_BYTES", "10485760", "logs/api-error.jsonl is rotated to .1 past this size",
              &Config::error_log_max_bytes, 1024, 1LL << 40),
      int_var("WORKER_THREADS", "1", "event-loop threads (each accepts with SO_REUSEPORT)", &Config::worker_threads, 1,
              256),
      int_var("UPSTREAM_TIMEOUT_MS", "120000", "cap on one whole upstream call, ms", &Config::upstream_timeout_ms, 1,
              86400000),
      int_var("UPSTREAM_CONNECT_TIMEOUT_MS", "5000", "upstream TCP connect + TLS handshake timeout, ms",
              &Config::upstream_connect_timeout_ms, 1, 86400000),
      int_var("UPSTREAM_FIRST_BYTE_TIMEOUT_MS", "60000", "time from request sent to upstream response headers, ms",
              &Config::upstream_first_byte_timeout_ms, 1, 86400000),
      int_var("VIDEO_REQUEST_CACHE_TTL_MS", "3600000",
              "how long a video job's polls are sent to the provider that created it, ms",
              &Config::video_request_cache_ttl_ms, 1000, 86400000 * 7LL),
      int_var("RESPONSES_OWNER_TTL_MS", "2592000000",
              "how long anygpt remembers which provider stores a Response and for which key (its GET goes "
              "there, for that key only), ms",
              &Config::responses_owner_ttl_ms, 1000, 86400000 * 366LL),
      int_var("INTERACTIONS_TTL_MS", "900000",
              "how long a finished interaction is kept for its polls (GET /v1/interactions/{id}), ms",
              &Config::interactions_ttl_ms, 1000, 86400000 * 7LL),
      int_var("UPSTREAM_FIRST_TOKEN_TIMEOUT_MS", "10000",
              "a stream whose first content event has not come this long after the attempt began fails over, ms "
              "(nothing reaches the client before it)",
              &Config::upstream_first_token_timeout_ms, 1, 86400000),
      int_var("UPSTREAM_IDLE_TIMEOUT_MS", "30000", "longest gap between two upstream body reads, ms",
              &Config::upstream_idle_timeout_ms, 1, 86400000),
      int_var("UPSTREAM_POOL_SIZE", "64", "idle keep-alive connections kept per upstream host and thread",
              &Config::upstream_pool_size, 0, 100000),
      int_var("ROUTING_MAX_ATTEMPTS", "4", "upstream attempts per request, retries and fallbacks included",
              &Config::routing_max_attempts, 1, 100),
      int_var("ROUTING_BUDGET_MS", "0", "time a request may spend finding an answer, ms (0 = UPSTREAM_TIMEOUT_MS)",
              &Config::routing_budget_ms, 0, 86400000),
      int_var("ROUTING_MAX_RETRY_AFTER_MS", "2000",
              "an upstream 429 with a Retry-After up to this is waited for; longer fails over, ms",
              &Config::routing_max_retry_after_ms, 0, 600000),
      int_var("ROUTING_SPREAD_POINTS", "10",
              "providers within this many score points of the best share load at random (0 = strict order)",
              &Config::routing_spread_points, 0, 100),
      int_var("ROUTING_HEDGE_AFTER_MS", "0",
              "a stream with no content after this long also starts the next candidate; the first to send "
              "content serves, the other is cancelled, ms (0 = off)",
              &Config::routing_hedge_after_ms, 0, 86400000),
      int_var("HEALTH_HALF_LIFE_MS", "60000", "half-life of the health averages (and of old errors), ms",
              &Config::health_half_life_ms, 100, 86400000),
      int_var("BREAKER_FAILURE_THRESHOLD", "5", "consecutive failures that take a (provider, model) out",
              &Config::breaker_failure_threshold, 1, 1000),
      int_var("BREAKER_COOLDOWN_MS", "10000", "wait before a model taken out gets its probe request, ms",
              &Config::breaker_cooldown_ms, 10, 86400000),
      int_var("BREAKER_MAX_COOLDOWN_MS", "30000",
              "the wait doubles after each failed probe up to this, ms (a recovered pair serves again within it)",
              &Config::breaker_max_cooldown_ms, 10, 86400000),
      bool_var("DISABLE_PROVIDER_AUTO_DISABLE", "never take a whole provider out (models still are)",
               &Config::disable_provider_auto_disable, "false"),
      int_var("DISABLE_PROVIDER_AFTER_MODELS", "2", "models out that take their whole provider out",
              &Config::disable_provider_after_models, 1, 100000),
      int_var("MODEL_CAPS_REFRESH_MS", "5000", "how often models.json is re-read and provider counts refreshed, ms",
              &Config::model_caps_refresh_ms, 1000, 86400000),
      bool_var("IMAGE_FETCH_INLINE",
               "fetch http(s) image URLs of chat requests and send them upstream as data URLs (docs/IMAGE_FETCH.md)",
               &Config::image_fetch_inline, "false"),
      int_var("IMAGE_FETCH_TIMEOUT_MS", "15000", "deadline of one image fetch over all its redirects and its body, ms",
              &Config::image_fetch_timeout_ms, 100, 600000),
      int_var("IMAGE_FETCH_MAX_BYTES", "8388608", "largest image fetched, bytes (enforced while it streams in)",
              &Config::image_fetch_max_bytes, 1024, 64LL * 1024 * 1024),
      int_var("IMAGE_FETCH_MAX_REDIRECTS", "3", "redirects an image fetch follows (each hop checked again)",
              &Config::image_fetch_max_redirects, 0, 20),
      bool_var("IMAGE_FETCH_ALLOW_PRIVATE", "also fetch from private, loopback, link-local and reserved addresses",
               &Config::image_fetch_allow_private, "false"),
      bool_var("IMAGE_FETCH_FORWARD_AUTH",
               "send the request's IMAGE_FETCH_AUTH_HEADER value to the image URL's own host as Authorization "
               "(never the anygpt key)",
               &Config::image_fetch_forward_auth, "false"),
      Var{"IMAGE_FETCH_AUTH_HEADER", "x-image-fetch-authorization",
          "the request header whose value IMAGE_FETCH_FORWARD_AUTH forwards",
          [](Config& c, const std::string& v) -> std::optional<std::string> {
            std::string name = v;
            for (auto& ch : name) ch = static_cast<char>(std::tolower(static_cast<unsigned char>(ch)));
            if (name.empty() || name.find_first_not_of("abcdefghijklmnopqrstuvwxyz0123456789-_") != std::string::npos)
              return "'" + v + "' is not a header name";
            if (name == "authorization" || name == "x-api-key" || name == "api-key" || name == "x-goog-api-key")
              return "'" + v + "' carries anygpt keys: name a header of its own";
            c.image_fetch_auth_header = std::move(name);
            return std::nullopt;
          }},
      list_var("IMAGE_FETCH_ALLOWED_PROTOCOLS", "http,https", "schemes of image URLs that are fetched (comma list)",
               &Config::image_fetch_allowed_protocols, image_protocol),
      list_var("IMAGE_FETCH_ALLOWED_HOSTS", "(unset: any)",
               "image hosts that may be fetched (comma list; '.example.com' = it and its subdomains)",
               &Config::image_fetch_allowed_hosts, image_host),
      Var{"IMAGE_FETCH_USER_AGENT", "(a desktop Chrome's)", "User-Agent of image fetches",
          [](Config& c, const std::string& v) {
            if (auto err = header_safe(v)) return err;
            c.image_fetch_user_agent = v;
            return std::optional<std::string>{};
          }},
      Var{"IMAGE_FETCH_REFERER", "(unset)",
          "Referer of image fetches (an http(s) URL; a request's x-image-fetch-referer or x-image-referer wins)",
          [](Config& c, const std::string& v) -> std::optional<std::string> {
            if (auto err = header_safe(v)) return err;
            if (!v.empty() && !v.starts_with("http://") && !v.starts_with("https://"))
              return "'" + v + "' is not an http(s) URL";
            c.image_fetch_referer = v;
            return std::nullopt;
          }},
      int_var("IMAGE_FETCH_MAX_IMAGES", "8", "distinct image URLs inlined per request", &Config::image_fetch_max_images,
              1, 256),
      int_var("IMAGE_FETCH_MAX_CONCURRENCY", "16", "image fetches in flight at once, process-wide",
              &Config::image_fetch_max_concurrency, 1, 10000),
      Var{"IMAGE_FETCH_ON_FAILURE", "reject",
          "reject (400 naming the host and the reason) | keep (leave the URL for the provider)",
          [](Config& c, const std::string& v) -> std::optional<std::string> {
            if (v != "reject" && v != "keep") return "'" + v + "' is not one of reject, keep";
            c.image_fetch_keep_failed = v == "keep";
            return std::nullopt;
          }},
      int_var("MAX_BODY_LENGTH", "52428800", "largest accepted request body, bytes (413 above)",
              &Config::max_body_bytes, 1024, 1LL << 32),
      int_var("CLIENT_HEADER_TIMEOUT_MS", "10000",
              "a request head must arrive whole within this from accept (or from its first byte on a kept-alive "
              "connection), ms",
              &Config::client_header_timeout_ms, 100, 3600000),
      int_var("CLIENT_BODY_TIMEOUT_MS", "20000",
              "a request body must arrive within this, plus 1 s per CLIENT_BODY_MIN_RATE bytes received, ms",
              &Config::client_body_timeout_ms, 100, 3600000),
      int_var("CLIENT_BODY_MIN_RATE", "1024", "bytes per second of body that earn one more second (0: none)",
              &Config::client_body_min_rate, 0, 1LL << 32),
      int_var("CLIENT_WRITE_TIMEOUT_MS", "30000",
              "longest a write of an answer may wait for a client that does not read (then it is dropped), ms",
              &Config::client_write_timeout_ms, 100, 3600000),
      int_var("KEEP_ALIVE_TIMEOUT_MS", "65000", "how long an idle kept-alive client connection stays open, ms",
              &Config::keep_alive_timeout_ms, 100, 3600000),
      int_var("MAX_CONNECTIONS", "0",
              "open client connections beyond which new ones are refused with a 503 (0: half the open-file limit)",
              &Config::max_connections, 0, 10000000),
      int_var("MAX_UNAUTHENTICATED_CONNECTIONS_PER_IP", "512",
              "connections per client address on which no request has authenticated yet, beyond which new "
              "ones are refused with a 429 (0: no cap)",
              &Config::max_unauthenticated_connections_per_ip, 0, 10000000),
      int_var("WS_MAX_MESSAGE_BYTES", "1048576", "largest WebSocket message a client may send (then close 1009), bytes",
              &Config::ws_max_message_bytes, 1024, 1LL << 30),
      int_var("WS_PING_INTERVAL_MS", "30000", "a WebSocket ping after this long without a frame from the client, ms",
              &Config::ws_ping_interval_ms, 100, 3600000),
      int_var("WS_IDLE_TIMEOUT_MS", "120000",
              "a WebSocket with no frame from the client (pongs included) for this long is closed 4000, ms",
              &Config::ws_idle_timeout_ms, 100, 86400000),
      int_var("WS_SEND_BUFFER_BYTES", "1048576",
              "outgoing WebSocket bytes queued per socket before its streams wait for the client to read",
              &Config::ws_send_buffer_bytes, 1024, 1LL << 30),
      int_var("WS_MAX_IN_FLIGHT", "16", "chat requests running at once on one WebSocket", &Config::ws_max_in_flight, 1,
              10000),
      int_var("FLUSH_INTERVAL_MS", "1000", "how often usage is flushed to the data files, ms",
              &Config::flush_interval_ms, 50, 3600000),
      int_var("SHUTDOWN_TIMEOUT_MS", "10000", "on SIGTERM, how long in-flight requests may finish, ms",
              &Config::shutdown_timeout_ms, 0, 3600000),
      bool_var("ENABLE_MODELS_ROUTES", "serve /v1/models and its aliases", &Config::enable_models_routes),
      bool_var("ENABLE_ADMIN_ROUTES", "serve admin routes", &Config::enable_admin_routes),
      bool_var("ENABLE_OPENAI_ROUTES", "serve the OpenAI-compatible /v1 routes", &Config::enable_openai_routes),
      bool_var("ENABLE_GEMINI_ROUTES", "serve the Gemini-compatible /v2 routes", &Config::enable_gemini_routes),
      bool_var("ENABLE_ANTHROPIC_ROUTES", "serve the Anthropic-compatible /v3 routes",
               &Config::enable_anthropic_routes),
      bool_var("ENABLE_GROQ_ROUTES", "serve the Groq-compatible /v4 routes", &Config::enable_groq_routes),
      bool_var("ENABLE_OLLAMA_ROUTES", "serve the Ollama-compatible /v5 routes", &Config::enable_ollama_routes),
      bool_var("ENABLE_OPENROUTER_ROUTES", "serve the OpenRouter-compatible /v6 routes",
               &Config::enable_openrouter_routes),
      bool_var("ENABLE_WEBSOCKET_ROUTES", "serve the WebSocket endpoint /ws", &Config::enable_ws_routes),
      string_var("DEFAULT_ADMIN_USER_ID", "(unset)", "user id of the admin key created at first start",
                 &Config::default_admin_user_id),
      string_var("DEFAULT_ADMIN_API_KEY", "(unset: random)", "the admin key created at first start",
                 &Config::default_admin_api_key),
      string_var("API_KEY_HASH_SECRET", "anygpt-api", "HMAC secret for key fingerprints in logs and /v1/keys/me",
                 &Config::api_key_hash_secret),
      string_var("CORS_ORIGIN", "*", "Access-Control-Allow-Origin (comma list or *)", &Config::cors_origin),
      string_var("CORS_METHODS", "GET,POST,PUT,PATCH,DELETE,OPTIONS", "Access-Control-Allow-Methods",
                 &Config::cors_methods),
      string_var("CORS_HEADERS", "Authorization,Content-Type,x-api-key,...", "Access-Control-Allow-Headers",
                 &Config::cors_headers),
  };
  return table;
}

std::string unquote(std::string_view v) {
  if (v.size() >= 2 && (v.front() == '"' || v.front() == '\'') && v.back() == v.front())
    return std::string(v.substr(1, v.size() - 2));
  return std::string(v);
}

std::string_view trim(std::string_view s) {
  while (!s.empty() && (s.front() == ' ' || s.front() == '\t' || s.front() == '\r')) s.remove_prefix(1);
  while (!s.empty() && (s.back() == ' ' || s.back() == '\t' || s.back() == '\r')) s.remove_suffix(1);
  return s;
}

}  // namespace

std::map<std::string, std::string> parse_dotenv(std::string_view text) {
  std::map<std::string, std::string> out;
  while (!text.empty()) {
    auto nl = text.find('\n');
    auto line = trim(text.substr(0, nl));
    text = nl == std::string_view::npos ? std::string_view{} : text.substr(nl + 1);
    if (line.empty() || line.front() == '#') continue;
    if (line.starts_with("export ")) line = trim(line.substr(7));
    auto eq = line.find('=');
    if (eq == std::string_view::npos) continue;
    auto key = trim(line.substr(0, eq));
    auto value = trim(line.substr(eq + 1));
    if (!value.empty() && value.front() != '"' && value.front() != '\'') {
      auto hash = value.find(" #");
      if (hash != std::string_view::npos) value = trim(value.substr(0, hash));
    }
    if (!key.empty()) out[std::string(key)] = unquote(value);
  }
  return out;
}

core::Result<Config> load_config(const EnvLookup& env) {
  Config cfg;
  for (const auto& var : vars()) {
    auto value = env(var.name);
    if (!value) continue;
    if (auto err = var.apply(cfg, *value))
      return make_error(ErrorKind::kInvalidRequest, std::string(var.name) + ": " + *err, var.name);
  }
  if (cfg.image_fetch_allowed_protocols.empty())
    return make_error(ErrorKind::kInvalidRequest, "IMAGE_FETCH_ALLOWED_PROTOCOLS: must name http and/or https",
                      "IMAGE_FETCH_ALLOWED_PROTOCOLS");
  if (cfg.routing_budget_ms == 0) cfg.routing_budget_ms = cfg.upstream_timeout_ms;
  if (cfg.breaker_max_cooldown_ms < cfg.breaker_cooldown_ms)
    return make_error(ErrorKind::kInvalidRequest, "BREAKER_MAX_COOLDOWN_MS: must be >= BREAKER_COOLDOWN_MS",
                      "BREAKER_MAX_COOLDOWN_MS");
  return cfg;
}

std::string help_text() {
  std::string out =
      "anygpt: an AI-model gateway (OpenAI-compatible API in front of many providers)\n\n"
      "usage: anygpt [--help]\n\n"
      "Configuration comes from environment variables, overlaid on ./.env (the environment wins).\n"
      "A malformed value stops the start with the variable's name.\n\n";
  for (const auto& v : vars()) {
    std::string name = v.name;
    name.resize(32, ' ');
    out += "  " + name + v.help + " (default: " + v.default_text + ")\n";
  }
  return out;
}

}  // namespace anygpt::config
