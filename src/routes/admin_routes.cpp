// The admin family (/admin and /api/admin): operations on the gateway's own data.
#include <boost/asio/redirect_error.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/asio/use_awaitable.hpp>
#include <boost/json.hpp>

#include "routes/api_route.hpp"

namespace anygpt::routes {
namespace json = boost::json;
using boost::asio::awaitable;
using core::ErrorKind;
using core::make_error;
using server::http::verb;

namespace {

// Re-reads models.json and refreshes its provider counts now (on the background thread), then
// answers with the counts. Never blocks the event loop: it polls the refresh's completion.
awaitable<void> refresh_provider_counts(pipeline::Gateway& gw, server::Exchange& ex) {
  auto caller = pipeline::authenticate(gw, ex, false);
  if (!caller) co_return co_await pipeline::reply_error(ex, caller.error());
  if (!caller->key->is_admin())
    co_return co_await pipeline::reply_error(
        ex, make_error(ErrorKind::kForbidden, "Admin access required", {}, "admin_required"));
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
  for (const char* prefix : {"/admin", "/api/admin"})
    out.push_back({verb::post, std::string(prefix) + "/models/refresh-provider-counts",
                   "Re-read models.json and refresh each model's provider count (admin)", Access::kAdmin,
                   [g](server::Exchange& ex) { return refresh_provider_counts(*g, ex); }});
  return out;
}

}  // namespace anygpt::routes
