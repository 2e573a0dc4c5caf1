// routes: one file per client-facing API family, each a table of {method, path, handler}.
// The same tables feed the server's router and the OpenAPI document, so the two never drift.
#pragma once

#include <boost/json/value.hpp>
#include <optional>
#include <string>
#include <vector>

#include "formats/codec.hpp"
#include "formats/common/chunks.hpp"
#include "pipeline/dispatch.hpp"
#include "pipeline/gateway.hpp"
#include "server/http_server.hpp"
#include "ws/connection.hpp"

namespace anygpt::routes {

enum class Access { kPublic, kKey, kAdmin };

struct ApiRoute {
  server::http::verb method;
  std::string path;
  std::string summary;
  Access access;
  server::Handler handler;
  bool streams_body = false;  // a multipart upload: the handler reads the body as it arrives
};

// The routes of one client protocol under its path prefix. Errors under the prefix (the
// server's own 404/405/413 included) are rendered in the protocol's shape.
struct RouteFamily {
  std::string prefix;  // "/v3"
  const formats::Protocol* protocol;
  std::vector<ApiRoute> routes;
};

std::vector<ApiRoute> openai_routes(pipeline::Gateway& gw);  // media_routes included
// /v1 images, audio and videos (routes/media_routes.cpp).
std::vector<ApiRoute> media_routes(pipeline::Gateway& gw);
// POST {prefix}/interactions and GET {prefix}/interactions/{id} with the protocol's keys and
// errors (routes/interaction_routes.cpp): /v1 (OpenAI's), /v2 and /v2/v1beta (Gemini's).
std::vector<ApiRoute> interaction_routes(pipeline::Gateway& gw, const formats::Protocol& protocol,
                                         const std::string& prefix);
std::vector<ApiRoute> models_routes(pipeline::Gateway& gw);
std::vector<ApiRoute> admin_routes(pipeline::Gateway& gw);
// GET {/admin,/api/admin}/providers[/{id}] (keys masked) and /health/providers
// (routes/admin_provider_routes.cpp).
std::vector<ApiRoute> admin_provider_routes(pipeline::Gateway& gw);
// The caller must hold an admin key (401 without a valid key, 403 for a user key).
core::Result<pipeline::Caller> require_admin(pipeline::Gateway& gw, server::Exchange& ex);
// The WebSocket options of /ws and /v1/realtime (WS_* and CLIENT_WRITE_TIMEOUT_MS).
ws::Options ws_options(const config::Config& c);
// GET /ws: the WebSocket chat protocol (routes/ws_routes.cpp, docs/WEBSOCKET.md).
std::vector<ApiRoute> ws_routes(pipeline::Gateway& gw);
// GET /v1/realtime: the OpenAI Realtime relay (routes/realtime_routes.cpp).
std::vector<ApiRoute> realtime_routes(pipeline::Gateway& gw);
RouteFamily gemini_routes(pipeline::Gateway& gw);
RouteFamily anthropic_routes(pipeline::Gateway& gw);
RouteFamily groq_routes(pipeline::Gateway& gw);
RouteFamily ollama_routes(pipeline::Gateway& gw);
RouteFamily openrouter_routes(pipeline::Gateway& gw);
// /health, /ready and the OpenAPI document describing `all` (plus themselves).
std::vector<ApiRoute> meta_routes(pipeline::Gateway& gw, std::vector<ApiRoute>& all);

// A handler that runs `codec` through the pipeline; `params` maps the exchange to what the
// path says (nullptr: nothing).
server::Handler dispatch_handler(pipeline::Gateway& gw, const formats::Protocol& protocol, const formats::Codec& codec,
                                 formats::RouteParams (*params)(const server::Exchange&) = nullptr);

// For routes outside the dispatcher (count tokens, model details): authenticates the key the
// protocol's way and charges the key's one rate budget. False when it answered with an error.
boost::asio::awaitable<bool> admit_key(pipeline::Gateway& gw, server::Exchange& ex, const formats::Protocol& protocol);

// The request body as JSON; nullopt when it answered 400 in the protocol's shape.
boost::asio::awaitable<std::optional<boost::json::value>> json_body(server::Exchange& ex,
                                                                    const formats::Protocol& protocol);

// A 404 in the protocol's shape for a model nobody serves.
boost::asio::awaitable<void> reply_unknown_model(server::Exchange& ex, const formats::Protocol& protocol,
                                                 std::string_view model);

// The catalogue's models for the protocols' model lists (views into `catalog`).
std::vector<formats::common::ModelInfo> model_infos(const routing::Catalog& catalog);

// The gateway's state in Prometheus' text format (GET /metrics).
std::string metrics_text(const pipeline::Gateway& gw);

// An OpenAPI 3.1 document listing exactly `routes`.
std::string openapi_document(const std::vector<ApiRoute>& routes);

// Every route of the enabled families, in registration order, and which protocol renders the
// errors under each prefix (longest prefix wins; OpenAI's elsewhere).
struct RouteTable {
  std::vector<ApiRoute> routes;
  std::vector<std::pair<std::string, const formats::Protocol*>> error_shapes;
};
RouteTable all_routes(pipeline::Gateway& gw);

// The server's error renderer for `table`'s prefixes.
server::ErrorRenderer error_renderer(const RouteTable& table);

}  // namespace anygpt::routes
