// The Groq-compatible /v4 family (groq-sdk's base URL http://host/v4: /v4/openai/v1/...), plus
// the original's doubled path /v4/v4/chat/completions.
#include <boost/json.hpp>

#include "formats/groq/groq.hpp"
#include "routes/api_route.hpp"

namespace anygpt::routes {
using server::http::verb;

RouteFamily groq_routes(pipeline::Gateway& gw) {
  const auto& protocol = formats::groq::protocol();
  auto chat = dispatch_handler(gw, protocol, formats::groq::chat_codec());
  RouteFamily f{"/v4", &protocol, {}};
  for (const char* path : {"/v4/openai/v1/chat/completions", "/v4/chat/completions", "/v4/v4/chat/completions"})
    f.routes.push_back({verb::post, path, "Groq: create a chat completion (SSE when stream=true)", Access::kKey, chat});
  auto models = models_routes(gw);  // OpenAI's model list is Groq's
  f.routes.push_back({verb::get, "/v4/openai/v1/models", "Groq: list models", Access::kPublic, models.front().handler});
  return f;
}

}  // namespace anygpt::routes
