// The /v1 media routes: images, speech (and the original's static voice and audio-model lists),
// video generation jobs and their polls.
#include <cctype>
#include <chrono>

#include "auth/key_registry.hpp"
#include "formats/openai/chat_codec.hpp"
#include "formats/openai/media_codec.hpp"
#include "formats/openai/upload_codec.hpp"
#include "routes/api_route.hpp"

namespace anygpt::routes {
using boost::asio::awaitable;
using core::ErrorKind;
using core::make_error;
using server::http::verb;

namespace {

// GET /v1/audio/voices and /v1/audio/models: the original's static answers.
constexpr std::string_view kVoices =
    R"({"voices":[{"voice_id":"alloy","name":"Alloy","category":"openai"},{"voice_id":"echo","name":"Echo","category":"openai"},)"
    R"({"voice_id":"fable","name":"Fable","category":"openai"},{"voice_id":"onyx","name":"Onyx","category":"openai"},)"
    R"({"voice_id":"nova","name":"Nova","category":"openai"},{"voice_id":"shimmer","name":"Shimmer","category":"openai"}]})";
constexpr std::string_view kAudioModels =
    R"({"object":"list","data":[{"id":"tts-1","object":"model","created":1699046015,"owned_by":"openai"},)"
    R"({"id":"tts-1-hd","object":"model","created":1699046015,"owned_by":"openai"},)"
    R"({"id":"whisper-1","object":"model","created":1677610602,"owned_by":"openai"}]})";

server::Handler static_json(std::string_view body) {
  return [body](server::Exchange& ex) -> awaitable<void> {
    co_await ex.reply(server::Response{200, "application/json", std::string(body), {}});
  };
}

bool job_id_ok(std::string_view id) {
  if (id.empty() || id.size() > 200) return false;
  for (char c : id)
    if (!std::isalnum(static_cast<unsigned char>(c)) && c != '_' && c != '-' && c != '.') return false;
  return true;
}

// The poll endpoint of a job on the provider that created it: its videos endpoint with the
// trailing "/generations" replaced by "/{id}". nullopt when the provider is gone.
std::optional<upstream::Endpoint> poll_endpoint(const routing::Catalog& catalog, std::string_view provider_id,
                                                std::string_view id, const config::Provider*& provider) {
  for (const auto& model : catalog.models())
    for (const auto& c : catalog.candidates(model.id)) {
      if (c.provider->provider.id != provider_id) continue;
      upstream::Endpoint ep = c.endpoint(formats::Operation::kVideos, false);
      auto at = ep.target.rfind("/generations");
      if (at == std::string::npos) continue;
      ep.target.resize(at + 1);  // ".../videos/"
      ep.target.append(id.data(), id.size());
      provider = &c.provider->provider;
      return ep;
    }
  return std::nullopt;
}

// GET /v1/videos/{id}: asked of the provider that created the job, for the key that created it
// (anything else is a 404: ids are not shared between keys). Not billed.
awaitable<void> poll_video(pipeline::Gateway& gw, server::Exchange& ex) {
  const auto& protocol = formats::openai::protocol();
  auto caller = pipeline::authenticate(gw, ex, false, protocol.keys);
  if (!caller) co_return co_await pipeline::reply_error(ex, caller.error(), protocol);
  auto denied = co_await pipeline::admit(gw, *caller, ex);
  if (denied) co_return co_await pipeline::reply_error(ex, *denied, protocol);
  const std::string id = ex.path_param();
  std::optional<std::string> provider_id;
  if (job_id_ok(id)) {  // here, else (Redis mode) from Redis: any instance answers the poll
    const auto key = auth::key_digest(caller->key->api_key);
    provider_id = co_await pipeline::find_holder(gw, pipeline::Held::kVideoJob, id, key);
  }
  auto catalog = gw.catalog.load();
  const config::Provider* provider = nullptr;
  std::optional<upstream::Endpoint> endpoint;
  if (provider_id) endpoint = poll_endpoint(*catalog, *provider_id, id, provider);
  if (!endpoint) {
    std::string message = "No video job '";
    message.append(id).append("' of yours is known here");
    co_return co_await pipeline::reply_error(
        ex, make_error(ErrorKind::kNotFound, std::move(message), "id", "not_found"), protocol);
  }
  upstream::Request request;
  request.endpoint = &*endpoint;
  request.api_key = provider->api_key;
  request.method = "GET";
  auto res = co_await pipeline::thread_client().call(request);
  if (!res) {
    std::string message = "Provider '";
    message.append(provider->id).append("': ").append(res.error().message);
    co_return co_await pipeline::reply_error(
        ex, make_error(ErrorKind::kUpstreamError, std::move(message), {}, "upstream_error"), protocol);
  }
  std::string type = res->content_type.empty() ? std::string("application/json") : std::move(res->content_type);
  co_await ex.reply(server::Response{res->status, std::move(type), std::move(res->body), {}});
}

// An upload's model may come as ?model= (the original's way) when the form has none.
formats::RouteParams query_model(const server::Exchange& ex) {
  formats::RouteParams p;
  p.model = ex.query_value("model");
  return p;
}

ApiRoute upload_route(pipeline::Gateway& gw, std::string path, std::string summary, const formats::Codec& codec) {
  return ApiRoute{verb::post,
                  std::move(path),
                  std::move(summary),
                  Access::kKey,
                  dispatch_handler(gw, formats::openai::protocol(), codec, &query_model),
                  true};
}

}  // namespace

std::vector<ApiRoute> media_routes(pipeline::Gateway& gw) {
  auto* g = &gw;
  const auto& openai = formats::openai::protocol();
  return {
      {verb::post, "/v1/images/generations", "Generate images (OpenAI format; OpenAI-compatible providers)",
       Access::kKey, dispatch_handler(gw, openai, formats::openai::images_codec())},
      upload_route(gw, "/v1/images/edits", "Edit images (multipart upload, relayed to OpenAI-compatible providers)",
                   formats::openai::image_edits_codec()),
      {verb::post, "/v1/audio/speech", "Text to speech: the audio streams back as the provider sends it", Access::kKey,
       dispatch_handler(gw, openai, formats::openai::speech_codec())},
      upload_route(gw, "/v1/audio/transcriptions",
                   "Speech to text (multipart upload; every response_format relayed as the provider sends it)",
                   formats::openai::transcriptions_codec()),
      upload_route(gw, "/v1/audio/translations", "Speech to English text (multipart upload)",
                   formats::openai::translations_codec()),
      {verb::get, "/v1/audio/voices", "The text-to-speech voices (as the original lists them)", Access::kPublic,
       static_json(kVoices)},
      {verb::get, "/v1/audio/models", "The audio models (as the original lists them)", Access::kPublic,
       static_json(kAudioModels)},
      {verb::post, "/v1/videos/generations", "Start a video generation job (its id polls GET /v1/videos/{id})",
       Access::kKey, dispatch_handler(gw, openai, formats::openai::videos_codec())},
      {verb::get, "/v1/videos/{id}", "Poll a video job (asked of the provider that created it; the creator's key only)",
       Access::kKey, [g](server::Exchange& ex) { return poll_video(*g, ex); }},
  };
}

}  // namespace anygpt::routes
