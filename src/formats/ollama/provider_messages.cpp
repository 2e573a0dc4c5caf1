#include <boost/json.hpp>
#include <string>
#include <utility>
#include <vector>

#include "formats/common/chunks.hpp"
#include "formats/ollama/provider_request.hpp"
#include "formats/ollama/request.hpp"

namespace anygpt::formats::ollama {
namespace json = boost::json;

namespace {

// The assistant tool calls seen so far: (id, function name), for naming the tool results.
using CallNames = std::vector<std::pair<std::string, std::string>>;

struct Content {
  std::string text;
  json::array images;  // base64 strings
};

// The base64 data of an image_url part ({"url"} object or a bare string). Ollama cannot fetch
// URLs, so only "data:<type>;base64,<data>" URLs can be sent.
core::Result<std::string> image_data(const json::object& part, const std::string& where) {
  std::string at = where + ".image_url";
  std::string_view url;
  if (const auto* v = part.if_contains("image_url"); v && v->is_string()) {
    url = v->get_string();
  } else if (v && v->is_object()) {
    url = common::str(v->get_object(), "url");
    at += ".url";
  }
  if (url.empty()) return invalid(at + " must be an image URL", at);
  if (!url.starts_with("data:"))
    return invalid("Ollama takes only inline base64 images: " + at + " must be a data: URL, not a remote URL", at);
  auto comma = url.find(',');
  if (comma == std::string_view::npos || !url.substr(0, comma).ends_with(";base64") || comma + 1 == url.size())
    return invalid(at + " must be a base64 data: URL (data:<type>;base64,<data>)", at);
  return std::string(url.substr(comma + 1));
}

// Adds one content part: text (and refusal) parts to the text, image_url parts to the images.
std::optional<core::Error> add_part(const json::value& part, const std::string& at, Content& out) {
  if (!part.is_object()) return invalid(at + " must be an object", at);
  const auto& p = part.get_object();
  auto type = common::str(p, "type");
  if (type == "text" || type == "refusal") {
    out.text += common::str(p, type);
    return std::nullopt;
  }
  if (type != "image_url")
    return invalid("Ollama takes only text and base64 image parts, not " + at + " (type \"" + std::string(type) + "\")",
                   at + ".type");
  auto data = image_data(p, at);
  if (!data) return data.error();
  out.images.push_back(json::string(*data));
  return std::nullopt;
}

// The text (parts joined) and images of a message; its refusal when the text is empty.
core::Result<Content> read_content(const json::object& m, const std::string& where) {
  Content out;
  const auto* c = m.if_contains("content");
  if (c && c->is_string()) {
    out.text = c->get_string();
  } else if (c && c->is_array()) {
    const auto& parts = c->get_array();
    for (std::size_t j = 0; j < parts.size(); ++j)
      if (auto e = add_part(parts[j], where + ".content[" + std::to_string(j) + "]", out)) return *e;
  } else if (c && !c->is_null()) {
    return invalid(where + ".content must be a string or an array of parts", where + ".content");
  }
  if (out.text.empty()) out.text = common::str(m, "refusal");
  return out;
}

// OpenAI function-call arguments (JSON text) as the object Ollama wants.
core::Result<json::object> call_arguments(const json::object& fn, const std::string& at) {
  const auto* a = fn.if_contains("arguments");
  if (!a || a->is_null()) return json::object{};
  if (a->is_string()) return common::parse_arguments(a->get_string());
  if (a->is_object()) return a->get_object();
  return invalid(at + ".function.arguments must be a JSON string", at + ".function.arguments");
}

// Assistant tool_calls as Ollama's {"function":{"name","arguments": object}}, remembering their names.
core::Result<json::array> assistant_calls(const json::value& v, const std::string& where, CallNames& names) {
  if (!v.is_array()) return invalid(where + " must be an array", where);
  json::array out;
  for (std::size_t j = 0; j < v.get_array().size(); ++j) {
    std::string at = where + "[" + std::to_string(j) + "]";
    const auto& c = v.get_array()[j];
    const json::value* fn = c.is_object() ? c.get_object().if_contains("function") : nullptr;
    auto name = fn && fn->is_object() ? common::str(fn->get_object(), "name") : std::string_view{};
    if (name.empty()) return invalid(at + ".function.name must be a non-empty string", at + ".function.name");
    auto args = call_arguments(fn->get_object(), at);
    if (!args) return args.error();
    names.emplace_back(common::str(c.get_object(), "id"), name);
    out.push_back(json::object{{"function", json::object{{"name", name}, {"arguments", std::move(*args)}}}});
  }
  return out;
}

// The function name of the call `id` answers ("" when no earlier assistant call has that id).
std::string_view answered_name(const CallNames& names, std::string_view id) {
  for (const auto& [call_id, name] : names)
    if (!id.empty() && call_id == id) return name;
  return {};
}

core::Result<json::object> convert_message(const json::object& m, std::size_t i, CallNames& names) {
  std::string where = "messages[" + std::to_string(i) + "]";
  auto role = common::str(m, "role");
  if (role == "developer") role = "system";
  if (role != "system" && role != "user" && role != "assistant" && role != "tool")
    return invalid(where + ".role \"" + std::string(role) + "\" cannot be sent to Ollama", where + ".role");
  auto content = read_content(m, where);
  if (!content) return content.error();
  json::object out{{"role", role}, {"content", std::move(content->text)}};
  if (!content->images.empty()) out["images"] = std::move(content->images);
  if (const auto* tc = m.if_contains("tool_calls"); role == "assistant" && tc && !tc->is_null()) {
    auto calls = assistant_calls(*tc, where + ".tool_calls", names);
    if (!calls) return calls.error();
    if (!calls->empty()) out["tool_calls"] = std::move(*calls);
  }
  if (role == "tool")
    if (auto name = answered_name(names, common::str(m, "tool_call_id")); !name.empty()) out["tool_name"] = name;
  return out;
}

}  // namespace

core::Result<json::array> provider_messages(const json::array& messages) {
  CallNames names;
  json::array out;
  for (std::size_t i = 0; i < messages.size(); ++i) {
    if (!messages[i].is_object())
      return invalid("messages[" + std::to_string(i) + "] must be an object", "messages[" + std::to_string(i) + "]");
    auto converted = convert_message(messages[i].get_object(), i, names);
    if (!converted) return converted.error();
    out.push_back(std::move(*converted));
  }
  return out;
}

}  // namespace anygpt::formats::ollama
