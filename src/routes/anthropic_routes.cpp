// The Anthropic-compatible /v3 family (@anthropic-ai/sdk's baseURL http://host/v3: /v3/v1/...),
// plus /v3/messages and the original's doubled path /v3/v3/messages.
#include "formats/anthropic/anthropic.hpp"
#include "routes/api_route.hpp"

namespace anygpt::routes {
namespace anthropic = formats::anthropic;
using boost::asio::awaitable;
using server::http::verb;

namespace {

awaitable<void> count_tokens(pipeline::Gateway& gw, server::Exchange& ex) {
  const auto& protocol = anthropic::protocol();
  const bool admitted = co_await admit_key(gw, ex, protocol);
  if (!admitted) co_return;
  auto body = co_await json_body(ex, protocol);
  if (!body) co_return;
  if (const auto* m = body->as_object().if_contains("model"); m && m->is_string()) {
    auto catalog = gw.catalog.load();
    if (pipeline::served_model(*catalog, protocol, m->as_string()).empty())
      co_return co_await reply_unknown_model(ex, protocol, m->as_string());
  }
  auto n = anthropic::count_tokens(*body);
  if (!n) co_return co_await pipeline::reply_error(ex, n.error(), protocol);
  co_await ex.reply(server::Response{200, "application/json", anthropic::count_tokens_body(*n), {}});
}

awaitable<void> list_models(pipeline::Gateway& gw, server::Exchange& ex) {
  auto catalog = gw.catalog.load();
  co_await ex.reply(server::Response{200, "application/json", anthropic::models_body(model_infos(*catalog)), {}});
}

awaitable<void> get_model(pipeline::Gateway& gw, server::Exchange& ex) {
  auto catalog = gw.catalog.load();
  for (const auto& m : model_infos(*catalog))
    if (m.id == ex.path_param())
      co_return co_await ex.reply(server::Response{200, "application/json", anthropic::model_body(m), {}});
  co_await reply_unknown_model(ex, anthropic::protocol(), ex.path_param());
}

}  // namespace

RouteFamily anthropic_routes(pipeline::Gateway& gw) {
  const auto& protocol = anthropic::protocol();
  auto messages = dispatch_handler(gw, protocol, anthropic::messages_codec());
  auto* g = &gw;
  RouteFamily f{"/v3", &protocol, {}};
  for (const char* path : {"/v3/v1/messages", "/v3/messages", "/v3/v3/messages"})
    f.routes.push_back(
        {verb::post, path, "Anthropic: create a message (SSE events when stream=true)", Access::kKey, messages});
  for (const char* path : {"/v3/v1/messages/count_tokens", "/v3/messages/count_tokens"})
    f.routes.push_back({verb::post, path, "Anthropic: estimate a message's input tokens", Access::kKey,
                        [g](server::Exchange& ex) { return count_tokens(*g, ex); }});
  f.routes.push_back({verb::get, "/v3/v1/models", "Anthropic: list models", Access::kPublic,
                      [g](server::Exchange& ex) { return list_models(*g, ex); }});
  f.routes.push_back({verb::get, "/v3/v1/models/{model}", "Anthropic: describe a model", Access::kPublic,
                      [g](server::Exchange& ex) { return get_model(*g, ex); }});
  return f;
}

}  // namespace anygpt::routes
