// The Gemini-compatible /v2 family (@google/genai's baseUrl http://host/v2): models/{model}:
// generateContent, streamGenerateContent (SSE), countTokens, embedContent, batchEmbedContents,
// and the model list, under /v2/v1beta/, /v2/v1/ and /v2/; interactions under /v2 and /v2/v1beta
// (routes/interaction_routes.cpp).
#include "formats/gemini/gemini.hpp"
#include "formats/gemini/interactions.hpp"
#include "routes/api_route.hpp"

namespace anygpt::routes {
namespace gemini = formats::gemini;
using boost::asio::awaitable;
using server::http::verb;

namespace {

formats::RouteParams generate_params(const server::Exchange& ex) {
  return formats::RouteParams{gemini::strip_model_prefix(ex.path_param()), false};
}
formats::RouteParams stream_params(const server::Exchange& ex) {
  return formats::RouteParams{gemini::strip_model_prefix(ex.path_param()), true};
}

awaitable<void> count_tokens(pipeline::Gateway& gw, server::Exchange& ex) {
  const auto& protocol = gemini::protocol();
  const bool admitted = co_await admit_key(gw, ex, protocol);
  if (!admitted) co_return;
  auto body = co_await json_body(ex, protocol);
  if (!body) co_return;
  auto model = gemini::strip_model_prefix(ex.path_param());
  auto catalog = gw.catalog.load();
  if (pipeline::served_model(*catalog, protocol, model).empty())
    co_return co_await reply_unknown_model(ex, protocol, model);
  auto n = gemini::count_tokens(*body, model);
  if (!n) co_return co_await pipeline::reply_error(ex, n.error(), protocol);
  co_await ex.reply(server::Response{200, "application/json", gemini::count_tokens_body(*n), {}});
}

awaitable<void> list_models(pipeline::Gateway& gw, server::Exchange& ex) {
  auto catalog = gw.catalog.load();
  co_await ex.reply(server::Response{200, "application/json", gemini::models_body(model_infos(*catalog)), {}});
}

awaitable<void> get_model(pipeline::Gateway& gw, server::Exchange& ex) {
  auto catalog = gw.catalog.load();
  auto model = gemini::strip_model_prefix(ex.path_param());
  for (const auto& m : model_infos(*catalog))
    if (m.id == model)
      co_return co_await ex.reply(server::Response{200, "application/json", gemini::model_body(m), {}});
  co_await reply_unknown_model(ex, gemini::protocol(), model);
}

}  // namespace

RouteFamily gemini_routes(pipeline::Gateway& gw) {
  const auto& protocol = gemini::protocol();
  auto* g = &gw;
  auto generate = dispatch_handler(gw, protocol, gemini::generate_codec(), &generate_params);
  auto stream = dispatch_handler(gw, protocol, gemini::generate_codec(), &stream_params);
  auto embed = dispatch_handler(gw, protocol, gemini::embed_codec(), &generate_params);
  auto batch = dispatch_handler(gw, protocol, gemini::batch_embed_codec(), &generate_params);
  server::Handler count = [g](server::Exchange& ex) { return count_tokens(*g, ex); };
  server::Handler list = [g](server::Exchange& ex) { return list_models(*g, ex); };
  server::Handler one = [g](server::Exchange& ex) { return get_model(*g, ex); };
  RouteFamily f{"/v2", &protocol, {}};
  for (std::string base : {"/v2/v1beta/models", "/v2/v1/models", "/v2/models"}) {
    auto model = base + "/{model}";
    f.routes.push_back({verb::post, model + ":generateContent", "Gemini: generate content", Access::kKey, generate});
    f.routes.push_back({verb::post, model + ":streamGenerateContent",
                        "Gemini: generate content as a stream (SSE with ?alt=sse)", Access::kKey, stream});
    f.routes.push_back({verb::post, model + ":countTokens", "Gemini: estimate tokens", Access::kKey, count});
    f.routes.push_back({verb::post, model + ":embedContent", "Gemini: embed content", Access::kKey, embed});
    f.routes.push_back(
        {verb::post, model + ":batchEmbedContents", "Gemini: embed several contents", Access::kKey, batch});
    f.routes.push_back({verb::get, model, "Gemini: describe a model", Access::kPublic, one});
    f.routes.push_back({verb::get, base, "Gemini: list models", Access::kPublic, list});
  }
  // Interactions: the original's /v2/interactions, and where @google/genai sends them.
  for (std::string prefix : {"/v2", "/v2/v1beta"})
    for (auto& r : interaction_routes(gw, gemini::interactions_protocol(), prefix)) f.routes.push_back(std::move(r));
  return f;
}

}  // namespace anygpt::routes
