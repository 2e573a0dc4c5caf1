#include "mock/media.hpp"

#include <boost/json.hpp>
#include <cmath>

#include "core/base64.hpp"
#include "mock/openai_errors.hpp"

namespace anygpt::mock {
namespace json = boost::json;
using core::ErrorKind;

namespace {

core::Result<json::object> parse_body(std::string_view body) {
  boost::system::error_code ec;
  auto doc = json::parse(json::string_view(body.data(), body.size()), ec);
  if (ec) return core::make_error(ErrorKind::kInvalidRequest, "We could not parse the JSON body of your request.");
  if (!doc.is_object()) return invalid_request("The request body must be a JSON object", {});
  return std::move(doc.get_object());
}

std::string_view speech_type(std::string_view format) {
  if (format == "mp3") return "audio/mpeg";
  if (format == "opus") return "audio/opus";
  if (format == "aac") return "audio/aac";
  if (format == "flac") return "audio/flac";
  if (format == "wav") return "audio/wav";
  if (format == "pcm") return "audio/pcm";
  return {};
}

std::string_view marker(std::string_view content_type) {
  if (content_type == "audio/mpeg") return "ID3";
  if (content_type == "audio/opus") return "OggS";
  if (content_type == "audio/flac") return "fLaC";
  if (content_type == "audio/wav") return "RIFF";
  return "";
}

// A 1x1 transparent PNG.
constexpr std::string_view kPng =
    "iVBORw0KGgoAAAANSUhEUgAAAAEAAAABCAYAAAAfFcSJAAAADUlEQVR42mNk+M9QDwADhgGAWjR9awAAAABJRU5ErkJggg==";

}  // namespace

core::Result<SpeechPlan> plan_speech(std::string_view body) {
  auto o = parse_body(body);
  if (!o) return o.error();
  SpeechPlan plan;
  const auto* model = o->if_contains("model");
  if (!model || !model->is_string() || model->get_string().empty())
    return invalid_request("you must provide a model parameter", "model");
  plan.model = std::string(model->get_string());
  const auto* input = o->if_contains("input");
  if (!input || !input->is_string() || input->get_string().empty())
    return invalid_request("Missing required parameter: 'input'.", "input");
  if (input->get_string().size() > 4096) return invalid_request("input must be at most 4096 characters", "input");
  plan.input = std::string(input->get_string());
  const auto* voice = o->if_contains("voice");
  bool voice_ok = voice && ((voice->is_string() && !voice->get_string().empty()) ||
                            (voice->is_object() && voice->get_object().contains("id")));
  if (!voice_ok) return invalid_request("Missing required parameter: 'voice'.", "voice");
  std::string_view format = "mp3";
  if (const auto* f = o->if_contains("response_format"); f && !f->is_null()) {
    format = f->is_string() ? std::string_view(f->get_string()) : std::string_view("?");
  }
  plan.content_type = std::string(speech_type(format));
  if (plan.content_type.empty())
    return invalid_request("response_format must be mp3, opus, aac, flac, wav or pcm", "response_format");
  if (const auto* s = o->if_contains("speed"); s && !s->is_null()) {
    double v = s->is_number() ? s->to_number<double>() : 0;
    if (v < 0.25 || v > 4.0) return invalid_request("speed must be between 0.25 and 4.0", "speed");
  }
  return plan;
}

std::string speech_bytes(const SpeechPlan& plan) {
  std::string out(marker(plan.content_type));
  out.reserve(out.size() + plan.input.size() * plan.bytes_per_char);
  std::uint64_t state = 1469598103934665603ULL;
  for (char c : plan.input) state = (state ^ static_cast<unsigned char>(c)) * 1099511628211ULL;
  for (std::size_t i = 0; i < plan.input.size() * plan.bytes_per_char; ++i) {
    state = state * 6364136223846793005ULL + 1442695040888963407ULL;
    out += static_cast<char>(state >> 56);
  }
  return out;
}

core::Result<ImagePlan> plan_images(std::string_view body) {
  auto o = parse_body(body);
  if (!o) return o.error();
  ImagePlan plan;
  plan.model = "dall-e-2";
  if (const auto* model = o->if_contains("model"); model && !model->is_null()) {
    if (!model->is_string() || model->get_string().empty()) return invalid_request("model must be a string", "model");
    plan.model = std::string(model->get_string());
  }
  plan.gpt_image = plan.model.rfind("gpt-image", 0) == 0;
  const auto* prompt = o->if_contains("prompt");
  if (!prompt || !prompt->is_string() || prompt->get_string().empty())
    return invalid_request("Missing required parameter: 'prompt'.", "prompt");
  plan.prompt = std::string(prompt->get_string());
  if (const auto* n = o->if_contains("n"); n && !n->is_null()) {
    if (!n->is_int64() || n->get_int64() < 1 || n->get_int64() > 10)
      return invalid_request("n must be between 1 and 10", "n");
    plan.n = static_cast<int>(n->get_int64());
  }
  plan.b64_json = plan.gpt_image;
  if (const auto* f = o->if_contains("response_format"); f && !f->is_null()) {
    if (!f->is_string() || (f->get_string() != "url" && f->get_string() != "b64_json"))
      return invalid_request("response_format must be url or b64_json", "response_format");
    plan.b64_json = plan.gpt_image || f->get_string() == "b64_json";
  }
  return plan;
}

std::string images_body(const ImagePlan& plan, std::int64_t created) {
  json::array data;
  for (int i = 0; i < plan.n; ++i) {
    json::object image;
    if (plan.b64_json)
      image["b64_json"] = kPng;
    else
      image["url"] = "https://mock.invalid/images/" + std::to_string(created) + "-" + std::to_string(i) + ".png";
    image["revised_prompt"] = plan.prompt;
    data.push_back(std::move(image));
  }
  json::object out{{"created", created}, {"data", std::move(data)}};
  if (plan.gpt_image) {
    auto input = static_cast<std::int64_t>((plan.prompt.size() + 3) / 4);
    auto output = static_cast<std::int64_t>(272) * plan.n;
    out["usage"] = json::object{{"input_tokens", input}, {"output_tokens", output}, {"total_tokens", input + output}};
  }
  return json::serialize(out);
}

core::Result<VideoPlan> plan_video(std::string_view body) {
  auto o = parse_body(body);
  if (!o) return o.error();
  const auto* model = o->if_contains("model");
  if (!model || !model->is_string() || model->get_string().empty())
    return invalid_request("you must provide a model parameter", "model");
  const auto* prompt = o->if_contains("prompt");
  if (!prompt || !prompt->is_string() || prompt->get_string().empty()) prompt = o->if_contains("input");
  if (!prompt || !prompt->is_string() || prompt->get_string().empty())
    return invalid_request("Missing required parameter: 'prompt'.", "prompt");
  return VideoPlan{std::string(model->get_string())};
}

std::string video_started_body(std::string_view id) {
  return json::serialize(json::object{{"request_id", id}, {"status", "pending"}});
}

std::string video_done_body(std::string_view id) {
  std::string url = "https://mock.invalid/videos/";
  url.append(id).append(".mp4");
  return json::serialize(json::object{{"request_id", id}, {"status", "done"}, {"video", json::object{{"url", url}}}});
}

}  // namespace anygpt::mock
