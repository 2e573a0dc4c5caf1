// /health, /ready, the OpenAPI document, and the assembly of all route families.
#include <boost/json.hpp>
#include <memory>

#include "routes/api_route.hpp"

namespace anygpt::routes {
namespace json = boost::json;
using server::http::verb;

std::string openapi_document(const std::vector<ApiRoute>& routes) {
  json::object paths;
  for (const auto& r : routes) {
    auto& path_item = paths[r.path];
    if (!path_item.is_object()) path_item = json::object();
    std::string method(server::http::to_string(r.method));
    for (auto& ch : method) ch = static_cast<char>(std::tolower(static_cast<unsigned char>(ch)));
    json::object op{
        {"summary", r.summary},
        {"responses", json::object{{"200", json::object{{"description", "OK"}}},
                                   {"default", json::object{{"description", "Error (OpenAI error shape)"}}}}}};
    if (r.access != Access::kPublic)
      op["security"] =
          json::array{json::object{{"BearerAuth", json::array{}}}, json::object{{"ApiKeyHeader", json::array{}}}};
    if (r.method == verb::post)
      op["requestBody"] = json::object{
          {"required", true},
          {"content", json::object{{"application/json", json::object{{"schema", json::object{{"type", "object"}}}}}}}};
    path_item.as_object()[method] = std::move(op);
  }
  json::object doc{
      {"openapi", "3.1.0"},
      {"info", json::object{{"title", "anygpt API"},
                            {"version", "0.1.0"},
                            {"description", "AI-model gateway: OpenAI-compatible API in front of many providers"}}},
      {"paths", std::move(paths)},
      {"components",
       json::object{{"securitySchemes",
                     json::object{{"BearerAuth", json::object{{"type", "http"}, {"scheme", "bearer"}}},
                                  {"ApiKeyHeader",
                                   json::object{{"type", "apiKey"}, {"in", "header"}, {"name", "x-api-key"}}}}}}}};
  return json::serialize(doc);
}

std::vector<ApiRoute> meta_routes(pipeline::Gateway& gw, std::vector<ApiRoute>& all) {
  auto* g = &gw;
  std::vector<ApiRoute> out;
  out.push_back({verb::get, "/health", "Liveness: the process is up", Access::kPublic,
                 [](server::Exchange& ex) -> boost::asio::awaitable<void> {
                   co_await ex.reply(server::Response{200, "application/json", R"({"status":"ok"})", {}});
                 }});
  out.push_back(
      {verb::get, "/ready", "Readiness: data loaded and accepting traffic", Access::kPublic,
       [g](server::Exchange& ex) -> boost::asio::awaitable<void> {
         bool ready = g->ready.load();
         json::object body{{"status", ready ? "ready" : "not_ready"},
                           {"storage", "filesystem"},
                           {"providers", g->catalog.load()->provider_count()}};
         co_await ex.reply(server::Response{ready ? 200u : 503u, "application/json", json::serialize(body), {}});
       }});
  // The document lists every route, including the two that serve it.
  auto doc = std::make_shared<std::string>();
  auto serve_doc = [doc](server::Exchange& ex) -> boost::asio::awaitable<void> {
    co_await ex.reply(server::Response{200, "application/json", *doc, {}});
  };
  out.push_back({verb::get, "/openapi.json", "This OpenAPI document", Access::kPublic, serve_doc});
  out.push_back({verb::get, "/api/openapi.json", "This OpenAPI document", Access::kPublic, serve_doc});
  std::vector<ApiRoute> everything = all;
  everything.insert(everything.end(), out.begin(), out.end());
  *doc = openapi_document(everything);
  return out;
}

std::vector<ApiRoute> all_routes(pipeline::Gateway& gw) {
  std::vector<ApiRoute> all;
  auto add = [&all](std::vector<ApiRoute> v) { all.insert(all.end(), v.begin(), v.end()); };
  if (gw.config.enable_openai_routes) {
    auto v = openai_routes(gw);
    if (!gw.config.enable_admin_routes) std::erase_if(v, [](const ApiRoute& r) { return r.access == Access::kAdmin; });
    add(std::move(v));
  }
  if (gw.config.enable_models_routes) add(models_routes(gw));
  if (gw.config.enable_admin_routes) add(admin_routes(gw));
  add(meta_routes(gw, all));
  return all;
}

}  // namespace anygpt::routes
