// GET /v1/models and its aliases: the model list in OpenAI's shape (created in seconds).
#include <boost/json.hpp>

#include "routes/api_route.hpp"

namespace anygpt::routes {
namespace json = boost::json;
using server::http::verb;

namespace {
std::string models_body(const routing::Catalog& catalog) {
  json::array data;
  for (const auto& m : catalog.models()) {
    json::object o = m.raw;
    o["id"] = m.id;
    o["object"] = "model";
    // The original stores milliseconds; OpenAI's contract is seconds.
    std::int64_t created = m.created > 100000000000LL ? m.created / 1000 : m.created;
    o["created"] = created;
    o["owned_by"] = m.owned_by.empty() ? "anygpt" : m.owned_by;
    data.push_back(std::move(o));
  }
  return json::serialize(json::object{{"object", "list"}, {"data", std::move(data)}});
}
}  // namespace

std::vector<ApiRoute> models_routes(pipeline::Gateway& gw) {
  auto* g = &gw;
  auto handler = [g](server::Exchange& ex) -> boost::asio::awaitable<void> {
    auto catalog = g->catalog.load();
    co_await ex.reply(server::Response{200, "application/json", models_body(*catalog), {}});
  };
  std::vector<ApiRoute> out;
  for (const char* path : {"/v1/models", "/api/v1/models", "/v1/chat/completions/models", "/v1/chat/completion/models"})
    out.push_back({verb::get, path, "List the models the gateway serves (OpenAI format)", Access::kPublic, handler});
  return out;
}

}  // namespace anygpt::routes
