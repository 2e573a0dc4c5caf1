// The admin family (/admin and /api/admin): operations on the gateway's own data.
#include <boost/asio/redirect_error.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/asio/use_awaitable.hpp>
#include <boost/json.hpp>

#include "core/log.hpp"
#include "pipeline/shared_state.hpp"
#include "routes/api_route.hpp"

namespace anygpt::routes {
namespace json = boost::json;
using boost::asio::awaitable;
using core::ErrorKind;
using core::make_error;
using server::http::verb;

core::Result<pipeline::Caller> require_admin(pipeline::Gateway& gw, server::Exchange& ex) {
  auto caller = pipeline::authenticate(gw, ex, false);
  if (!caller) return caller.error();
  if (!caller->key->is_admin()) return make_error(ErrorKind::kForbidden, "Admin access required", {}, "admin_required");
  return caller;
}

namespace {

// POST {"apiKey": "..."} or {"userId": "..."}: the key stops working at once here and, with
// shared state, on every instance within a second.
awaitable<void> revoke_key(pipeline::Gateway& gw, server::Exchange& ex) {
  auto caller = require_admin(gw, ex);
  if (!caller) co_return co_await pipeline::reply_error(ex, caller.error());
  json::error_code ec;
  auto body = json::parse(ex.body(), ec);
  const json::object* o = !ec && body.is_object() ? &body.as_object() : nullptr;
  auto field = [o](const char* name) -> std::string {
    const auto* v = o ? o->if_contains(name) : nullptr;
    return v && v->is_string() ? std::string(v->as_string()) : std::string();
  };
  auto api_key = field("apiKey"), user_id = field("userId");
  if (!o || (api_key.empty() && user_id.empty()))
    co_return co_await pipeline::reply_error(
        ex, make_error(ErrorKind::kInvalidRequest, "Send a JSON object with 'apiKey' or 'userId'", "apiKey"));
  auto removed = !api_key.empty() ? gw.keys->remove(api_key) : gw.keys->remove_user(user_id);
  if (!removed)
    co_return co_await pipeline::reply_error(
        ex, make_error(ErrorKind::kNotFound, "API key not found", {}, "key_not_found"));
  if (gw.shared) gw.shared->key_removed(removed->api_key);
  if (gw.request_flush) gw.request_flush();
  core::log(core::LogLevel::kInfo, "api key revoked", "\"user_id\":" + json::serialize(json::value(removed->user_id)));
  json::object out{{"message", "API key revoked."},
                   {"entry", json::object{{"userId", removed->user_id},
                                          {"apiKeyMasked", auth::key_preview(removed->api_key)},
                                          {"role", removed->role},
                                          {"tier", removed->tier}}}};
  co_await ex.reply(server::Response{200, "application/json", json::serialize(out), {}});
}

// Re-reads models.json and refreshes its provider counts now (on the background thread), then
// answers with the counts. Never blocks the event loop: it polls the refresh's completion.
awaitable<void> refresh_provider_counts(pipeline::Gateway& gw, server::Exchange& ex) {
  auto caller = require_admin(gw, ex);
  if (!caller) co_return co_await pipeline::reply_error(ex, caller.error());
  auto before = gw.models_generation.load();
  if (gw.refresh_models) gw.refresh_models();
  boost::asio::steady_timer timer(ex.executor());
  for (int i = 0; i < 500 && gw.models_generation.load() == before; ++i) {
    timer.expires_after(std::chrono::milliseconds(10));
    boost::system::error_code ec;
    co_await timer.async_wait(boost::asio::redirect_error(boost::asio::use_awaitable, ec));
  }
  if (gw.models_generation.load() == before)
    co_return co_await pipeline::reply_error(
        ex,
        make_error(ErrorKind::kUpstreamTimeout, "models.json refresh did not finish in time", {}, "refresh_pending"));
  auto catalog = gw.catalog.load();
  json::object counts;
  for (const auto& [model, n] : catalog->provider_counts()) counts[model] = n;
  json::object body{{"success", true}, {"models", catalog->models().size()}, {"provider_counts", std::move(counts)}};
  co_await ex.reply(server::Response{200, "application/json", json::serialize(body), {}});
}

}  // namespace

std::vector<ApiRoute> admin_routes(pipeline::Gateway& gw) {
  auto* g = &gw;
  std::vector<ApiRoute> out;
  for (const char* prefix : {"/admin", "/api/admin"}) {
    out.push_back({verb::post, std::string(prefix) + "/models/refresh-provider-counts",
                   "Re-read models.json and refresh each model's provider count (admin)", Access::kAdmin,
                   [g](server::Exchange& ex) { return refresh_provider_counts(*g, ex); }});
    out.push_back({verb::post, std::string(prefix) + "/api-keys/revoke",
                   "Revoke a user key by apiKey or userId (admin; on every instance within a second)", Access::kAdmin,
                   [g](server::Exchange& ex) { return revoke_key(*g, ex); }});
  }
  return out;
}

}  // namespace anygpt::routes
