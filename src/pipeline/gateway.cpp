#include "pipeline/gateway.hpp"

#include <boost/json.hpp>

#include "core/log.hpp"
#include "formats/openai/openai.hpp"
#include "pipeline/shared_state.hpp"

namespace anygpt::pipeline {
using core::ErrorKind;
using core::make_error;

ExcludedErrors lower_patterns(std::vector<std::string> patterns) {
  for (auto& p : patterns)
    for (auto& ch : p) ch = static_cast<char>(std::tolower(static_cast<unsigned char>(ch)));
  return patterns;
}

namespace {
// "'Authorization: Bearer <key>', 'x-api-key'" etc.: where this protocol's key may go.
std::string key_places(const formats::KeySources& sources) {
  std::string out;
  auto add = [&out](std::string_view before, std::string_view what, std::string_view after) {
    if (!out.empty()) out += ", ";
    out.append(before).append(what).append(after);
  };
  if (sources.bearer) add("'", "Authorization: Bearer <key>", "'");
  for (auto h : sources.headers)
    if (!h.empty()) add("'", h, "'");
  if (!sources.query_param.empty()) add("'?", sources.query_param, "='");
  return out;
}
}  // namespace

std::string_view extract_api_key(const server::Exchange& ex, const formats::KeySources& sources) {
  if (sources.bearer) {
    auto auth = ex.header(server::http::field::authorization);
    if (auth.size() > 7 && (auth.substr(0, 7) == "Bearer " || auth.substr(0, 7) == "bearer ")) {
      auto key = auth.substr(7);
      while (!key.empty() && key.front() == ' ') key.remove_prefix(1);
      while (!key.empty() && key.back() == ' ') key.remove_suffix(1);
      if (!key.empty()) return key;
    }
  }
  for (auto h : sources.headers)
    if (!h.empty())
      if (auto k = ex.header(h); !k.empty()) return k;
  if (!sources.query_param.empty()) return ex.query_value(sources.query_param);
  return {};
}

core::Result<Caller> authenticate(const Gateway& gw, const server::Exchange& ex, bool check_quota,
                                  const formats::KeySources& sources) {
  auto raw = extract_api_key(ex, sources);
  if (raw.empty())
    return make_error(ErrorKind::kUnauthorized, "Missing API key: send it as " + key_places(sources), {},
                      "missing_api_key");
  return authenticate_key(gw, ex, raw, check_quota);
}

core::Result<Caller> authenticate_key(const Gateway& gw, const server::Exchange& ex, std::string_view raw,
                                      bool check_quota) {
  if (raw.empty()) return make_error(ErrorKind::kUnauthorized, "Missing API key", {}, "missing_api_key");
  auto key = gw.keys->find(raw);
  if (!key) return make_error(ErrorKind::kUnauthorized, "Invalid API key", {}, "invalid_api_key");
  ex.mark_authenticated();
  auto tiers = gw.tiers.load();
  auto it = tiers->find(key->tier);
  if (it == tiers->end())
    return make_error(ErrorKind::kForbidden, "The key's tier '" + key->tier + "' is not defined in tiers.json", {},
                      "invalid_tier");
  Caller caller{std::move(key), tiers, &it->second};
  if (check_quota && caller.tier->max_tokens) {
    auto used = caller.key->counters->token_usage.load(std::memory_order_relaxed);
    if (used >= *caller.tier->max_tokens)
      return make_error(ErrorKind::kQuotaExceeded,
                        "Token quota exhausted: " + std::to_string(used) + " of " +
                            std::to_string(*caller.tier->max_tokens) + " tokens used (tier '" + caller.key->tier + "')",
                        {}, "insufficient_quota");
  }
  return caller;
}

boost::asio::awaitable<std::optional<core::Error>> admit(const Gateway& gw, const Caller& caller,
                                                         server::Exchange& ex) {
  const auto& tier = *caller.tier;
  limits::RateLimits lim{tier.rps, tier.rpm, tier.rpd};
  auto& counters = *caller.key->counters;
  limits::Decision d;
  bool decided = false;
  if (gw.shared && gw.shared->up() && (lim.rps > 0 || lim.rpm > 0 || lim.rpd > 0)) {
    auto taken = counters.lease.take(limits::Clock::now());
    if (!taken.need_lease) {
      d = taken.decision;
      decided = true;
    } else {
      // (co_await only as a whole statement: GCC 12 miscompiles it inside conditions.)
      auto grant = co_await gw.shared->lease(auth::digest_hex(auth::key_digest(caller.key->api_key)), lim,
                                             limits::lease_size(lim));
      if (grant) {
        d = counters.lease.grant_and_take(*grant, limits::Clock::now());
        decided = true;
      }
    }
  }
  if (!decided) d = counters.rate.admit(lim, limits::Clock::now());
  if (d.limit > 0) {
    ex.add_header("x-ratelimit-limit-requests", std::to_string(d.limit));
    ex.add_header("x-ratelimit-remaining-requests", std::to_string(d.remaining));
    ex.add_header("x-ratelimit-reset-requests", limits::format_reset(d.reset));
  }
  if (tier.max_tokens) {
    auto used = caller.key->counters->token_usage.load(std::memory_order_relaxed);
    ex.add_header("x-ratelimit-limit-tokens", std::to_string(*tier.max_tokens));
    ex.add_header("x-ratelimit-remaining-tokens", std::to_string(std::max<std::int64_t>(0, *tier.max_tokens - used)));
  }
  if (d.allowed) co_return std::nullopt;
  auto seconds = (d.retry_after.count() + 999) / 1000;
  ex.add_header("Retry-After", std::to_string(seconds));
  co_return make_error(ErrorKind::kRateLimited,
                       "Rate limit exceeded for tier '" + caller.key->tier + "' (" + std::to_string(tier.rps) + "/s, " +
                           std::to_string(tier.rpm) + "/min, " + std::to_string(tier.rpd) + "/day); retry after " +
                           std::to_string(seconds) + " s",
                       {}, "rate_limit_exceeded");
}

void record_failure(const Gateway& gw, const server::Exchange& ex, const Caller& caller, const core::Error& error,
                    unsigned status) {
  auto target = ex.request().target();
  auto path = std::string_view(target.data(), target.size());
  path = path.substr(0, path.find('?'));
  auto now = std::chrono::duration_cast<std::chrono::milliseconds>(std::chrono::system_clock::now().time_since_epoch());
  boost::json::object o{
      {"timestamp", now.count()},
      {"requestId", ex.request_id()},
      {"requestMethod", std::string(ex.request().method_string())},
      {"requestUrl", path},
      {"status", status},
      {"errorMessage", error.message},
      {"code", error.code},
      {"provider", error.provider},
      {"apiKeyHash", auth::key_fingerprint(gw.config.api_key_hash_secret, caller.key->api_key).substr(0, 12)}};
  auto line = boost::json::serialize(o);
  if (gw.shared) gw.shared->error_logged(line);
  core::error_log(std::move(line));
}

boost::asio::awaitable<void> reply_error(server::Exchange& ex, const core::Error& error,
                                         const formats::Protocol& protocol) {
  server::Response r;
  r.status = protocol.error_status(error);
  r.body = protocol.error_body(error);
  co_await ex.reply(std::move(r));
}

namespace {
thread_local upstream::Client* t_client = nullptr;
}
void set_thread_client(upstream::Client* client) {
  t_client = client;
}
upstream::Client& thread_client() {
  return *t_client;
}

}  // namespace anygpt::pipeline
