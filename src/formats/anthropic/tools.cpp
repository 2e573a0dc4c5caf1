#include <boost/json.hpp>

#include "formats/anthropic/request.hpp"
#include "formats/common/chunks.hpp"

namespace anygpt::formats::anthropic {
namespace json = boost::json;

namespace {

// A client tool as an OpenAI function tool. Server tools (web_search_..., bash_..., ...) run
// inside Anthropic's API; no OpenAI-compatible upstream can run them.
core::Result<json::object> function_tool(const json::value& v, const std::string& where) {
  if (!v.is_object()) return invalid_field(where + " must be an object", where);
  const auto& t = v.get_object();
  if (const auto* type = t.if_contains("type"); type && !type->is_null()) {
    if (!type->is_string()) return invalid_field(where + ".type must be a string", where + ".type");
    if (type->get_string() != "custom")
      return invalid_field(where + ".type: tool type '" + std::string(type->get_string()) +
                               "' is not supported; only custom tools (name, description, input_schema) are",
                           where + ".type");
  }
  auto name = common::str(t, "name");
  if (name.empty()) return invalid_field(where + ".name must be a non-empty string", where + ".name");
  const auto* schema = t.if_contains("input_schema");
  if (!schema || !schema->is_object())
    return invalid_field(where + ".input_schema must be an object", where + ".input_schema");
  json::object function{{"name", name}};
  if (auto description = common::str(t, "description"); !description.empty()) function["description"] = description;
  function["parameters"] = *schema;
  if (const auto* strict = t.if_contains("strict"); strict && strict->is_bool() && strict->get_bool())
    function["strict"] = true;
  return json::object{{"type", "function"}, {"function", std::move(function)}};
}

// Validates tool_choice and sets OpenAI's tool_choice / parallel_tool_calls in `out`.
std::optional<core::Error> tool_choice(const json::value& v, json::object& out) {
  if (!v.is_object()) return invalid_field("tool_choice must be an object", "tool_choice");
  const auto& c = v.get_object();
  auto type = common::str(c, "type");
  if (type == "auto") {
    out["tool_choice"] = "auto";
  } else if (type == "any") {
    out["tool_choice"] = "required";
  } else if (type == "none") {
    out["tool_choice"] = "none";
  } else if (type == "tool") {
    auto name = common::str(c, "name");
    if (name.empty()) return invalid_field("tool_choice.name must be a non-empty string", "tool_choice.name");
    out["tool_choice"] = json::object{{"type", "function"}, {"function", json::object{{"name", name}}}};
  } else {
    return invalid_field("tool_choice.type must be one of \"auto\", \"any\", \"tool\", \"none\"", "tool_choice.type");
  }
  if (const auto* d = c.if_contains("disable_parallel_tool_use"); d && d->is_bool() && d->get_bool())
    out["parallel_tool_calls"] = false;
  return std::nullopt;
}

}  // namespace

std::optional<core::Error> add_tools(const json::object& request, json::object& chat) {
  json::array tools;
  if (const auto* t = request.if_contains("tools"); t && !t->is_null()) {
    if (!t->is_array()) return invalid_field("tools must be an array", "tools");
    const auto& list = t->get_array();
    for (std::size_t i = 0; i < list.size(); ++i) {
      auto tool = function_tool(list[i], "tools[" + std::to_string(i) + "]");
      if (!tool) return tool.error();
      tools.push_back(std::move(*tool));
    }
  }
  json::object choice;
  if (const auto* c = request.if_contains("tool_choice"); c && !c->is_null())
    if (auto e = tool_choice(*c, choice)) return e;
  // OpenAI rejects tool_choice without tools (and an empty tools array).
  if (tools.empty()) return std::nullopt;
  chat["tools"] = std::move(tools);
  for (auto& [key, value] : choice) chat[key] = std::move(value);
  return std::nullopt;
}

}  // namespace anygpt::formats::anthropic
