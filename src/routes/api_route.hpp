// routes: one file per client-facing API family, each a table of {method, path, handler}.
// The same tables feed the server's router and the OpenAPI document, so the two never drift.
#pragma once

#include <string>
#include <vector>

#include "pipeline/gateway.hpp"
#include "server/http_server.hpp"

namespace anygpt::routes {

enum class Access { kPublic, kKey, kAdmin };

struct ApiRoute {
  server::http::verb method;
  std::string path;
  std::string summary;
  Access access;
  server::Handler handler;
};

std::vector<ApiRoute> openai_routes(pipeline::Gateway& gw);
std::vector<ApiRoute> models_routes(pipeline::Gateway& gw);
std::vector<ApiRoute> admin_routes(pipeline::Gateway& gw);
// /health, /ready and the OpenAPI document describing `all` (plus themselves).
std::vector<ApiRoute> meta_routes(pipeline::Gateway& gw, std::vector<ApiRoute>& all);

// The gateway's state in Prometheus' text format (GET /metrics).
std::string metrics_text(const pipeline::Gateway& gw);

// An OpenAPI 3.1 document listing exactly `routes`.
std::string openapi_document(const std::vector<ApiRoute>& routes);

// Every route of the enabled families, in registration order.
std::vector<ApiRoute> all_routes(pipeline::Gateway& gw);

}  // namespace anygpt::routes
