// Responses function tools and tool_choice as chat tools (built-in tools cannot be run by a
// chat upstream: 400 naming the field).
#include <algorithm>
#include <boost/json.hpp>
#include <vector>

#include "formats/common/chunks.hpp"
#include "formats/responses/request.hpp"

namespace anygpt::formats::responses {
namespace json = boost::json;
using common::field;

namespace {

core::Error hosted_tool(std::string_view type, std::string param) {
  std::string message = "The '";
  message += type;
  message +=
      "' tool is built into OpenAI's Responses API; a chat-completions upstream cannot run it. Declare function "
      "tools, or serve the model from a provider with \"protocol\": \"openai-responses\"";
  return invalid_field(std::move(message), std::move(param));
}

// {type:"function", name, description?, parameters?, strict?} -> {type, function:{...}}.
core::Result<json::object> function_tool(const json::object& tool, const std::string& where) {
  auto name = common::str(tool, "name");
  if (name.empty()) return invalid_field("'" + where + ".name' is required", where + ".name");
  json::object function{{"name", name}};
  if (const auto* d = field(tool, "description")) {
    if (!d->is_string()) return invalid_field("'" + where + ".description' must be a string", where + ".description");
    function["description"] = *d;
  }
  if (const auto* p = field(tool, "parameters")) {
    if (!p->is_object()) return invalid_field("'" + where + ".parameters' must be an object", where + ".parameters");
    function["parameters"] = *p;
  }
  if (const auto* s = field(tool, "strict")) {
    if (!s->is_bool()) return invalid_field("'" + where + ".strict' must be a boolean", where + ".strict");
    function["strict"] = *s;
  }
  return json::object{{"type", "function"}, {"function", std::move(function)}};
}

MaybeError read_tools(const json::object& request, json::array& tools) {
  const auto* v = field(request, "tools");
  if (!v) return std::nullopt;
  if (!v->is_array()) return invalid_field("'tools' must be an array", "tools");
  const auto& list = v->get_array();
  for (std::size_t i = 0; i < list.size(); ++i) {
    auto where = indexed("tools", i);
    if (!list[i].is_object()) return invalid_field("'" + where + "' must be an object", where);
    const auto& tool = list[i].get_object();
    auto type = common::str(tool, "type");
    if (type.empty()) return invalid_field("'" + where + ".type' is required", where + ".type");
    if (type != "function") return hosted_tool(type, where + ".type");
    auto chat_tool = function_tool(tool, where);
    if (!chat_tool) return chat_tool.error();
    tools.push_back(std::move(*chat_tool));
  }
  return std::nullopt;
}

std::string_view tool_name(const json::value& chat_tool) {
  return common::str(chat_tool.get_object().at("function").get_object(), "name");
}

// {type:"allowed_tools", mode, tools:[{type:"function", name}]}: the tools not allowed are not
// sent, and mode becomes the tool_choice.
core::Result<json::value> allowed_tools(const json::object& choice, json::array& tools) {
  auto mode = common::str(choice, "mode");
  if (mode != "auto" && mode != "required")
    return invalid_field("'tool_choice.mode' must be auto or required", "tool_choice.mode");
  const auto* list = field(choice, "tools");
  if (!list || !list->is_array()) return invalid_field("'tool_choice.tools' must be an array", "tool_choice.tools");
  std::vector<std::string_view> names;
  for (std::size_t i = 0; i < list->get_array().size(); ++i) {
    const auto& t = list->get_array()[i];
    auto where = indexed("tool_choice.tools", i);
    const auto* o = t.if_object();
    if (!o || common::str(*o, "type") != "function")
      return hosted_tool(o ? common::str(*o, "type") : "?", where + ".type");
    names.push_back(common::str(*o, "name"));
  }
  json::array kept;
  for (auto& tool : tools)
    if (std::find(names.begin(), names.end(), tool_name(tool)) != names.end()) kept.push_back(std::move(tool));
  tools = std::move(kept);
  return json::value(mode);
}

core::Result<json::value> read_tool_choice(const json::object& request, json::array& tools) {
  const auto* v = field(request, "tool_choice");
  if (!v) return json::value(nullptr);
  if (v->is_string()) {
    auto s = v->get_string();
    if (s != "none" && s != "auto" && s != "required")
      return invalid_field("'tool_choice' must be none, auto, required or an object", "tool_choice");
    return *v;
  }
  if (!v->is_object()) return invalid_field("'tool_choice' must be a string or an object", "tool_choice");
  const auto& choice = v->get_object();
  auto type = common::str(choice, "type");
  if (type == "function") {
    auto name = common::str(choice, "name");
    if (name.empty()) return invalid_field("'tool_choice.name' is required", "tool_choice.name");
    return json::value(json::object{{"type", "function"}, {"function", json::object{{"name", name}}}});
  }
  if (type == "allowed_tools") return allowed_tools(choice, tools);
  return hosted_tool(type.empty() ? "?" : type, "tool_choice.type");
}

}  // namespace

MaybeError add_tools(const json::object& request, json::object& chat) {
  json::array tools;
  if (auto e = read_tools(request, tools)) return e;
  auto choice = read_tool_choice(request, tools);
  if (!choice) return choice.error();
  const auto* parallel = field(request, "parallel_tool_calls");
  if (parallel && !parallel->is_bool())
    return invalid_field("'parallel_tool_calls' must be a boolean", "parallel_tool_calls");
  if (tools.empty()) return std::nullopt;  // (chat hosts refuse tool_choice without tools)
  chat["tools"] = std::move(tools);
  if (!choice->is_null()) chat["tool_choice"] = std::move(*choice);
  if (parallel) chat["parallel_tool_calls"] = *parallel;
  return std::nullopt;
}

}  // namespace anygpt::formats::responses
