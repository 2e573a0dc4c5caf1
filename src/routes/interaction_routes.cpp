// Interactions (Gemini's Interactions API) on /v1 and /v2: POST runs the interaction once, as a
// chat completion through the pipeline (routing, limits, billing), and keeps the finished
// Interaction for its polls under an id minted at random; GET returns the kept one to the key
// that created it (anything else is a 404). A poll never runs or bills the interaction again.
#include <algorithm>
#include <cctype>

#include "formats/gemini/interactions.hpp"
#include "routes/api_route.hpp"

namespace anygpt::routes {
using boost::asio::awaitable;

namespace {

constexpr std::string_view kIdPrefix = "int_";
constexpr std::size_t kIdHexDigits = 32;  // 128 random bits

bool interaction_id_ok(std::string_view id) {
  if (id.size() != kIdPrefix.size() + kIdHexDigits || !id.starts_with(kIdPrefix)) return false;
  return std::all_of(id.begin() + kIdPrefix.size(), id.end(),
                     [](char c) { return std::isxdigit(static_cast<unsigned char>(c)) != 0; });
}

// Gives the finished interaction its id and keeps it for the creating key's polls.
class KeepInteraction final : public pipeline::AnswerSink {
 public:
  KeepInteraction(pipeline::Gateway& gw, const server::Exchange& ex, const formats::Protocol& protocol)
      : gw_(gw), ex_(ex), protocol_(protocol) {}

  void keep(server::Response& answer) override {
    std::string id(kIdPrefix);
    id += auth::generate_api_key().substr(0, kIdHexDigits);
    answer.body = formats::gemini::with_interaction_id(answer.body, id);
    // (The pipeline authenticated this key before it ran the interaction.)
    const auto key = auth::key_digest(pipeline::extract_api_key(ex_, protocol_.keys));
    pipeline::keep_interaction(gw_, std::move(id), key, answer.body);
  }

 private:
  pipeline::Gateway& gw_;
  const server::Exchange& ex_;
  const formats::Protocol& protocol_;
};

pipeline::Route interaction_route(const formats::Protocol& protocol, pipeline::AnswerSink* sink) {
  return pipeline::Route{protocol, formats::gemini::interactions_codec(), formats::RouteParams{}, sink};
}

// POST .../interactions: runs it (synchronously: the answer is the completed interaction).
awaitable<void> create(pipeline::Gateway& gw, server::Exchange& ex, const formats::Protocol& protocol) {
  KeepInteraction sink(gw, ex, protocol);
  auto route = interaction_route(protocol, &sink);
  co_await pipeline::dispatch(gw, ex, pipeline::thread_client(), route);
}

// GET .../interactions/{id}: the kept interaction, for the key that created it. Not billed.
awaitable<void> poll(pipeline::Gateway& gw, server::Exchange& ex, const formats::Protocol& protocol) {
  const bool admitted = co_await admit_key(gw, ex, protocol);
  if (!admitted) co_return;
  const std::string id = ex.path_param();
  std::optional<std::string> body;
  if (interaction_id_ok(id)) {  // here, else (Redis mode) from Redis: any instance answers
    const auto key = auth::key_digest(pipeline::extract_api_key(ex, protocol.keys));
    body = co_await pipeline::find_interaction(gw, id, key);
  }
  if (!body) {
    std::string message = "No interaction '";
    message.append(id).append("' of yours is kept here (finished interactions are kept for ");
    message.append(std::to_string(gw.config.interactions_ttl_ms / 1000)).append(" s)");
    co_return co_await pipeline::reply_error(
        ex, core::make_error(core::ErrorKind::kNotFound, std::move(message), "id", "not_found"), protocol);
  }
  co_await ex.reply(server::Response{200, "application/json", std::move(*body), {}});
}

}  // namespace

std::vector<ApiRoute> interaction_routes(pipeline::Gateway& gw, const formats::Protocol& protocol,
                                         const std::string& prefix) {
  auto* g = &gw;
  const auto* p = &protocol;
  return {
      {server::http::verb::post, prefix + "/interactions",
       "Run an interaction (Gemini Interactions API) once; the answer is the completed interaction, kept for its "
       "polls",
       Access::kKey, [g, p](server::Exchange& ex) { return create(*g, ex, *p); }},
      {server::http::verb::get, prefix + "/interactions/{id}",
       "The completed interaction, as kept (the creating key only; never run or billed again)", Access::kKey,
       [g, p](server::Exchange& ex) { return poll(*g, ex, *p); }},
  };
}

}  // namespace anygpt::routes
