// The OpenAI-compatible /v1 family (chat completions, responses, embeddings, images, speech, Azure
// deployments, key introspection, key generation).
#include <algorithm>
#include <boost/json.hpp>
#include <cctype>
#include <chrono>

#include "auth/key_registry.hpp"
#include "core/log.hpp"
#include "formats/openai/chat_codec.hpp"
#include "formats/openai/embeddings_codec.hpp"
#include "formats/openai/openai.hpp"
#include "formats/responses/responses.hpp"
#include "pipeline/shared_state.hpp"
#include "routes/api_route.hpp"

namespace anygpt::routes {
namespace json = boost::json;
using boost::asio::awaitable;
using core::ErrorKind;
using core::make_error;
using server::http::verb;

namespace {

std::int64_t now_ms() {
  return std::chrono::duration_cast<std::chrono::milliseconds>(std::chrono::system_clock::now().time_since_epoch())
      .count();
}

json::value nullable(const std::optional<double>& v) {
  return v ? json::value(*v) : json::value(nullptr);
}

awaitable<void> keys_me(pipeline::Gateway& gw, server::Exchange& ex) {
  auto caller = pipeline::authenticate(gw, ex, false);  // exhausted keys may still look themselves up
  if (!caller) co_return co_await pipeline::reply_error(ex, caller.error());
  auto denied = co_await pipeline::admit(gw, *caller, ex);  // (not inside the condition: GCC 12)
  if (denied) co_return co_await pipeline::reply_error(ex, *denied);
  const auto& key = *caller->key;
  const auto& tier = *caller->tier;
  auto used = key.counters->token_usage.load(std::memory_order_relaxed);
  json::object limits{{"rps", tier.rps},
                      {"rpm", tier.rpm},
                      {"rpd", tier.rpd},
                      {"max_tokens", tier.max_tokens ? json::value(*tier.max_tokens) : json::value(nullptr)},
                      {"min_provider_score", nullable(tier.min_provider_score)},
                      {"max_provider_score", nullable(tier.max_provider_score)}};
  json::object usage{
      {"token_usage", used},
      {"request_count", key.counters->request_count.load(std::memory_order_relaxed)},
      {"remaining_tokens",
       tier.max_tokens ? json::value(std::max<std::int64_t>(0, *tier.max_tokens - used)) : json::value(nullptr)},
      {"max_tokens", tier.max_tokens ? json::value(*tier.max_tokens) : json::value(nullptr)}};
  json::object body{{"api_key_preview", auth::key_preview(key.api_key)},
                    {"api_key_hash", auth::key_fingerprint(gw.config.api_key_hash_secret, key.api_key)},
                    {"user", json::object{{"id", key.user_id}, {"role", key.role}}},
                    {"tier", json::object{{"id", key.tier}, {"limits", std::move(limits)}}},
                    {"usage", std::move(usage)},
                    {"timestamp", now_ms()}};
  co_await ex.reply(server::Response{200, "application/json", json::serialize(body), {}});
}

awaitable<void> generate_key(pipeline::Gateway& gw, server::Exchange& ex) {
  auto caller = pipeline::authenticate(gw, ex, false);
  if (!caller) co_return co_await pipeline::reply_error(ex, caller.error());
  if (!caller->key->is_admin())
    co_return co_await pipeline::reply_error(
        ex, make_error(ErrorKind::kForbidden, "Admin access required to generate keys", {}, "admin_required"));
  json::error_code ec;
  auto body = json::parse(ex.body(), ec);
  if (ec || !body.is_object())
    co_return co_await pipeline::reply_error(
        ex, make_error(ErrorKind::kInvalidRequest, "Request body must be a JSON object", {}, "invalid_json"));
  const auto& o = body.as_object();
  config::KeyRecord rec;
  const auto* uid = o.if_contains("userId");
  if (!uid || !uid->is_string() || uid->as_string().empty())
    co_return co_await pipeline::reply_error(
        ex, make_error(ErrorKind::kInvalidRequest, "'userId' is required and must be a non-empty string", "userId"));
  rec.user_id = std::string(uid->as_string());
  if (const auto* role = o.if_contains("role"); role && !role->is_null()) {
    if (!role->is_string() || (role->as_string() != "admin" && role->as_string() != "user"))
      co_return co_await pipeline::reply_error(
          ex, make_error(ErrorKind::kInvalidRequest, "'role' must be \"admin\" or \"user\"", "role"));
    rec.role = std::string(role->as_string());
  }
  if (const auto* tier = o.if_contains("tier"); tier && !tier->is_null()) {
    if (!tier->is_string())
      co_return co_await pipeline::reply_error(
          ex, make_error(ErrorKind::kInvalidRequest, "'tier' must be a string", "tier"));
    rec.tier = std::string(tier->as_string());
  }
  if (!gw.tiers.load()->count(rec.tier))
    co_return co_await pipeline::reply_error(
        ex, make_error(ErrorKind::kInvalidRequest, "Tier '" + rec.tier + "' does not exist in tiers.json", "tier",
                       "unknown_tier"));
  rec.api_key = auth::generate_api_key();
  bool added = gw.shared ? gw.shared->add_key(rec) : gw.keys->add(rec);
  if (!added)
    co_return co_await pipeline::reply_error(
        ex, make_error(ErrorKind::kConflict, "User '" + rec.user_id + "' already has a key", "userId", "user_exists"));
  if (gw.request_flush) gw.request_flush();
  core::log(core::LogLevel::kInfo, "api key generated",
            "\"user_id\":" + json::serialize(json::value(rec.user_id)) + ",\"fingerprint\":\"" +
                auth::key_fingerprint(gw.config.api_key_hash_secret, rec.api_key).substr(0, 16) + "\"");
  json::object out{{"apiKey", rec.api_key}, {"userId", rec.user_id}, {"role", rec.role}, {"tier", rec.tier}};
  co_await ex.reply(server::Response{200, "application/json", json::serialize(out), {}});
}

formats::RouteParams deployment_params(const server::Exchange& ex) {
  return formats::RouteParams{ex.path_param(), false};
}

// Azure OpenAI's chat route: the deployment is the model; like Azure, a request without
// ?api-version= is refused (400) before anything else.
server::Handler deployment_chat(pipeline::Gateway& gw) {
  auto chat =
      dispatch_handler(gw, formats::openai::protocol(), formats::openai::deployment_chat_codec(), &deployment_params);
  return [chat](server::Exchange& ex) -> awaitable<void> {
    if (ex.query_value("api-version").empty())
      co_return co_await pipeline::reply_error(
          ex, make_error(ErrorKind::kInvalidRequest, "The api-version query parameter (?api-version=) is required",
                         "api-version", "missing_api_version"));
    co_await chat(ex);
  };
}

// ---- /v1/responses ----

// A provider that may hold a stored response: an enabled "openai-responses" provider (one that
// serves the Responses API itself), and where to ask it. Views into the catalogue.
struct ResponseHome {
  ResponseHome(upstream::Endpoint e, const config::Provider& p) : endpoint(std::move(e)), provider(p) {}
  upstream::Endpoint endpoint;
  const config::Provider& provider;
};

bool response_id_ok(std::string_view id) {
  if (id.empty() || id.size() > 200) return false;
  for (char c : id)
    if (!std::isalnum(static_cast<unsigned char>(c)) && c != '_' && c != '-') return false;
  return true;
}

// GET {base}/responses/{id}[?query] of the openai-responses provider `provider_id`, while the
// catalogue has it.
std::optional<ResponseHome> response_home(const routing::Catalog& catalog, std::string_view provider_id,
                                          std::string_view id, std::string_view query) {
  for (const auto& model : catalog.models())
    for (const auto& c : catalog.candidates(model.id)) {
      const auto& p = c.provider->provider;
      if (p.id != provider_id || p.protocol != config::ProviderProtocol::kOpenAIResponses) continue;
      upstream::Endpoint ep = c.endpoint(formats::Operation::kChat, false);  // .../responses
      ep.target.erase(std::min(ep.target.find('?'), ep.target.size()));
      ep.target += '/';
      ep.target += id;
      if (!query.empty()) {
        ep.target += '?';
        ep.target += query;
      }
      return ResponseHome(std::move(ep), p);
    }
  return std::nullopt;
}

upstream::Request read_request(const ResponseHome& home) {
  upstream::Request r;
  r.endpoint = &home.endpoint;
  r.api_key = home.provider.api_key;
  r.method = "GET";
  return r;
}

// GET /v1/responses/{id}: asked of the provider that stored it, for the key that created it
// through anygpt (pipeline/provider_records); anything else is a 404, so a key that learns
// another's id reads nothing. Translated responses are not stored anywhere.
awaitable<void> retrieve_response(pipeline::Gateway& gw, server::Exchange& ex) {
  const auto& protocol = formats::responses::protocol();
  auto caller = pipeline::authenticate(gw, ex, false, protocol.keys);
  if (!caller) co_return co_await pipeline::reply_error(ex, caller.error(), protocol);
  auto denied = co_await pipeline::admit(gw, *caller, ex);
  if (denied) co_return co_await pipeline::reply_error(ex, *denied, protocol);
  const std::string id = ex.path_param();
  std::optional<std::string> provider_id;
  if (response_id_ok(id)) {
    const auto key = auth::key_digest(caller->key->api_key);
    provider_id = co_await pipeline::find_holder(gw, pipeline::Held::kResponse, id, key);
  }
  auto catalog = gw.catalog.load();  // (kept alive: the home points into it)
  std::optional<ResponseHome> home =
      provider_id ? response_home(*catalog, *provider_id, id, ex.query()) : std::optional<ResponseHome>();
  if (!home) {
    std::string message = "No response with id '";
    message += id;
    message +=
        "' of yours is stored. Responses anygpt translated to chat completions are not kept (\"store\" is ignored "
        "for them); only providers declared with \"protocol\": \"openai-responses\" store theirs.";
    co_return co_await pipeline::reply_error(
        ex, make_error(ErrorKind::kNotFound, std::move(message), "response_id", "not_found"), protocol);
  }
  auto request = read_request(*home);
  auto res = co_await pipeline::thread_client().call(request);
  if (!res) {
    auto failure = make_error(ErrorKind::kUpstreamError, "Provider '" + home->provider.id + "' " + res.error().message,
                              {}, "upstream_error");
    co_return co_await pipeline::reply_error(ex, failure, protocol);
  }
  std::string type = res->content_type.empty() ? std::string("application/json") : std::move(res->content_type);
  co_await ex.reply(server::Response{res->status, std::move(type), std::move(res->body), {}});
}

}  // namespace

std::vector<ApiRoute> openai_routes(pipeline::Gateway& gw) {
  auto* g = &gw;
  auto deployment = deployment_chat(gw);
  std::vector<ApiRoute> routes{
      {verb::post, "/v1/deployments/{deployment}/chat/completions",
       "Azure OpenAI: chat with a deployment (its id is the model; ?api-version= required)", Access::kKey, deployment},
      {verb::post, "/openai/deployments/{deployment}/chat/completions",
       "Azure OpenAI (the AzureOpenAI client's path): as /v1/deployments/{deployment}/chat/completions", Access::kKey,
       deployment},
      {verb::post, "/v1/chat/completions", "Create a chat completion (OpenAI format; SSE when stream=true)",
       Access::kKey, dispatch_handler(gw, formats::openai::protocol(), formats::openai::chat_codec())},
      {verb::post, "/v1/embeddings", "Create embeddings (OpenAI format; native Gemini and Ollama providers too)",
       Access::kKey, dispatch_handler(gw, formats::openai::protocol(), formats::openai::embeddings_codec())},
      {verb::post, "/v1/responses", "Create a model response (OpenAI Responses API; SSE events when stream=true)",
       Access::kKey, dispatch_handler(gw, formats::responses::protocol(), formats::responses::codec())},
      {verb::get, "/v1/responses/{id}", "Retrieve a stored response", Access::kKey,
       [g](server::Exchange& ex) { return retrieve_response(*g, ex); }},
      {verb::get, "/v1/keys/me", "Describe the calling key: tier, limits and usage", Access::kKey,
       [g](server::Exchange& ex) { return keys_me(*g, ex); }},
      {verb::post, "/v1/generate_key", "Create a user key (admin)", Access::kAdmin,
       [g](server::Exchange& ex) { return generate_key(*g, ex); }},
  };
  for (auto& r : media_routes(gw)) routes.push_back(std::move(r));
  for (auto& r : interaction_routes(gw, formats::openai::protocol(), "/v1")) routes.push_back(std::move(r));
  return routes;
}

}  // namespace anygpt::routes
