#include "pipeline/gateway.hpp"

#include "formats/openai/openai.hpp"

namespace anygpt::pipeline {
using core::ErrorKind;
using core::make_error;

std::string_view extract_api_key(const server::Exchange& ex) {
  auto auth = ex.header(server::http::field::authorization);
  if (auth.size() > 7 && (auth.substr(0, 7) == "Bearer " || auth.substr(0, 7) == "bearer ")) {
    auto key = auth.substr(7);
    while (!key.empty() && key.front() == ' ') key.remove_prefix(1);
    while (!key.empty() && key.back() == ' ') key.remove_suffix(1);
    if (!key.empty()) return key;
  }
  if (auto k = ex.header("x-api-key"); !k.empty()) return k;
  return ex.header("api-key");
}

core::Result<Caller> authenticate(const Gateway& gw, const server::Exchange& ex, bool check_quota) {
  auto raw = extract_api_key(ex);
  if (raw.empty())
    return make_error(ErrorKind::kUnauthorized,
                      "Missing API key: send it as 'Authorization: Bearer <key>', 'x-api-key' or 'api-key'", {},
                      "missing_api_key");
  auto key = gw.keys->find(raw);
  if (!key) return make_error(ErrorKind::kUnauthorized, "Invalid API key", {}, "invalid_api_key");
  auto it = gw.tiers->find(key->tier);
  if (it == gw.tiers->end())
    return make_error(ErrorKind::kForbidden, "The key's tier '" + key->tier + "' is not defined in tiers.json", {},
                      "invalid_tier");
  Caller caller{std::move(key), &it->second};
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

boost::asio::awaitable<void> reply_error(server::Exchange& ex, const core::Error& error) {
  server::Response r;
  r.status = core::http_status(error.kind);
  r.body = formats::openai::error_body(error);
  co_await ex.reply(std::move(r));
}

}  // namespace anygpt::pipeline
