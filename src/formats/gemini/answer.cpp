#include "formats/gemini/answer.hpp"

#include <boost/json.hpp>

#include "formats/common/chunks.hpp"

namespace anygpt::formats::gemini {
namespace json = boost::json;

namespace {

json::array answer_parts(const json::object& message) {
  json::array parts;
  if (auto text = common::str(message, "content"); !text.empty()) parts.push_back(json::object{{"text", text}});
  const auto* calls = message.if_contains("tool_calls");
  if (!calls || !calls->is_array()) return parts;
  for (const auto& c : calls->get_array()) {
    if (!c.is_object()) continue;
    const auto* f = c.get_object().if_contains("function");
    if (!f || !f->is_object()) continue;
    const auto& fn = f->get_object();
    parts.push_back(
        function_call_part(common::str(c.get_object(), "id"), common::str(fn, "name"), common::str(fn, "arguments")));
  }
  return parts;
}

json::object candidate(const json::object& choice, std::size_t position) {
  std::int64_t index = static_cast<std::int64_t>(position);
  if (const auto* i = choice.if_contains("index"); i && i->is_int64()) index = i->get_int64();
  json::array parts;
  if (const auto* m = choice.if_contains("message"); m && m->is_object()) parts = answer_parts(m->get_object());
  json::object content{{"role", "model"}, {"parts", std::move(parts)}};
  return json::object{{"content", std::move(content)},
                      {"finishReason", finish_reason(common::str(choice, "finish_reason"))},
                      {"index", index}};
}

}  // namespace

std::string_view finish_reason(std::string_view openai_reason) {
  if (openai_reason.empty() || openai_reason == "stop" || openai_reason == "tool_calls" ||
      openai_reason == "function_call")
    return "STOP";
  if (openai_reason == "length") return "MAX_TOKENS";
  if (openai_reason == "content_filter") return "SAFETY";
  return "OTHER";
}

json::object usage_metadata(const core::Usage& usage, std::int64_t cached_tokens) {
  json::object u{{"promptTokenCount", usage.prompt_tokens},
                 {"candidatesTokenCount", usage.completion_tokens},
                 {"totalTokenCount", usage.total_tokens}};
  if (cached_tokens > 0) u["cachedContentTokenCount"] = cached_tokens;
  return u;
}

json::object function_call_part(std::string_view id, std::string_view name, std::string_view arguments) {
  json::object call;
  if (!id.empty()) call["id"] = id;
  call["name"] = name;
  call["args"] = common::parse_arguments(arguments);
  return json::object{{"functionCall", std::move(call)}};
}

std::string encode_answer(const json::object& answer, const AnswerContext& ctx) {
  json::array candidates;
  if (const auto* choices = answer.if_contains("choices"); choices && choices->is_array()) {
    const auto& list = choices->get_array();
    for (std::size_t k = 0; k < list.size(); ++k)
      if (list[k].is_object()) candidates.push_back(candidate(list[k].get_object(), k));
  }
  json::object out{{"candidates", std::move(candidates)}};
  if (auto parts = common::usage_parts(answer); parts.usage.present)
    out["usageMetadata"] = usage_metadata(parts.usage, parts.cached_tokens);
  out["modelVersion"] = ctx.model;
  auto id = common::str(answer, "id");
  out["responseId"] = id.empty() ? ctx.request_id : id;
  return json::serialize(out);
}

}  // namespace anygpt::formats::gemini
