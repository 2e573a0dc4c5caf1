#include "formats/openai/capabilities.hpp"

#include <array>
#include <boost/json.hpp>
#include <utility>

namespace anygpt::formats::openai {
namespace json = boost::json;

namespace {

constexpr std::array<std::pair<Capability, std::string_view>, 7> kNames = {{
    {kText, "text"},
    {kImageInput, "image_input"},
    {kImageOutput, "image_output"},
    {kAudioInput, "audio_input"},
    {kAudioOutput, "audio_output"},
    {kTools, "tools"},
    {kAssistantPrefill, "assistant_prefill"},
}};

constexpr std::string_view kImageOutputTag = "[image_output]";

bool mentions_image_output(const json::value* text) {
  return text && text->is_string() &&
         std::string_view(text->get_string()).find(kImageOutputTag) != std::string_view::npos;
}

unsigned content_capabilities(const json::value& content) {
  if (content.is_string()) return mentions_image_output(&content) ? kImageOutput : 0u;
  if (!content.is_array()) return 0;
  unsigned caps = 0;
  for (const auto& part : content.get_array()) {
    if (!part.is_object()) continue;
    const auto& po = part.get_object();
    const auto* type = po.if_contains("type");
    if (!type || !type->is_string()) continue;
    std::string_view t = type->get_string();
    if (t == "image_url" || t == "input_image")
      caps |= kImageInput;
    else if (t == "input_audio")
      caps |= kAudioInput;
    else if ((t == "text" || t == "input_text") && mentions_image_output(po.if_contains("text")))
      caps |= kImageOutput;
  }
  return caps;
}

bool non_empty_array(const json::value* v) {
  return v && v->is_array() && !v->get_array().empty();
}

}  // namespace

unsigned required_capabilities(const json::object& chat_request) {
  unsigned caps = 0;
  if (const auto* messages = chat_request.if_contains("messages"); messages && messages->is_array())
    for (const auto& m : messages->get_array())
      if (m.is_object())
        if (const auto* content = m.get_object().if_contains("content")) caps |= content_capabilities(*content);
  if (const auto* modalities = chat_request.if_contains("modalities"); modalities && modalities->is_array())
    for (const auto& mod : modalities->get_array()) {
      if (!mod.is_string()) continue;
      if (mod.get_string() == "image") caps |= kImageOutput;
      if (mod.get_string() == "audio") caps |= kAudioOutput;
    }
  if (const auto* audio = chat_request.if_contains("audio"); audio && !audio->is_null()) caps |= kAudioOutput;
  if (non_empty_array(chat_request.if_contains("tools")) || non_empty_array(chat_request.if_contains("functions")))
    caps |= kTools;
  return caps;
}

std::optional<Capability> capability_from_name(std::string_view name) {
  for (const auto& [cap, n] : kNames)
    if (n == name) return cap;
  return std::nullopt;
}

std::string capability_names(unsigned mask) {
  std::string out;
  for (const auto& [cap, n] : kNames) {
    if (!(mask & cap)) continue;
    if (!out.empty()) out += ',';
    out += n;
  }
  return out;
}

}  // namespace anygpt::formats::openai
