#include "formats/anthropic/answer.hpp"

#include <algorithm>
#include <boost/json.hpp>

#include "formats/common/chunks.hpp"

namespace anygpt::formats::anthropic {
namespace json = boost::json;

namespace {

bool id_char(char c) {
  return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') || c == '_';
}

json::object tool_use(std::string id, std::string_view name, std::string_view arguments) {
  return json::object{
      {"type", "tool_use"}, {"id", std::move(id)}, {"name", name}, {"input", common::parse_arguments(arguments)}};
}

// tool_calls (and the legacy function_call) as tool_use blocks.
void append_tool_uses(const json::object& message, std::string_view request_id, json::array& content) {
  std::size_t n = 0;
  if (const auto* calls = message.if_contains("tool_calls"); calls && calls->is_array()) {
    for (const auto& call : calls->get_array()) {
      if (!call.is_object()) continue;
      const auto* f = call.get_object().if_contains("function");
      if (!f || !f->is_object()) continue;
      auto id = tool_use_id(common::str(call.get_object(), "id"), request_id, n++);
      content.push_back(
          tool_use(std::move(id), common::str(f->get_object(), "name"), common::str(f->get_object(), "arguments")));
    }
  }
  if (const auto* f = message.if_contains("function_call"); f && f->is_object())
    content.push_back(tool_use(tool_use_id("", request_id, n), common::str(f->get_object(), "name"),
                               common::str(f->get_object(), "arguments")));
}

}  // namespace

std::string message_id(std::string_view upstream_id, std::string_view request_id) {
  std::string id = "msg_";
  for (char c : upstream_id.empty() ? request_id : upstream_id)
    if (id_char(c)) id += c;
  if (id.size() == 4 && !upstream_id.empty()) return message_id("", request_id);
  return id;
}

std::string tool_use_id(std::string_view upstream_id, std::string_view request_id, std::size_t n) {
  if (!upstream_id.empty()) return std::string(upstream_id);
  return "toolu_" + std::string(request_id) + "_" + std::to_string(n);
}

std::string_view stop_reason(std::string_view finish_reason, bool called_tools) {
  if (finish_reason == "length") return "max_tokens";
  if (finish_reason == "content_filter") return "refusal";
  if (finish_reason == "tool_calls" || finish_reason == "function_call" || called_tools) return "tool_use";
  return "end_turn";
}

json::object usage_object(const core::Usage& usage, std::int64_t cached_tokens) {
  std::int64_t cached = std::clamp<std::int64_t>(cached_tokens, 0, std::max<std::int64_t>(usage.prompt_tokens, 0));
  json::object out{{"input_tokens", usage.prompt_tokens - cached}, {"output_tokens", usage.completion_tokens}};
  if (cached > 0) out["cache_read_input_tokens"] = cached;
  return out;
}

std::string encode_message(const json::object& answer, const AnswerContext& ctx) {
  const auto* choice = common::first_choice(answer);
  const json::value* message = choice ? choice->if_contains("message") : nullptr;
  json::array content;
  if (message && message->is_object()) {
    if (auto text = common::message_text(message->get_object()); !text.empty())
      content.push_back(json::object{{"type", "text"}, {"text", std::move(text)}});
    append_tool_uses(message->get_object(), ctx.request_id, content);
  }
  bool called_tools = std::any_of(content.begin(), content.end(), [](const json::value& block) {
    return common::str(block.get_object(), "type") == "tool_use";
  });
  auto parts = common::usage_parts(answer);
  json::object out{{"id", message_id(common::str(answer, "id"), ctx.request_id)},
                   {"type", "message"},
                   {"role", "assistant"},
                   {"model", ctx.model},
                   {"content", std::move(content)},
                   {"stop_reason", stop_reason(choice ? common::str(*choice, "finish_reason") : "", called_tools)},
                   {"stop_sequence", nullptr},
                   {"usage", usage_object(parts.usage, parts.cached_tokens)}};
  return json::serialize(out);
}

}  // namespace anygpt::formats::anthropic
