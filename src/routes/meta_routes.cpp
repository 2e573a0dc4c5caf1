// /health, /ready, the OpenAPI document, and the assembly of all route families.
#include <boost/json.hpp>
#include <memory>

#include "formats/openai/chat_codec.hpp"
#include "pipeline/dispatch.hpp"
#include "pipeline/shared_state.hpp"
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
                                   {"default", json::object{{"description",
                                                             "Error, in the error shape of the route's protocol"}}}}}};
    if (auto open = r.path.find('{'), close = r.path.find('}'); open != std::string::npos && close != std::string::npos)
      op["parameters"] = json::array{json::object{{"name", r.path.substr(open + 1, close - open - 1)},
                                                  {"in", "path"},
                                                  {"required", true},
                                                  {"schema", json::object{{"type", "string"}}}}};
    if (r.access != Access::kPublic)
      op["security"] =
          json::array{json::object{{"BearerAuth", json::array{}}}, json::object{{"ApiKeyHeader", json::array{}}}};
    if (r.method == verb::post) {
      // (Routes that stream their body are the multipart uploads.)
      const char* type = r.streams_body ? "multipart/form-data" : "application/json";
      op["requestBody"] =
          json::object{{"required", true},
                       {"content", json::object{{type, json::object{{"schema", json::object{{"type", "object"}}}}}}}};
    }
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

namespace {
void gauge(std::string& out, const char* name, const char* help, std::int64_t value, const char* type = "gauge") {
  out += "# HELP ";
  out += name;
  out += ' ';
  out += help;
  out += "\n# TYPE ";
  out += name;
  out += ' ';
  out += type;
  out += '\n';
  out += name;
  out += ' ';
  out += std::to_string(value);
  out += '\n';
}
}  // namespace

// The gateway's state in Prometheus' text format.
std::string metrics_text(const pipeline::Gateway& gw) {
  std::string out;
  gauge(out, "anygpt_ready", "1 when serving", gw.ready.load() ? 1 : 0);
  gauge(out, "anygpt_keys", "user keys known", static_cast<std::int64_t>(gw.keys->entries().size()));
  const auto count = [&out](const char* name, const char* help, const std::atomic<std::uint64_t>& v) {
    gauge(out, name, help, static_cast<std::int64_t>(v.load(std::memory_order_relaxed)), "counter");
  };
  count("anygpt_stream_continuations_total", "stream parts cut mid-answer and handed to the next candidate to continue",
        gw.counters.continuations);
  count("anygpt_hedges_total", "streams whose late first content started a hedge on the next candidate",
        gw.counters.hedges);
  count("anygpt_hedge_wins_total", "hedges that produced content first and served", gw.counters.hedge_wins);
  count("anygpt_hedge_loser_tokens_total", "estimated prompt tokens of the cancelled lanes of hedge races",
        gw.counters.hedge_loser_tokens);
  if (gw.connection_stats) {
    auto c = gw.connection_stats();
    gauge(out, "anygpt_client_connections", "open client connections", c.open);
    gauge(out, "anygpt_client_connections_refused_total", "connections refused at MAX_CONNECTIONS",
          static_cast<std::int64_t>(c.refused_total), "counter");
    gauge(out, "anygpt_client_connections_refused_per_ip_total",
          "connections refused at MAX_UNAUTHENTICATED_CONNECTIONS_PER_IP", static_cast<std::int64_t>(c.refused_per_ip),
          "counter");
    gauge(out, "anygpt_client_deadline_closes_total",
          "client connections closed by a header, body or write deadline (slow or hostile clients)",
          static_cast<std::int64_t>(c.timed_out), "counter");
  }
  count("anygpt_realtime_sessions_total", "/v1/realtime sessions relayed to a provider", gw.counters.realtime_sessions);
  gauge(out, "anygpt_realtime_sessions", "/v1/realtime sessions open now",
        gw.counters.realtime_open.load(std::memory_order_relaxed));
  if (gw.shared) {
    auto m = gw.shared->metrics();
    gauge(out, "anygpt_redis_up", "1 when Redis is reachable (0: degraded, serving from local state)", m.up ? 1 : 0);
    gauge(out, "anygpt_redis_connects_total", "successful (re)connections to Redis",
          static_cast<std::int64_t>(m.connects), "counter");
    gauge(out, "anygpt_redis_outages_total", "times Redis became unreachable", static_cast<std::int64_t>(m.disconnects),
          "counter");
    gauge(out, "anygpt_redis_usage_batches_total", "usage batches applied in Redis",
          static_cast<std::int64_t>(m.batches_pushed), "counter");
    gauge(out, "anygpt_redis_lease_requests_total", "rate-limit leases asked from Redis",
          static_cast<std::int64_t>(m.lease_requests), "counter");
    gauge(out, "anygpt_redis_lease_failures_total", "leases that fell back to local limits",
          static_cast<std::int64_t>(m.lease_failures), "counter");
    gauge(out, "anygpt_redis_record_reads_total", "shared records (video jobs) asked of Redis on a local miss",
          static_cast<std::int64_t>(m.record_reads), "counter");
    gauge(out, "anygpt_redis_record_read_failures_total",
          "record reads Redis could not answer (the local answer stood)",
          static_cast<std::int64_t>(m.record_read_failures), "counter");
    gauge(out, "anygpt_redis_pending_ops", "changes waiting for Redis", m.pending_ops);
  }
  return out;
}

std::vector<ApiRoute> meta_routes(pipeline::Gateway& gw, std::vector<ApiRoute>& all) {
  auto* g = &gw;
  std::vector<ApiRoute> out;
  out.push_back({verb::get, "/health", "Liveness: the process is up", Access::kPublic,
                 [](server::Exchange& ex) -> boost::asio::awaitable<void> {
                   co_await ex.reply(server::Response{200, "application/json", R"({"status":"ok"})", {}});
                 }});
  out.push_back(
      {verb::get, "/ready", "Readiness: data loaded and accepting traffic; storage state", Access::kPublic,
       [g](server::Exchange& ex) -> boost::asio::awaitable<void> {
         bool ready = g->ready.load();
         bool degraded = g->shared && !g->shared->up();
         json::object body{{"status", !ready     ? "not_ready"
                                      : degraded ? "degraded"
                                                 : "ready"},
                           {"storage", g->shared ? "redis" : "filesystem"},
                           {"providers", g->catalog.load()->provider_count()}};
         if (g->shared) body["redis"] = degraded ? "unreachable" : "connected";
         co_await ex.reply(server::Response{ready ? 200u : 503u, "application/json", json::serialize(body), {}});
       }});
  out.push_back({verb::get, "/metrics", "Prometheus metrics", Access::kPublic,
                 [g](server::Exchange& ex) -> boost::asio::awaitable<void> {
                   co_await ex.reply(server::Response{200, "text/plain; version=0.0.4", metrics_text(*g), {}});
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

RouteTable all_routes(pipeline::Gateway& gw) {
  RouteTable table;
  auto& all = table.routes;
  auto add = [&all](std::vector<ApiRoute> v) { all.insert(all.end(), v.begin(), v.end()); };
  auto add_family = [&](bool enabled, RouteFamily (*family)(pipeline::Gateway&)) {
    if (!enabled) return;
    auto f = family(gw);
    table.error_shapes.emplace_back(f.prefix, f.protocol);
    add(std::move(f.routes));
  };
  if (gw.config.enable_openai_routes) {
    auto v = openai_routes(gw);
    if (!gw.config.enable_admin_routes) std::erase_if(v, [](const ApiRoute& r) { return r.access == Access::kAdmin; });
    add(std::move(v));
  }
  if (gw.config.enable_models_routes) add(models_routes(gw));
  if (gw.config.enable_admin_routes) {
    add(admin_routes(gw));
    add(admin_provider_routes(gw));
  }
  if (gw.config.enable_ws_routes) add(ws_routes(gw));
  if (gw.config.enable_ws_routes && gw.config.enable_openai_routes) add(realtime_routes(gw));
  add_family(gw.config.enable_gemini_routes, &gemini_routes);
  add_family(gw.config.enable_anthropic_routes, &anthropic_routes);
  add_family(gw.config.enable_groq_routes, &groq_routes);
  add_family(gw.config.enable_ollama_routes, &ollama_routes);
  add_family(gw.config.enable_openrouter_routes, &openrouter_routes);
  add(meta_routes(gw, all));
  return table;
}

server::ErrorRenderer error_renderer(const RouteTable& table) {
  return [shapes = table.error_shapes](const core::Error& e, std::string_view path) {
    const formats::Protocol* protocol = &formats::openai::protocol();
    std::size_t best = 0;
    for (const auto& [prefix, p] : shapes) {
      bool under =
          path.substr(0, prefix.size()) == prefix && (path.size() == prefix.size() || path[prefix.size()] == '/');
      if (under && prefix.size() > best) {
        best = prefix.size();
        protocol = p;
      }
    }
    return server::Response{protocol->error_status(e), "application/json", protocol->error_body(e), {}};
  };
}

server::Handler dispatch_handler(pipeline::Gateway& gw, const formats::Protocol& protocol, const formats::Codec& codec,
                                 formats::RouteParams (*params)(const server::Exchange&)) {
  auto* g = &gw;
  const auto* p = &protocol;
  const auto* c = &codec;
  return [g, p, c, params](server::Exchange& ex) {
    return pipeline::dispatch(*g, ex, pipeline::thread_client(),
                              pipeline::Route{*p, *c, params ? params(ex) : formats::RouteParams{}});
  };
}

boost::asio::awaitable<bool> admit_key(pipeline::Gateway& gw, server::Exchange& ex, const formats::Protocol& protocol) {
  auto caller = pipeline::authenticate(gw, ex, false, protocol.keys);
  if (!caller) {
    co_await pipeline::reply_error(ex, caller.error(), protocol);
    co_return false;
  }
  auto denied = co_await pipeline::admit(gw, *caller, ex);  // (not inside the condition: GCC 12)
  if (denied) {
    co_await pipeline::reply_error(ex, *denied, protocol);
    co_return false;
  }
  co_return true;
}

boost::asio::awaitable<std::optional<json::value>> json_body(server::Exchange& ex, const formats::Protocol& protocol) {
  json::error_code ec;
  auto v = json::parse(ex.body(), ec);
  if (!ec && v.is_object()) co_return v;
  auto e =
      core::make_error(core::ErrorKind::kInvalidRequest,
                       ec ? "Request body is not valid JSON: " + ec.message() : "Request body must be a JSON object",
                       {}, "invalid_json");
  co_await pipeline::reply_error(ex, e, protocol);
  co_return std::nullopt;
}

boost::asio::awaitable<void> reply_unknown_model(server::Exchange& ex, const formats::Protocol& protocol,
                                                 std::string_view model) {
  auto e = core::make_error(core::ErrorKind::kNotFound,
                            "The model '" + std::string(model) + "' does not exist or no enabled provider serves it",
                            "model", "model_not_found");
  co_await pipeline::reply_error(ex, e, protocol);
}

std::vector<formats::common::ModelInfo> model_infos(const routing::Catalog& catalog) {
  std::vector<formats::common::ModelInfo> out;
  out.reserve(catalog.models().size());
  for (const auto& m : catalog.models()) {
    // The original stores milliseconds; the protocols' contracts are seconds.
    std::int64_t created = m.created > 100000000000LL ? m.created / 1000 : m.created;
    out.push_back(formats::common::ModelInfo{m.id, created, m.owned_by});
  }
  return out;
}

}  // namespace anygpt::routes
