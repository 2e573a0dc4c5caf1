#include <boost/json.hpp>

#include "formats/anthropic/provider_parts.hpp"
#include "formats/common/chunks.hpp"

namespace anygpt::formats::anthropic {
namespace json = boost::json;

core::Error upstream_error(std::string message) {
  return core::make_error(core::ErrorKind::kUpstreamError, std::move(message));
}

std::string_view finish_reason(std::string_view stop_reason) {
  if (stop_reason == "max_tokens" || stop_reason == "model_context_window_exceeded") return "length";
  if (stop_reason == "tool_use") return "tool_calls";
  if (stop_reason == "refusal") return "content_filter";
  return "stop";
}

void UsageCounts::update(const json::value* usage) {
  if (!usage || !usage->is_object()) return;
  present = true;
  auto take = [&](std::string_view key, std::int64_t& count) {
    const auto* v = usage->get_object().if_contains(key);
    if (!v || !v->is_number()) return;
    json::error_code ec;
    auto n = v->to_number<std::int64_t>(ec);
    if (!ec && n >= 0) count = n;
  };
  take("input_tokens", input);
  take("cache_creation_input_tokens", cache_creation);
  take("cache_read_input_tokens", cache_read);
  take("output_tokens", output);
}

json::object UsageCounts::canonical() const {
  std::int64_t prompt = input + cache_creation + cache_read;
  json::object out{{"prompt_tokens", prompt}, {"completion_tokens", output}, {"total_tokens", prompt + output}};
  if (cache_read > 0) out["prompt_tokens_details"] = json::object{{"cached_tokens", cache_read}};
  return out;
}

namespace {

// What the content blocks of one Message say, in OpenAI's terms.
struct Reply {
  std::string text;
  std::string reasoning;
  json::array tool_calls;
};

// Text, thinking and tool_use blocks; redacted thinking, server-tool blocks and unknown types
// carry nothing an OpenAI message can hold and are skipped.
std::optional<core::Error> read_block(const json::value& v, Reply& reply) {
  if (!v.is_object()) return upstream_error("anthropic answer: a content block is not an object");
  const auto& block = v.get_object();
  auto type = common::str(block, "type");
  if (type == "text") {
    reply.text += common::str(block, "text");
  } else if (type == "thinking") {
    reply.reasoning += common::str(block, "thinking");
  } else if (type == "tool_use") {
    auto id = common::str(block, "id");
    auto name = common::str(block, "name");
    if (id.empty() || name.empty()) return upstream_error("anthropic answer: a tool_use block without id or name");
    const auto* input = block.if_contains("input");
    json::object function{{"name", name}, {"arguments", input && input->is_object() ? json::serialize(*input) : "{}"}};
    reply.tool_calls.push_back(json::object{{"id", id}, {"type", "function"}, {"function", std::move(function)}});
  }
  return std::nullopt;
}

json::object message_of(Reply reply) {
  json::object message{{"role", "assistant"}};
  message["content"] = reply.text.empty() && !reply.tool_calls.empty() ? json::value(nullptr) : json::value(reply.text);
  if (!reply.reasoning.empty()) message["reasoning_content"] = std::move(reply.reasoning);
  if (!reply.tool_calls.empty()) message["tool_calls"] = std::move(reply.tool_calls);
  return message;
}

}  // namespace

core::Result<json::object> decode_message(std::string_view body, const UpstreamCall& call) {
  if (call.op == Operation::kEmbeddings) return upstream_error("anthropic providers have no embeddings");
  json::error_code ec;
  auto parsed = json::parse(body, ec);
  if (ec || !parsed.is_object()) return upstream_error("anthropic answer is not a JSON object");
  const auto& m = parsed.get_object();
  if (const auto* e = m.if_contains("error"); e && e->is_object())
    return upstream_error("anthropic error: " + std::string(common::str(e->get_object(), "message")));
  const auto* content = m.if_contains("content");
  if (common::str(m, "type") != "message" || !content || !content->is_array())
    return upstream_error("anthropic answer is not a Message (type \"message\" with a content array)");
  Reply reply;
  for (const auto& block : content->get_array())
    if (auto e = read_block(block, reply)) return *e;
  auto model = common::str(m, "model");
  json::object choice{{"index", 0},
                      {"message", message_of(std::move(reply))},
                      {"finish_reason", finish_reason(common::str(m, "stop_reason"))}};
  json::object out{{"id", common::str(m, "id")},
                   {"object", "chat.completion"},
                   {"created", 0},
                   {"model", model.empty() ? call.model : model},
                   {"choices", json::array{std::move(choice)}}};
  UsageCounts usage;
  usage.update(m.if_contains("usage"));
  if (usage.present) out["usage"] = usage.canonical();
  return out;
}

}  // namespace anygpt::formats::anthropic
