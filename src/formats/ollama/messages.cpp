#include "formats/ollama/messages.hpp"

#include <algorithm>
#include <boost/json.hpp>
#include <vector>

#include "formats/ollama/request.hpp"

namespace anygpt::formats::ollama {
namespace json = boost::json;

namespace {

// The media type of base64 image data, sniffed from its first bytes' encoding.
std::string_view image_mime(std::string_view b64) {
  if (b64.starts_with("/9j/")) return "image/jpeg";
  if (b64.starts_with("R0lG")) return "image/gif";
  if (b64.starts_with("UklG")) return "image/webp";
  return "image/png";  // "iVBOR", and the guess for anything else
}

}  // namespace

// Ollama "images" (base64 strings) as OpenAI image_url parts. A "data:" URL is passed as is.
core::Result<json::array> image_parts(const json::value* images, const std::string& where) {
  json::array parts;
  if (!images || images->is_null()) return parts;
  if (!images->is_array()) return invalid(where + " must be an array of base64 strings", where);
  const auto& arr = images->get_array();
  for (std::size_t i = 0; i < arr.size(); ++i) {
    std::string at = where + "[" + std::to_string(i) + "]";
    if (!arr[i].is_string() || arr[i].get_string().empty())
      return invalid(at + " must be a non-empty base64 string", at);
    std::string_view data = arr[i].get_string();
    std::string url = data.starts_with("data:")
                          ? std::string(data)
                          : "data:" + std::string(image_mime(data)) + ";base64," + std::string(data);
    parts.push_back(json::object{{"type", "image_url"}, {"image_url", json::object{{"url", std::move(url)}}}});
  }
  return parts;
}

// User content: the text alone, or text and image parts when there are images.
json::value user_content(std::string_view text, json::array images) {
  if (images.empty()) return json::string(text);
  json::array parts;
  if (!text.empty()) parts.push_back(json::object{{"type", "text"}, {"text", text}});
  for (auto& p : images) parts.push_back(std::move(p));
  return parts;
}

namespace {

// An assistant tool call of the conversation, with the id given to it, until a tool message answers it.
struct PendingCall {
  std::string id;
  std::string name;
  bool answered = false;
};

// Ollama assistant tool_calls (arguments as objects) as OpenAI ones with ids "call_<message>_<call>".
core::Result<json::array> assistant_calls(const json::value& v, const std::string& where, std::size_t message,
                                          std::vector<PendingCall>& calls) {
  if (!v.is_array()) return invalid(where + " must be an array", where);
  const auto& arr = v.get_array();
  json::array out;
  for (std::size_t j = 0; j < arr.size(); ++j) {
    std::string at = where + "[" + std::to_string(j) + "].function";
    const json::value* fn = arr[j].is_object() ? arr[j].get_object().if_contains("function") : nullptr;
    if (!fn || !fn->is_object()) return invalid(at + " must be an object", at);
    const auto* name = fn->get_object().if_contains("name");
    if (!name || !name->is_string() || name->get_string().empty())
      return invalid(at + ".name must be a non-empty string", at + ".name");
    const auto* args = fn->get_object().if_contains("arguments");
    std::string arguments = "{}";
    if (args && args->is_object())
      arguments = json::serialize(*args);
    else if (args && args->is_string())
      arguments = args->get_string();
    else if (args && !args->is_null())
      return invalid(at + ".arguments must be an object", at + ".arguments");
    std::string id = "call_" + std::to_string(message) + "_" + std::to_string(j);
    calls.push_back(PendingCall{id, std::string(name->get_string())});
    out.push_back(json::object{{"id", id},
                               {"type", "function"},
                               {"function", json::object{{"name", name->get_string()}, {"arguments", arguments}}}});
  }
  return out;
}

// The id a tool message answers: the first unanswered call named `tool_name`, else the first unanswered.
core::Result<std::string> answered_id(std::vector<PendingCall>& calls, std::string_view tool_name,
                                      const std::string& where) {
  auto open = [](const PendingCall& c) { return !c.answered; };
  auto pick = calls.end();
  if (!tool_name.empty())
    pick =
        std::find_if(calls.begin(), calls.end(), [&](const PendingCall& c) { return open(c) && c.name == tool_name; });
  if (pick == calls.end()) pick = std::find_if(calls.begin(), calls.end(), open);
  if (pick == calls.end())
    return invalid(where + " (role tool) does not answer any earlier assistant tool call", where);
  pick->answered = true;
  return pick->id;
}

// The role-specific OpenAI fields of message `i` (role, content, tool_calls / tool_call_id).
core::Result<json::object> convert_message(const json::object& m, std::string_view role, std::size_t i,
                                           std::vector<PendingCall>& calls) {
  std::string where = "messages[" + std::to_string(i) + "]";
  auto content = optional_string(m, "content", where + ".content");
  if (!content) return content.error();
  auto images = image_parts(m.if_contains("images"), where + ".images");
  if (!images) return images.error();
  if (!images->empty() && role != "user")
    return invalid(where + ".images is only supported on user messages", where + ".images");
  if (role == "user") return json::object{{"role", "user"}, {"content", user_content(*content, std::move(*images))}};
  if (role == "system") return json::object{{"role", "system"}, {"content", *content}};
  if (role == "tool") {
    auto tool_name = optional_string(m, "tool_name", where + ".tool_name");
    if (!tool_name) return tool_name.error();
    auto id = answered_id(calls, *tool_name, where);
    if (!id) return id.error();
    return json::object{{"role", "tool"}, {"tool_call_id", *id}, {"content", *content}};
  }
  json::object out{{"role", "assistant"}, {"content", *content}};
  if (const auto* tc = m.if_contains("tool_calls"); tc && !tc->is_null()) {
    auto converted = assistant_calls(*tc, where + ".tool_calls", i, calls);
    if (!converted) return converted.error();
    if (!converted->empty()) {
      if (content->empty()) out["content"] = nullptr;
      out["tool_calls"] = std::move(*converted);
    }
  }
  return out;
}

}  // namespace

core::Result<json::array> convert_messages(const json::array& messages) {
  std::vector<PendingCall> calls;
  json::array out;
  for (std::size_t i = 0; i < messages.size(); ++i) {
    std::string where = "messages[" + std::to_string(i) + "]";
    if (!messages[i].is_object()) return invalid(where + " must be an object", where);
    const auto& m = messages[i].get_object();
    const auto* role = m.if_contains("role");
    std::string_view r = role && role->is_string() ? std::string_view(role->get_string()) : std::string_view{};
    if (r != "system" && r != "user" && r != "assistant" && r != "tool")
      return invalid(where + ".role must be one of system, user, assistant, tool", where + ".role");
    auto converted = convert_message(m, r, i, calls);
    if (!converted) return converted.error();
    out.push_back(std::move(*converted));
  }
  return out;
}

}  // namespace anygpt::formats::ollama
