// The OpenRouter-compatible /v6 family (@openrouter/sdk's serverURL http://host/v6), plus the
// original's doubled path /v6/v6/chat/completions.
#include "formats/openrouter/openrouter.hpp"
#include "routes/api_route.hpp"

namespace anygpt::routes {
using server::http::verb;

RouteFamily openrouter_routes(pipeline::Gateway& gw) {
  const auto& protocol = formats::openrouter::protocol();
  auto chat = dispatch_handler(gw, protocol, formats::openrouter::chat_codec());
  RouteFamily f{"/v6", &protocol, {}};
  for (const char* path : {"/v6/chat/completions", "/v6/v6/chat/completions", "/v6/api/v1/chat/completions"})
    f.routes.push_back(
        {verb::post, path, "OpenRouter: create a chat completion (SSE when stream=true)", Access::kKey, chat});
  auto* g = &gw;
  f.routes.push_back({verb::get, "/v6/models", "OpenRouter: list models", Access::kPublic,
                      [g](server::Exchange& ex) -> boost::asio::awaitable<void> {
                        auto catalog = g->catalog.load();
                        co_await ex.reply(server::Response{
                            200, "application/json", formats::openrouter::models_body(model_infos(*catalog)), {}});
                      }});
  return f;
}

}  // namespace anygpt::routes
