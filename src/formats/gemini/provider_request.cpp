#include "formats/gemini/provider_request.hpp"

#include <algorithm>
#include <boost/json.hpp>
#include <optional>
#include <string>
#include <utility>

#include "formats/common/chunks.hpp"
#include "formats/gemini/request.hpp"

namespace anygpt::formats::gemini {
namespace json = boost::json;

using common::field;

namespace {

using MaybeError = std::optional<core::Error>;

struct NumberField {
  std::string_view from;  // canonical (OpenAI) name
  std::string_view to;    // GenerationConfig name
  bool integer;
};
constexpr NumberField kNumbers[] = {
    {"temperature", "temperature", false},
    {"top_p", "topP", false},
    {"top_k", "topK", true},
    {"n", "candidateCount", true},
    {"presence_penalty", "presencePenalty", false},
    {"frequency_penalty", "frequencyPenalty", false},
    {"seed", "seed", true},
};

MaybeError copy_number(const json::object& chat, std::string_view from, std::string_view to, bool integer,
                       json::object& config) {
  const auto* v = field(chat, from);
  if (!v) return std::nullopt;
  std::string param(from);
  if (!v->is_number()) return invalid(param + " must be a number", param);
  if (!integer) {
    config[to] = *v;
    return std::nullopt;
  }
  json::error_code ec;
  auto n = v->to_number<std::int64_t>(ec);
  if (ec) return invalid(param + " must be an integer", param);
  config[to] = n;
  return std::nullopt;
}

MaybeError add_stop(const json::object& chat, json::object& config) {
  const auto* v = field(chat, "stop");
  if (!v) return std::nullopt;
  json::array stops;
  if (v->is_string()) stops.push_back(*v);
  if (v->is_array()) stops = v->get_array();
  auto is_string = [](const json::value& s) { return s.is_string(); };
  if ((!v->is_string() && !v->is_array()) || !std::all_of(stops.begin(), stops.end(), is_string))
    return invalid("stop must be a string or an array of strings", "stop");
  if (!stops.empty()) config["stopSequences"] = std::move(stops);
  return std::nullopt;
}

// text: nothing; json_object: JSON output; json_schema: JSON output following the schema, which Gemini takes
// as JSON Schema in responseJsonSchema (no reduction needed).
MaybeError add_response_format(const json::object& chat, json::object& config) {
  const auto* v = field(chat, "response_format");
  if (!v) return std::nullopt;
  const auto* format = v->is_object() ? &v->get_object() : nullptr;
  auto type = format ? common::str(*format, "type") : std::string_view();
  if (type == "text") return std::nullopt;
  if (type != "json_object" && type != "json_schema")
    return invalid("response_format.type must be text, json_object or json_schema", "response_format.type");
  config["responseMimeType"] = "application/json";
  const auto* spec = type == "json_schema" ? field(*format, "json_schema") : nullptr;
  const auto* schema = spec && spec->is_object() ? field(spec->get_object(), "schema") : nullptr;
  if (schema && !schema->is_object())
    return invalid("response_format.json_schema.schema must be an object", "response_format.json_schema.schema");
  if (schema) config["responseJsonSchema"] = *schema;
  return std::nullopt;
}

MaybeError add_generation_config(const json::object& chat, json::object& out) {
  json::object config;
  for (const auto& n : kNumbers)
    if (auto e = copy_number(chat, n.from, n.to, n.integer, config)) return e;
  std::string_view max_key = field(chat, "max_completion_tokens") ? "max_completion_tokens" : "max_tokens";
  if (auto e = copy_number(chat, max_key, "maxOutputTokens", true, config)) return e;
  if (auto e = add_stop(chat, config)) return e;
  if (auto e = add_response_format(chat, config)) return e;
  if (!config.empty()) out["generationConfig"] = std::move(config);
  return std::nullopt;
}

// Gemini rejects an OBJECT without properties: a function that takes nothing declares no parameters.
bool declares_parameters(const json::object& schema) {
  if (schema.contains("properties") || schema.contains("anyOf")) return true;
  auto type = common::str(schema, "type");
  return !type.empty() && type != "OBJECT";
}

core::Result<json::object> function_declaration(const json::value& tool, const std::string& path) {
  const auto* t = tool.is_object() ? &tool.get_object() : nullptr;
  if (!t || common::str(*t, "type") != "function")
    return invalid(path + ": only function tools can be sent to Gemini", path + ".type");
  const auto* f = field(*t, "function");
  auto name = f && f->is_object() ? common::str(f->get_object(), "name") : std::string_view();
  if (name.empty()) return invalid(path + ".function.name must be a non-empty string", path + ".function.name");
  json::object declaration{{"name", name}};
  if (auto description = common::str(f->get_object(), "description"); !description.empty())
    declaration["description"] = description;
  if (const auto* p = field(f->get_object(), "parameters")) {
    auto schema = gemini_schema(*p);
    if (declares_parameters(schema)) declaration["parameters"] = std::move(schema);
  }
  return declaration;
}

core::Result<json::array> function_declarations(const json::object& chat) {
  json::array declarations;
  const auto* tools = field(chat, "tools");
  if (!tools) return declarations;
  if (!tools->is_array()) return invalid("tools must be an array", "tools");
  for (std::size_t i = 0; i < tools->get_array().size(); ++i) {
    auto d = function_declaration(tools->get_array()[i], "tools[" + std::to_string(i) + "]");
    if (!d) return d.error();
    declarations.push_back(std::move(*d));
  }
  return declarations;
}

// tool_choice as functionCallingConfig: auto AUTO, none NONE, required ANY, a named function ANY limited to it.
core::Result<json::object> calling_config(const json::value& choice) {
  if (choice.is_string()) {
    std::string_view c = choice.get_string();
    if (c == "auto") return json::object{{"mode", "AUTO"}};
    if (c == "none") return json::object{{"mode", "NONE"}};
    if (c == "required") return json::object{{"mode", "ANY"}};
  }
  const auto* o = choice.is_object() ? &choice.get_object() : nullptr;
  const auto* f = o && common::str(*o, "type") == "function" ? field(*o, "function") : nullptr;
  auto name = f && f->is_object() ? common::str(f->get_object(), "name") : std::string_view();
  if (name.empty())
    return invalid("tool_choice must be auto, none, required or {\"type\":\"function\",\"function\":{\"name\"}}",
                   "tool_choice");
  return json::object{{"mode", "ANY"}, {"allowedFunctionNames", json::array{name}}};
}

// tools and tool_choice (dropped when there are no tools); parallel_tool_calls has no Gemini switch.
MaybeError add_tools(const json::object& chat, json::object& out) {
  if (field(chat, "functions") || field(chat, "function_call"))
    return invalid("functions/function_call are not supported for Gemini providers: use tools", "functions");
  auto declarations = function_declarations(chat);
  if (!declarations) return declarations.error();
  if (declarations->empty()) return std::nullopt;
  std::optional<json::object> config;
  if (const auto* choice = field(chat, "tool_choice")) {
    auto c = calling_config(*choice);
    if (!c) return c.error();
    config = std::move(*c);
  }
  out["tools"] = json::array{json::object{{"functionDeclarations", std::move(*declarations)}}};
  if (config) out["toolConfig"] = json::object{{"functionCallingConfig", std::move(*config)}};
  return std::nullopt;
}

}  // namespace

core::Result<json::object> generate_request(const json::object& chat) {
  const auto* messages = field(chat, "messages");
  if (!messages || !messages->is_array()) return invalid("messages must be an array", "messages");
  json::array system_parts;
  auto contents = gemini_contents(messages->get_array(), system_parts);
  if (!contents) return contents.error();
  json::object out;
  out["contents"] = std::move(*contents);
  if (!system_parts.empty()) out["systemInstruction"] = json::object{{"parts", std::move(system_parts)}};
  if (auto e = add_tools(chat, out)) return std::move(*e);
  if (auto e = add_generation_config(chat, out)) return std::move(*e);
  return out;
}

core::Result<json::object> embed_request(const json::object& embeddings, std::string_view model) {
  const auto* input = field(embeddings, "input");
  json::array texts;
  if (input && input->is_string()) texts.push_back(*input);
  if (input && input->is_array()) texts = input->get_array();
  auto is_string = [](const json::value& t) { return t.is_string(); };
  if (!std::all_of(texts.begin(), texts.end(), is_string))
    return invalid("input: Gemini embeds text only, not token arrays", "input");
  if (texts.empty()) return invalid("input must be a string or a non-empty array of strings", "input");
  std::int64_t dimensions = 0;
  if (const auto* d = field(embeddings, "dimensions")) {
    json::error_code ec;
    dimensions = d->is_number() ? d->to_number<std::int64_t>(ec) : 0;
    if (ec || dimensions <= 0) return invalid("dimensions must be a positive integer", "dimensions");
  }
  std::string name = "models/" + std::string(model);
  json::array requests;
  for (auto& text : texts) {
    json::object content{{"parts", json::array{json::object{{"text", std::move(text)}}}}};
    json::object request{{"model", name}, {"content", std::move(content)}};
    if (dimensions > 0) request["outputDimensionality"] = dimensions;
    requests.push_back(std::move(request));
  }
  return json::object{{"requests", std::move(requests)}};
}

}  // namespace anygpt::formats::gemini
