#include "formats/openai/media_codec.hpp"

#include <boost/json.hpp>

#include "formats/common/chunks.hpp"
#include "formats/openai/media_common.hpp"
#include "formats/openai/stream_inspect.hpp"

namespace anygpt::formats::openai {
namespace json = boost::json;

namespace {
using media::invalid;
using media::non_empty_string;
using media::one_of;
using media::passthrough;

// The JSON object body, or the 400 for anything else.
core::Result<const json::object*> object_of(const json::value& body) {
  if (!body.is_object()) return invalid("Request body must be a JSON object", "");
  return &body.get_object();
}

// A JSON object body with a required "model".
struct ModelRequest {
  const json::object* body;
  std::string model;
};
core::Result<ModelRequest> model_request(const json::value& body) {
  auto o = object_of(body);
  if (!o) return o.error();
  const auto* model = (*o)->if_contains("model");
  if (!non_empty_string(model)) return invalid("'model' is required and must be a non-empty string", "model");
  return ModelRequest{*o, std::string(model->get_string())};
}

class ImagesCodec final : public media::RelayingCodec {
 public:
  core::Result<Canonical> decode(const json::value& body, const RouteParams&) const override {
    auto o = object_of(body);
    if (!o) return o.error();
    const auto& r = **o;
    const auto* model = common::field(r, "model");
    if (model && !non_empty_string(model)) return invalid("'model' must be a non-empty string", "model");
    if (!non_empty_string(r.if_contains("prompt"))) return invalid("'prompt' is required", "prompt");
    if (const auto* n = common::field(r, "n"); n && !(n->is_int64() && n->get_int64() >= 1 && n->get_int64() <= 10))
      return invalid("'n' must be an integer from 1 to 10", "n");
    if (const auto* f = common::field(r, "response_format"); f && !one_of(*f, {"url", "b64_json"}))
      return invalid("'response_format' must be \"url\" or \"b64_json\"", "response_format");
    if (const auto* s = common::field(r, "stream"); s && s->is_bool() && s->get_bool())
      return invalid("Streamed image generation is not supported by this gateway; omit 'stream'", "stream");
    return passthrough(Operation::kImages, model ? std::string(model->get_string()) : std::string("dall-e-2"));
  }
};

class SpeechCodec final : public media::RelayingCodec {
 public:
  core::Result<Canonical> decode(const json::value& body, const RouteParams&) const override {
    auto req = model_request(body);
    if (!req) return req.error();
    const auto& r = *req->body;
    const auto* input = r.if_contains("input");
    if (!non_empty_string(input)) return invalid("'input' is required and must be a non-empty string", "input");
    if (common::code_points(input->get_string()) > 4096)
      return invalid("'input' is longer than 4096 characters", "input");
    const auto* voice = r.if_contains("voice");
    bool voice_ok = non_empty_string(voice) || (voice && voice->is_object() && voice->get_object().contains("id"));
    if (!voice_ok) return invalid("'voice' is required (a voice name, or {\"id\"})", "voice");
    if (const auto* f = common::field(r, "response_format");
        f && !one_of(*f, {"mp3", "opus", "aac", "flac", "wav", "pcm"}))
      return invalid("'response_format' must be one of mp3, opus, aac, flac, wav, pcm", "response_format");
    if (const auto* s = common::field(r, "speed");
        s && !(s->is_number() && s->to_number<double>() >= 0.25 && s->to_number<double>() <= 4.0))
      return invalid("'speed' must be a number from 0.25 to 4.0", "speed");
    if (const auto* f = common::field(r, "stream_format"); f && !one_of(*f, {"audio"}))
      return invalid("Only stream_format \"audio\" is supported: the audio streams as it arrives", "stream_format");
    return passthrough(Operation::kSpeech, std::move(req->model));
  }
};

class VideosCodec final : public media::RelayingCodec {
 public:
  core::Result<Canonical> decode(const json::value& body, const RouteParams&) const override {
    auto req = model_request(body);
    if (!req) return req.error();
    const auto& r = *req->body;
    if (!non_empty_string(r.if_contains("prompt")) && !non_empty_string(r.if_contains("input")))
      return invalid("'prompt' is required", "prompt");
    return passthrough(Operation::kVideos, std::move(req->model));
  }
};

}  // namespace

const Codec& videos_codec() {
  static const VideosCodec kCodec;
  return kCodec;
}

std::string video_job_id(std::string_view answer) {
  json::error_code ec;
  auto v = json::parse(answer, ec);
  if (ec || !v.is_object()) return {};
  for (const char* key : {"request_id", "id"})
    if (auto id = common::str(v.get_object(), key); !id.empty()) return std::string(id);
  return {};
}

const Codec& images_codec() {
  static const ImagesCodec kCodec;
  return kCodec;
}

const Codec& speech_codec() {
  static const SpeechCodec kCodec;
  return kCodec;
}

std::int64_t estimate_image_tokens(const json::object& request) {
  const auto* n = request.if_contains("n");
  std::int64_t images = n && n->is_int64() && n->get_int64() > 0 ? n->get_int64() : 1;
  auto prompt = common::str(request, "prompt");
  if (prompt.empty()) prompt = common::str(request, "input");
  return estimate_tokens(common::code_points(prompt)) + 500 * images;
}

std::int64_t estimate_speech_tokens(const json::object& request) {
  return estimate_tokens(common::code_points(common::str(request, "input")));
}

}  // namespace anygpt::formats::openai
