#include "formats/ollama/provider_request.hpp"

#include <algorithm>
#include <boost/json.hpp>
#include <cstdint>
#include <optional>

#include "formats/common/chunks.hpp"
#include "formats/ollama/request.hpp"

namespace anygpt::formats::ollama {
namespace json = boost::json;

using common::field;

namespace {

using MaybeError = std::optional<core::Error>;

bool all_strings(const json::value& v) {
  return v.is_array() &&
         std::all_of(v.get_array().begin(), v.get_array().end(), [](const json::value& s) { return s.is_string(); });
}

core::Result<std::int64_t> integer(const json::value& v, std::string_view key) {
  json::error_code ec;
  auto n = v.is_number() ? v.to_number<std::int64_t>(ec) : 0;
  if (!v.is_number() || ec) return invalid(std::string(key) + " must be an integer", std::string(key));
  return n;
}

MaybeError copy_number(const json::object& req, std::string_view key, json::object& options) {
  const auto* v = field(req, key);
  if (!v) return std::nullopt;
  if (!v->is_number()) return invalid(std::string(key) + " must be a number", std::string(key));
  options[key] = *v;
  return std::nullopt;
}

MaybeError copy_integer(const json::object& req, std::string_view key, std::string_view to, json::object& options) {
  const auto* v = field(req, key);
  if (!v) return std::nullopt;
  auto n = integer(*v, key);
  if (!n) return n.error();
  options[to] = *n;
  return std::nullopt;
}

// "stop": a string becomes a one-element array; empty strings and arrays are left out.
MaybeError copy_stop(const json::object& req, json::object& options) {
  const auto* v = field(req, "stop");
  if (!v) return std::nullopt;
  if (v->is_string()) {
    if (!v->get_string().empty()) options["stop"] = json::array{*v};
    return std::nullopt;
  }
  if (!all_strings(*v)) return invalid("stop must be a string or an array of strings", "stop");
  if (!v->get_array().empty()) options["stop"] = *v;
  return std::nullopt;
}

// Ollama "options": the sampling fields; max_completion_tokens (else max_tokens) is num_predict.
core::Result<json::object> options_of(const json::object& req) {
  json::object options;
  for (std::string_view key : {"temperature", "top_p", "presence_penalty", "frequency_penalty"})
    if (auto e = copy_number(req, key, options)) return *e;
  for (std::string_view key : {"top_k", "seed"})
    if (auto e = copy_integer(req, key, key, options)) return *e;
  std::string_view max_key = field(req, "max_completion_tokens") ? "max_completion_tokens" : "max_tokens";
  if (auto e = copy_integer(req, max_key, "num_predict", options)) return *e;
  if (auto e = copy_stop(req, options)) return *e;
  return options;
}

// response_format -> "format": json_object is "json", json_schema its schema object ("json" without one).
MaybeError apply_format(const json::object& req, json::object& out) {
  const auto* v = field(req, "response_format");
  if (!v) return std::nullopt;
  auto type = v->is_object() ? common::str(v->get_object(), "type") : std::string_view{};
  if (type == "text") return std::nullopt;
  if (type == "json_object") {
    out["format"] = "json";
    return std::nullopt;
  }
  if (type != "json_schema")
    return invalid("response_format.type must be text, json_object or json_schema", "response_format.type");
  const auto* js = v->get_object().if_contains("json_schema");
  const json::value* schema = js && js->is_object() ? field(js->get_object(), "schema") : nullptr;
  if (schema && !schema->is_object())
    return invalid("response_format.json_schema.schema must be an object", "response_format.json_schema.schema");
  out["format"] = schema ? *schema : json::value("json");
  return std::nullopt;
}

// Tools are OpenAI-shaped in Ollama too. Ollama has no tool_choice: "none" leaves the tools out,
// any other choice is dropped (the model decides).
MaybeError apply_tools(const json::object& req, json::object& out) {
  const auto* v = field(req, "tools");
  if (!v) return std::nullopt;
  if (!v->is_array()) return invalid("tools must be an array", "tools");
  const auto* choice = field(req, "tool_choice");
  if (choice && choice->is_string() && choice->get_string() == "none") return std::nullopt;
  if (!v->get_array().empty()) out["tools"] = *v;
  return std::nullopt;
}

// Ollama answers with one choice.
MaybeError check_n(const json::object& req) {
  const auto* v = field(req, "n");
  if (!v) return std::nullopt;
  auto n = integer(*v, "n");
  if (!n) return n.error();
  if (*n != 1) return invalid("Ollama answers with one choice: n must be 1", "n");
  return std::nullopt;
}

}  // namespace

core::Result<std::string> encode_chat_request(const json::object& canonical, const UpstreamCall& call) {
  const auto* m = canonical.if_contains("messages");
  if (!m || !m->is_array() || m->get_array().empty()) return invalid("messages must be a non-empty array", "messages");
  if (auto e = check_n(canonical)) return *e;
  auto messages = provider_messages(m->get_array());
  if (!messages) return messages.error();
  json::object out{{"model", call.model}, {"messages", std::move(*messages)}};
  if (auto e = apply_tools(canonical, out)) return *e;
  if (auto e = apply_format(canonical, out)) return *e;
  auto options = options_of(canonical);
  if (!options) return options.error();
  if (!options->empty()) out["options"] = std::move(*options);
  out["stream"] = call.stream;  // always explicit: Ollama streams when it is absent
  return json::serialize(out);
}

core::Result<std::string> encode_embed_request(const json::object& canonical, const UpstreamCall& call) {
  const auto* input = field(canonical, "input");
  bool text = input && (input->is_string() || (all_strings(*input) && !input->get_array().empty()));
  if (!text) return invalid("Ollama embeds text only: input must be a string or a non-empty array of strings", "input");
  json::object out{{"model", call.model}, {"input", *input}};
  if (const auto* d = field(canonical, "dimensions")) {
    auto n = integer(*d, "dimensions");
    if (!n) return n.error();
    if (*n <= 0) return invalid("dimensions must be a positive integer", "dimensions");
    out["dimensions"] = *n;
  }
  return json::serialize(out);
}

}  // namespace anygpt::formats::ollama
