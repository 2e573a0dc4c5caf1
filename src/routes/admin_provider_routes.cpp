// The admin family's read-only provider views (/admin and /api/admin): the providers as loaded,
// secrets masked, and the live health of every (provider, model) pair. Admin keys only.
#include <boost/json.hpp>
#include <map>

#include "routes/api_route.hpp"

namespace anygpt::routes {
namespace json = boost::json;
using boost::asio::awaitable;
using core::ErrorKind;
using core::make_error;
using routing::Clock;
using server::http::verb;

namespace {

// A provider URL as it may be shown: a query (which can carry a key, e.g. Gemini's ?key=) masked.
std::string shown_url(std::string_view url) {
  auto q = url.find('?');
  if (q == std::string_view::npos) return std::string(url);
  return std::string(url.substr(0, q)) + "?***";
}

json::value optional_number(const std::optional<double>& v) {
  return v ? json::value(*v) : json::value(nullptr);
}

// One provider as providers.json has it, the key masked (never the raw secret).
json::object provider_view(const config::Provider& p) {
  json::array models;
  for (const auto& m : p.models) {
    json::object skips;
    for (const auto& [cap, reason] : m.capability_skips) skips[cap] = reason;
    models.push_back(json::object{{"id", m.id},
                                  {"upstream_model", m.upstream_model.empty() ? m.id : m.upstream_model},
                                  {"disabled", m.disabled},
                                  {"auto_disabled", m.auto_disabled},
                                  {"capability_skips", std::move(skips)}});
  }
  json::object urls;
  for (const auto& [model, url] : p.provider_urls) urls[model] = shown_url(url);
  return json::object{{"id", p.id},
                      {"protocol", config::protocol_name(p.protocol)},
                      {"provider_url", shown_url(p.provider_url)},
                      {"provider_urls", std::move(urls)},
                      {"apiKey", auth::key_preview(p.api_key)},
                      {"disabled", p.disabled},
                      {"auto_disabled", p.auto_disabled},
                      {"streamingCompatible", p.streaming_compatible},
                      {"models", std::move(models)}};
}

// The admission of a pair as an operator reads it.
const char* state_name(routing::Admission a) {
  switch (a) {
    case routing::Admission::kAllowed: return "closed";
    case routing::Admission::kProbe: return "probe_due";
    case routing::Admission::kBlocked: return "open";
  }
  return "?";
}

// Every provider's pooled health and each of its pairs': score, EMAs, errors, breaker state and,
// for an open circuit, when its probe is due.
json::array health_view(const pipeline::Gateway& gw) {
  const auto now = Clock::now();
  const auto catalog = gw.catalog.load();
  std::map<std::pair<std::string, std::string>, std::size_t> slots;  // (provider, model) -> slot
  for (const auto& def : catalog->models())
    for (const auto& c : catalog->candidates(def.id)) slots[{c.provider->provider.id, def.id}] = c.slot;
  json::array out;
  for (const auto& p : gw.health->snapshot(now)) {
    json::array models;
    for (const auto& m : p.models) {
      json::object pair{{"model", m.model_id},
                        {"errors", m.errors},
                        {"consecutive_errors", m.consecutive_errors},
                        {"avg_response_time_ms", optional_number(m.avg_response_time)},
                        {"avg_provider_latency_ms", optional_number(m.avg_provider_latency)},
                        {"avg_token_speed", optional_number(m.avg_token_speed)},
                        {"circuit_open", m.disabled}};
      if (auto it = slots.find({p.provider_id, m.model_id}); it != slots.end()) {
        auto view = gw.health->view(it->second, now);
        pair["state"] = state_name(view.admission);
        pair["rank"] = view.rank;
        if (view.admission == routing::Admission::kBlocked) {
          auto due = gw.health->next_probe({it->second}, now);
          pair["next_probe_in_ms"] =
              std::max<std::int64_t>(0, std::chrono::duration_cast<std::chrono::milliseconds>(due - now).count());
        }
      } else {
        pair["state"] = "not_served";  // disabled by hand, or its URL could not be parsed
      }
      models.push_back(std::move(pair));
    }
    out.push_back(json::object{{"provider", p.provider_id},
                               {"score", optional_number(p.score)},
                               {"errors", p.errors},
                               {"avg_response_time_ms", optional_number(p.avg_response_time)},
                               {"avg_provider_latency_ms", optional_number(p.avg_provider_latency)},
                               {"circuit_open", p.disabled},
                               {"models", std::move(models)}});
  }
  return out;
}

// {"object":"list","data":[...]}
std::string list_body(json::array data) {
  return json::serialize(json::object{{"object", "list"}, {"data", std::move(data)}});
}

awaitable<void> reply_json(server::Exchange& ex, std::string body) {
  co_await ex.reply(server::Response{200, "application/json", std::move(body), {}});
}

awaitable<void> list_providers(pipeline::Gateway& gw, server::Exchange& ex) {
  auto caller = require_admin(gw, ex);
  if (!caller) co_return co_await pipeline::reply_error(ex, caller.error());
  json::array data;
  for (const auto& p : gw.providers) data.push_back(provider_view(p));
  co_await reply_json(ex, list_body(std::move(data)));
}

awaitable<void> get_provider(pipeline::Gateway& gw, server::Exchange& ex) {
  auto caller = require_admin(gw, ex);
  if (!caller) co_return co_await pipeline::reply_error(ex, caller.error());
  for (const auto& p : gw.providers)
    if (p.id == ex.path_param()) co_return co_await reply_json(ex, json::serialize(provider_view(p)));
  co_await pipeline::reply_error(
      ex, make_error(ErrorKind::kNotFound, "No provider '" + ex.path_param() + "'", "id", "provider_not_found"));
}

awaitable<void> provider_health(pipeline::Gateway& gw, server::Exchange& ex) {
  auto caller = require_admin(gw, ex);
  if (!caller) co_return co_await pipeline::reply_error(ex, caller.error());
  co_await reply_json(ex, list_body(health_view(gw)));
}

}  // namespace

std::vector<ApiRoute> admin_provider_routes(pipeline::Gateway& gw) {
  auto* g = &gw;
  std::vector<ApiRoute> out;
  for (const std::string prefix : {"/admin", "/api/admin"}) {
    out.push_back({verb::get, prefix + "/providers", "List the providers, keys masked (admin)", Access::kAdmin,
                   [g](server::Exchange& ex) { return list_providers(*g, ex); }});
    out.push_back({verb::get, prefix + "/providers/{id}", "One provider, its key masked (admin)", Access::kAdmin,
                   [g](server::Exchange& ex) { return get_provider(*g, ex); }});
    out.push_back({verb::get, prefix + "/health/providers",
                   "Live health of every provider and (provider, model) pair: score, averages, breaker state, next "
                   "probe (admin)",
                   Access::kAdmin, [g](server::Exchange& ex) { return provider_health(*g, ex); }});
  }
  return out;
}

}  // namespace anygpt::routes
