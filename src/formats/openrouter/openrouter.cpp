#include "formats/openrouter/openrouter.hpp"

#include <boost/json.hpp>

#include "formats/openai/reshape.hpp"

namespace anygpt::formats::openrouter {
namespace json = boost::json;
using core::ErrorKind;

namespace {

unsigned status_of(const core::Error& e) {
  return core::http_status(e.kind);
}

json::object error_object(const core::Error& e) {
  json::object inner{{"code", status_of(e)}, {"message", e.message}};
  if (!e.provider.empty()) inner["metadata"] = json::object{{"provider_name", e.provider}};
  return inner;
}

std::string error_body(const core::Error& e) {
  return json::serialize(json::object{{"error", error_object(e)}});
}

// The fields @openrouter/sdk's zod schemas require (ChatResult, ChatChoice, ChatStreamChunk):
// id, created, model, object; system_fingerprint present (nullable) on answers but a string or
// absent on chunks; usage an object or absent on chunks; every choice with index and finish_reason.
void require_top(json::object& o, const AnswerContext& ctx, const Moment& now, std::string_view object) {
  if (!o.contains("id") || !o.at("id").is_string()) o["id"] = "gen-" + std::string(ctx.request_id);
  if (!o.contains("created") || !o.at("created").is_int64()) o["created"] = now.wall_ms / 1000;
  if (!o.contains("model") || !o.at("model").is_string()) o["model"] = ctx.model;
  o["object"] = object;
}

void require_choices(json::object& o, std::string_view body_key) {
  auto* choices = o.if_contains("choices");
  if (!choices || !choices->is_array()) {
    o["choices"] = json::array{};
    return;
  }
  std::int64_t i = 0;
  for (auto& c : choices->as_array()) {
    if (!c.is_object()) continue;
    auto& ch = c.as_object();
    if (!ch.contains("index")) ch["index"] = i;
    if (!ch.contains("finish_reason")) ch["finish_reason"] = nullptr;
    if (!ch.contains(body_key) || !ch.at(body_key).is_object()) ch[body_key] = json::object{};
    if (body_key == "message" && !ch.at(body_key).as_object().contains("role"))
      ch[body_key].as_object()["role"] = "assistant";
    ++i;
  }
}

class ChatCodec final : public openai::ReshapingCodec {
 public:
  void reshape_answer(json::object& answer, const AnswerContext& ctx, const Moment& now) const override {
    require_top(answer, ctx, now, "chat.completion");
    if (!answer.contains("system_fingerprint")) answer["system_fingerprint"] = nullptr;
    require_choices(answer, "message");
  }
  void reshape_chunk(json::object& chunk, bool, const AnswerContext& ctx, const Moment& now) const override {
    require_top(chunk, ctx, now, "chat.completion.chunk");
    if (auto* fp = chunk.if_contains("system_fingerprint"); fp && !fp->is_string()) chunk.erase("system_fingerprint");
    if (auto* u = chunk.if_contains("usage"); u && !u->is_object()) chunk.erase("usage");
    require_choices(chunk, "delta");
  }
  // OpenRouter's mid-stream error: a chunk with an "error" object and finish_reason "error".
  std::string error_event(const core::Error& error) const override {
    json::object chunk{
        {"id", "gen-error"},
        {"object", "chat.completion.chunk"},
        {"created", 0},
        {"model", error.provider.empty() ? "unknown" : error.provider},
        {"choices",
         json::array{json::object{{"index", 0}, {"delta", json::object{{"content", ""}}}, {"finish_reason", "error"}}}},
        {"error", error_object(error)}};
    return "data: " + json::serialize(chunk) + "\n\n";
  }
};

std::string_view alternate(std::string_view model) {
  return unprefixed_model(model);
}

}  // namespace

std::string_view unprefixed_model(std::string_view model) {
  auto slash = model.rfind('/');
  if (slash == std::string_view::npos || slash + 1 >= model.size()) return {};
  return model.substr(slash + 1);
}

const Protocol& protocol() {
  static const Protocol kProtocol{"openrouter", KeySources{true, {}, ""}, &error_body, &status_of, false, &alternate};
  return kProtocol;
}

const Codec& chat_codec() {
  static const ChatCodec kCodec;
  return kCodec;
}

std::string models_body(const std::vector<common::ModelInfo>& models) {
  json::array data;
  for (const auto& m : models) {
    std::string owner = m.owned_by.empty() ? "anygpt" : std::string(m.owned_by);
    data.push_back(json::object{
        {"id", m.id},
        {"canonical_slug", m.id},
        {"name", m.id},
        {"created", m.created_s},
        {"description", "Served by anygpt (" + owner + ")"},
        {"context_length", nullptr},
        {"architecture", json::object{{"input_modalities", json::array{"text"}},
                                      {"output_modalities", json::array{"text"}},
                                      {"modality", "text->text"}}},
        {"pricing", json::object{{"prompt", "0"}, {"completion", "0"}}},
        {"top_provider", json::object{{"is_moderated", false}}},
        {"per_request_limits", nullptr},
        {"default_parameters", nullptr},
        {"supported_parameters", json::array{"max_tokens", "temperature", "top_p", "stop", "tools", "tool_choice"}},
        {"supported_voices", nullptr},
        {"links", json::object{{"details", "/v6/models/" + std::string(m.id) + "/endpoints"}}}});
  }
  auto count = data.size();
  return json::serialize(
      json::object{{"data", std::move(data)}, {"links", json::object{{"next", nullptr}}}, {"total_count", count}});
}

}  // namespace anygpt::formats::openrouter
