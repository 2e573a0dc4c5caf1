// The Ollama-compatible /v5 family (ollama-js's host http://host/v5: /v5/api/...), plus the
// original's doubled path /v5/v5/api/chat.
#include "formats/ollama/ollama.hpp"
#include "routes/api_route.hpp"

namespace anygpt::routes {
namespace ollama = formats::ollama;
using boost::asio::awaitable;
using server::http::verb;

namespace {

awaitable<void> tags(pipeline::Gateway& gw, server::Exchange& ex) {
  auto catalog = gw.catalog.load();
  co_await ex.reply(server::Response{200, "application/json", ollama::tags_body(model_infos(*catalog)), {}});
}

awaitable<void> show(pipeline::Gateway& gw, server::Exchange& ex) {
  const auto& protocol = ollama::protocol();
  const bool admitted = co_await admit_key(gw, ex, protocol);
  if (!admitted) co_return;
  auto body = co_await json_body(ex, protocol);
  if (!body) co_return;
  auto name = ollama::show_model(*body);
  if (!name) co_return co_await pipeline::reply_error(ex, name.error(), protocol);
  auto catalog = gw.catalog.load();
  auto model = pipeline::served_model(*catalog, protocol, *name);
  for (const auto& m : model_infos(*catalog))
    if (!model.empty() && m.id == model)
      co_return co_await ex.reply(server::Response{200, "application/json", ollama::show_body(m), {}});
  co_await reply_unknown_model(ex, protocol, *name);
}

}  // namespace

RouteFamily ollama_routes(pipeline::Gateway& gw) {
  const auto& protocol = ollama::protocol();
  auto* g = &gw;
  RouteFamily f{"/v5", &protocol, {}};
  auto chat = dispatch_handler(gw, protocol, ollama::chat_codec());
  for (const char* path : {"/v5/api/chat", "/v5/v5/api/chat"})
    f.routes.push_back({verb::post, path, "Ollama: chat (NDJSON stream unless stream=false)", Access::kKey, chat});
  f.routes.push_back({verb::post, "/v5/api/generate", "Ollama: generate from a prompt (NDJSON unless stream=false)",
                      Access::kKey, dispatch_handler(gw, protocol, ollama::generate_codec())});
  f.routes.push_back({verb::post, "/v5/api/embed", "Ollama: embed inputs", Access::kKey,
                      dispatch_handler(gw, protocol, ollama::embed_codec())});
  f.routes.push_back({verb::post, "/v5/api/embeddings", "Ollama: embed a prompt (legacy)", Access::kKey,
                      dispatch_handler(gw, protocol, ollama::embeddings_codec())});
  f.routes.push_back({verb::get, "/v5/api/tags", "Ollama: list models", Access::kPublic,
                      [g](server::Exchange& ex) { return tags(*g, ex); }});
  f.routes.push_back({verb::post, "/v5/api/show", "Ollama: describe a model", Access::kKey,
                      [g](server::Exchange& ex) { return show(*g, ex); }});
  f.routes.push_back({verb::get, "/v5/api/version", "Ollama: server version", Access::kPublic,
                      [](server::Exchange& ex) -> awaitable<void> {
                        co_await ex.reply(server::Response{200, "application/json", ollama::version_body(), {}});
                      }});
  return f;
}

}  // namespace anygpt::routes
