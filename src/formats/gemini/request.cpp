#include "formats/gemini/request.hpp"

#include <algorithm>
#include <boost/json.hpp>
#include <optional>
#include <vector>

#include "formats/common/chunks.hpp"
#include "formats/gemini/gemini.hpp"
#include "formats/gemini/schema.hpp"

namespace anygpt::formats::gemini {
namespace json = boost::json;

namespace {

using MaybeError = std::optional<core::Error>;

bool present(const json::value* v) {
  return v && !v->is_null();
}

struct NumberField {
  std::string_view key;
  std::string_view as;
  bool integer;
};
constexpr NumberField kNumberFields[] = {
    {"temperature", "temperature", false},
    {"topP", "top_p", false},
    {"topK", "top_k", true},
    {"maxOutputTokens", "max_tokens", true},
    {"candidateCount", "n", true},
    {"presencePenalty", "presence_penalty", false},
    {"frequencyPenalty", "frequency_penalty", false},
    {"seed", "seed", true},
};

MaybeError copy_number(const json::object& config, const NumberField& field, json::object& out) {
  const auto* v = config.if_contains(field.key);
  if (!present(v)) return std::nullopt;
  std::string param = "generationConfig." + std::string(field.key);
  if (!v->is_number()) return invalid(param + " must be a number", param);
  if (!field.integer) {
    out[field.as] = *v;
    return std::nullopt;
  }
  json::error_code ec;
  auto n = v->to_number<std::int64_t>(ec);
  if (ec) return invalid(param + " must be an integer", param);
  out[field.as] = n;
  return std::nullopt;
}

MaybeError add_stop(const json::object& config, json::object& out) {
  const auto* v = config.if_contains("stopSequences");
  if (!present(v)) return std::nullopt;
  constexpr std::string_view kParam = "generationConfig.stopSequences";
  if (!v->is_array()) return invalid(std::string(kParam) + " must be an array of strings", std::string(kParam));
  for (const auto& s : v->get_array())
    if (!s.is_string()) return invalid(std::string(kParam) + " must be an array of strings", std::string(kParam));
  if (!v->get_array().empty()) out["stop"] = *v;
  return std::nullopt;
}

// The JSON Schema the answer must follow (null when none): responseJsonSchema as sent, else responseSchema
// converted.
core::Result<json::value> response_schema(const json::object& config) {
  if (const auto* js = config.if_contains("responseJsonSchema"); present(js)) {
    if (!js->is_object())
      return invalid("generationConfig.responseJsonSchema must be a JSON Schema object",
                     "generationConfig.responseJsonSchema");
    return *js;
  }
  if (const auto* s = config.if_contains("responseSchema"); present(s))
    return json_schema_from(*s, "generationConfig.responseSchema");
  return json::value();
}

MaybeError add_response_format(const json::object& config, json::object& out) {
  const std::string param = "generationConfig.responseMimeType";
  std::string_view mime;
  if (const auto* m = config.if_contains("responseMimeType"); present(m)) {
    if (!m->is_string()) return invalid(param + " must be a string", param);
    mime = m->get_string();
  }
  auto schema = response_schema(config);
  if (!schema) return schema.error();
  bool has_schema = !schema->is_null();
  if (mime == "text/plain" && has_schema)
    return invalid("generationConfig.responseSchema needs responseMimeType application/json", param);
  if (mime == "text/plain" || (mime.empty() && !has_schema)) return std::nullopt;
  if (!mime.empty() && mime != "application/json")
    return invalid(param + " \"" + std::string(mime) + "\" is not supported (text/plain or application/json)", param);
  if (!has_schema) {
    out["response_format"] = json::object{{"type", "json_object"}};
    return std::nullopt;
  }
  json::object spec{{"name", "response"}, {"schema", std::move(*schema)}};
  out["response_format"] = json::object{{"type", "json_schema"}, {"json_schema", std::move(spec)}};
  return std::nullopt;
}

MaybeError add_generation_config(const json::object& request, json::object& out) {
  const auto* v = request.if_contains("generationConfig");
  if (!present(v)) return std::nullopt;
  if (!v->is_object()) return invalid("generationConfig must be an object", "generationConfig");
  const auto& config = v->get_object();
  for (const auto& field : kNumberFields)
    if (auto e = copy_number(config, field, out)) return e;
  if (auto e = add_stop(config, out)) return e;
  return add_response_format(config, out);
}

core::Result<json::object> function_tool(const json::value& v, const std::string& path) {
  if (!v.is_object()) return invalid(path + " must be a FunctionDeclaration object", path);
  const auto& d = v.get_object();
  auto name = common::str(d, "name");
  if (name.empty()) return invalid(path + ".name must be a non-empty string", path + ".name");
  json::object function{{"name", name}};
  if (auto description = common::str(d, "description"); !description.empty()) function["description"] = description;
  if (const auto* js = d.if_contains("parametersJsonSchema"); present(js)) {
    if (!js->is_object())
      return invalid(path + ".parametersJsonSchema must be an object", path + ".parametersJsonSchema");
    function["parameters"] = *js;
  } else if (const auto* p = d.if_contains("parameters"); present(p)) {
    auto schema = json_schema_from(*p, path + ".parameters");
    if (!schema) return schema.error();
    function["parameters"] = std::move(*schema);
  }
  return json::object{{"type", "function"}, {"function", std::move(function)}};
}

core::Result<json::array> function_tools(const json::object& request) {
  json::array tools;
  const auto* v = request.if_contains("tools");
  if (!present(v)) return tools;
  if (!v->is_array()) return invalid("tools must be an array of Tool objects", "tools");
  const auto& list = v->get_array();
  for (std::size_t i = 0; i < list.size(); ++i) {
    std::string path = "tools[" + std::to_string(i) + "]";
    if (!list[i].is_object()) return invalid(path + " must be a Tool object", path);
    for (const auto& kv : list[i].get_object())
      if (kv.key() != "functionDeclarations" && !kv.value().is_null())
        return invalid(path + "." + std::string(kv.key()) + " is not supported: only functionDeclarations tools are",
                       path);
    const auto* decls = list[i].get_object().if_contains("functionDeclarations");
    if (!decls || !decls->is_array())
      return invalid(path + ".functionDeclarations must be an array", path + ".functionDeclarations");
    for (std::size_t k = 0; k < decls->get_array().size(); ++k) {
      auto tool = function_tool(decls->get_array()[k], path + ".functionDeclarations[" + std::to_string(k) + "]");
      if (!tool) return tool.error();
      tools.push_back(std::move(*tool));
    }
  }
  return tools;
}

std::string_view tool_name(const json::value& tool) {
  const auto* f = tool.is_object() ? tool.get_object().if_contains("function") : nullptr;
  return f && f->is_object() ? common::str(f->get_object(), "name") : std::string_view();
}

// Keeps the tools named in allowedFunctionNames (all when it is absent or empty); returns the names.
core::Result<std::vector<std::string>> keep_allowed(const json::object& config, json::array& tools) {
  const std::string param = "toolConfig.functionCallingConfig.allowedFunctionNames";
  std::vector<std::string> names;
  const auto* v = config.if_contains("allowedFunctionNames");
  if (!present(v)) return names;
  if (!v->is_array()) return invalid(param + " must be an array of strings", param);
  for (std::size_t k = 0; k < v->get_array().size(); ++k) {
    const auto& name = v->get_array()[k];
    std::string at = param + "[" + std::to_string(k) + "]";
    if (!name.is_string()) return invalid(at + " must be a string", at);
    auto declared = [&](const json::value& t) { return tool_name(t) == name.get_string(); };
    if (std::none_of(tools.begin(), tools.end(), declared))
      return invalid(at + ": no function declaration is named \"" + std::string(name.get_string()) + "\"", at);
    names.emplace_back(name.get_string());
  }
  if (names.empty()) return names;
  auto excluded = [&](const json::value& t) {
    return std::find(names.begin(), names.end(), tool_name(t)) == names.end();
  };
  tools.erase(std::remove_if(tools.begin(), tools.end(), excluded), tools.end());
  return names;
}

// OpenAI's tool_choice for toolConfig.functionCallingConfig (null: none given). ANY and VALIDATED restrict
// `tools` to allowedFunctionNames.
core::Result<json::value> tool_choice(const json::object& request, json::array& tools) {
  const auto* tc = request.if_contains("toolConfig");
  if (!present(tc)) return json::value();
  if (!tc->is_object()) return invalid("toolConfig must be an object", "toolConfig");
  const auto* fc = tc->get_object().if_contains("functionCallingConfig");
  if (!present(fc)) return json::value();
  const std::string path = "toolConfig.functionCallingConfig";
  if (!fc->is_object()) return invalid(path + " must be an object", path);
  const auto& config = fc->get_object();
  const auto* m = config.if_contains("mode");
  if (present(m) && !m->is_string()) return invalid(path + ".mode must be a string", path + ".mode");
  std::string_view mode = present(m) ? std::string_view(m->get_string()) : std::string_view();
  if (mode.empty() || mode == "MODE_UNSPECIFIED") return json::value();
  if (mode == "AUTO") return json::value("auto");
  if (mode == "NONE") return json::value("none");
  if (mode != "ANY" && mode != "VALIDATED")
    return invalid(path + ".mode must be AUTO, ANY, NONE or VALIDATED", path + ".mode");
  auto names = keep_allowed(config, tools);
  if (!names) return names.error();
  if (mode == "VALIDATED") return json::value("auto");
  if (names->size() != 1) return json::value("required");
  return json::value(json::object{{"type", "function"}, {"function", json::object{{"name", names->front()}}}});
}

MaybeError add_tools(const json::object& request, json::object& out) {
  auto tools = function_tools(request);
  if (!tools) return tools.error();
  auto choice = tool_choice(request, *tools);
  if (!choice) return choice.error();
  if (tools->empty()) return std::nullopt;
  out["tools"] = std::move(*tools);
  if (!choice->is_null()) out["tool_choice"] = std::move(*choice);
  return std::nullopt;
}

}  // namespace

core::Result<json::object> chat_request(const json::value& body, std::string_view model, bool stream) {
  if (!body.is_object()) return invalid("the request body must be a JSON object", "");
  const auto& request = body.get_object();
  std::string_view name = strip_model_prefix(model);
  if (name.empty()) return invalid("the model name in the path is empty", "model");
  auto messages = chat_messages(request);
  if (!messages) return messages.error();
  json::object out{{"model", name}, {"messages", std::move(*messages)}};
  if (auto e = add_generation_config(request, out)) return std::move(*e);
  if (auto e = add_tools(request, out)) return std::move(*e);
  if (stream) common::ask_stream(out);
  return out;
}

}  // namespace anygpt::formats::gemini
