#include <boost/json.hpp>

#include "formats/anthropic/provider_parts.hpp"
#include "formats/anthropic/request.hpp"
#include "formats/common/chunks.hpp"

namespace anygpt::formats::anthropic {
namespace json = boost::json;

namespace {

bool present(const json::value* v) {
  return v && !v->is_null();
}

// max_completion_tokens, else max_tokens, else the call's default (Anthropic requires one).
core::Result<std::int64_t> max_tokens(const json::object& chat, std::int64_t fallback) {
  for (const char* field : {"max_completion_tokens", "max_tokens"}) {
    const auto* v = chat.if_contains(field);
    if (!present(v)) continue;
    if (v->is_int64() && v->get_int64() > 0) return v->get_int64();
    return invalid_field(std::string(field) + " must be a positive integer", field);
  }
  return fallback;
}

// "stop" (a string or strings) as stop_sequences. Anthropic rejects whitespace-only sequences.
std::optional<core::Error> add_stop(const json::object& chat, json::object& out) {
  const auto* stop = chat.if_contains("stop");
  if (!present(stop)) return std::nullopt;
  json::array sequences;
  if (stop->is_string()) {
    sequences.push_back(*stop);
  } else if (stop->is_array()) {
    sequences = stop->get_array();
  } else {
    return invalid_field("stop must be a string or an array of strings", "stop");
  }
  for (const auto& s : sequences)
    if (!s.is_string() || is_blank(s.get_string()))
      return invalid_field("stop sequences must be strings with a non-whitespace character for anthropic providers",
                           "stop");
  if (!sequences.empty()) out["stop_sequences"] = std::move(sequences);
  return std::nullopt;
}

// temperature (0..1 on Anthropic), top_p, top_k, n (1 only), legacy functions (rejected), user, stop.
std::optional<core::Error> add_sampling(const json::object& chat, json::object& out) {
  for (const char* field : {"temperature", "top_p"}) {
    const auto* v = chat.if_contains(field);
    if (!present(v)) continue;
    if (!v->is_number()) return invalid_field(std::string(field) + " must be a number", field);
    out[field] = *v;
  }
  if (const auto* k = chat.if_contains("top_k"); present(k)) {
    if (!k->is_int64()) return invalid_field("top_k must be an integer", "top_k");
    out["top_k"] = *k;
  }
  if (const auto* t = chat.if_contains("temperature"); present(t) && t->to_number<double>() > 1.0)
    return invalid_field("temperature must be between 0 and 1 for anthropic providers", "temperature");
  if (const auto* n = chat.if_contains("n"); present(n) && !(n->is_number() && n->to_number<double>() == 1.0))
    return invalid_field("n must be 1 for anthropic providers (one choice per answer)", "n");
  if (chat.contains("functions"))
    return invalid_field("functions (legacy) is not supported by anthropic providers; use tools", "functions");
  if (auto user = common::str(chat, "user"); !user.empty()) out["metadata"] = json::object{{"user_id", user}};
  return add_stop(chat, out);
}

core::Result<json::object> tool(const json::value& v, const std::string& where) {
  const auto* t = v.if_object();
  const auto* f = t && common::str(*t, "type") == "function" ? t->if_contains("function") : nullptr;
  if (!f || !f->is_object())
    return invalid_field(where + ": only function tools are supported by anthropic providers", where + ".type");
  const auto& function = f->get_object();
  auto name = common::str(function, "name");
  if (name.empty()) return invalid_field(where + ".function.name must be a non-empty string", where + ".function.name");
  json::object out{{"name", name}};
  if (auto description = common::str(function, "description"); !description.empty()) out["description"] = description;
  const auto* schema = function.if_contains("parameters");
  if (present(schema) && !schema->is_object())
    return invalid_field(where + ".function.parameters must be an object", where + ".function.parameters");
  // No parameters is OpenAI's "takes no arguments"; Anthropic needs that said as a schema.
  out["input_schema"] = present(schema) ? *schema : json::object{{"type", "object"}, {"properties", json::object{}}};
  if (const auto* strict = function.if_contains("strict"); strict && strict->is_bool() && strict->get_bool())
    out["strict"] = true;
  return out;
}

core::Result<json::object> tool_choice(const json::value* v) {
  if (!present(v) || (v->is_string() && v->get_string() == "auto")) return json::object{{"type", "auto"}};
  if (v->is_string() && v->get_string() == "none") return json::object{{"type", "none"}};
  if (v->is_string() && v->get_string() == "required") return json::object{{"type", "any"}};
  const auto* f = v->is_object() ? v->get_object().if_contains("function") : nullptr;
  auto name = f && f->is_object() ? common::str(f->get_object(), "name") : std::string_view();
  if (name.empty())
    return invalid_field("tool_choice must be auto, none, required or a named function for anthropic providers",
                         "tool_choice");
  return json::object{{"type", "tool"}, {"name", name}};
}

// tools, tool_choice and parallel_tool_calls:false (disable_parallel_tool_use). Without tools
// there is nothing to choose: tool_choice and parallel_tool_calls are not sent.
std::optional<core::Error> add_function_tools(const json::object& chat, json::object& out) {
  const auto* t = chat.if_contains("tools");
  if (!present(t)) return std::nullopt;
  if (!t->is_array()) return invalid_field("tools must be an array", "tools");
  json::array tools;
  for (std::size_t i = 0; i < t->get_array().size(); ++i) {
    auto converted = tool(t->get_array()[i], "tools[" + std::to_string(i) + "]");
    if (!converted) return converted.error();
    tools.push_back(std::move(*converted));
  }
  if (tools.empty()) return std::nullopt;
  auto choice = tool_choice(chat.if_contains("tool_choice"));
  if (!choice) return choice.error();
  const auto* parallel = chat.if_contains("parallel_tool_calls");
  if (parallel && parallel->is_bool() && !parallel->get_bool() && common::str(*choice, "type") != "none")
    (*choice)["disable_parallel_tool_use"] = true;
  out["tools"] = std::move(tools);
  out["tool_choice"] = std::move(*choice);
  return std::nullopt;
}

// json_schema -> output_config.format (Anthropic structured outputs); text and json_object
// are not sent (json_object has no Anthropic equivalent; OpenAI requires the prompt itself to
// ask for JSON).
std::optional<core::Error> add_response_format(const json::object& chat, json::object& out) {
  const auto* f = chat.if_contains("response_format");
  if (!present(f)) return std::nullopt;
  auto type = f->is_object() ? common::str(f->get_object(), "type") : std::string_view();
  if (type == "text" || type == "json_object") return std::nullopt;
  const auto* spec = type == "json_schema" ? f->get_object().if_contains("json_schema") : nullptr;
  const auto* schema = spec && spec->is_object() ? spec->get_object().if_contains("schema") : nullptr;
  if (!schema || !schema->is_object())
    return invalid_field("response_format must be text, json_object or json_schema with a schema object",
                         "response_format");
  out["output_config"] = json::object{{"format", json::object{{"type", "json_schema"}, {"schema", *schema}}}};
  return std::nullopt;
}

}  // namespace

core::Result<std::string> encode_messages_request(const json::object& chat, const UpstreamCall& call) {
  if (call.op == Operation::kEmbeddings)
    return core::make_error(core::ErrorKind::kInvalidRequest, "embeddings are not supported by anthropic providers");
  auto max = max_tokens(chat, call.default_max_tokens);
  if (!max) return max.error();
  auto conversation = encode_conversation(chat);
  if (!conversation) return conversation.error();
  json::object out{{"model", call.model.empty() ? common::str(chat, "model") : call.model}, {"max_tokens", *max}};
  if (!conversation->system.empty()) out["system"] = conversation->system;
  out["messages"] = std::move(conversation->messages);
  if (auto e = add_sampling(chat, out)) return *e;
  if (auto e = add_function_tools(chat, out)) return *e;
  if (auto e = add_response_format(chat, out)) return *e;
  if (call.stream) out["stream"] = true;
  return json::serialize(out);
}

}  // namespace anygpt::formats::anthropic
