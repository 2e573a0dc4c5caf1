#include <boost/json.hpp>
#include <cctype>
#include <optional>
#include <string>
#include <utility>

#include "formats/common/chunks.hpp"
#include "formats/gemini/provider_request.hpp"
#include "formats/gemini/request.hpp"

namespace anygpt::formats::gemini {
namespace json = boost::json;

namespace {

using MaybeError = std::optional<core::Error>;

std::string indexed(const std::string& path, std::size_t i) {
  return path + "[" + std::to_string(i) + "]";
}

const json::object* object_of(const json::value* v) {
  return v && v->is_object() ? &v->get_object() : nullptr;
}

// A message's text: its string content, or its text (and refusal) parts joined; "" for null content.
core::Result<std::string> text_of(const json::value* content, const std::string& path, std::string_view what) {
  if (!content || content->is_null()) return std::string();
  if (content->is_string()) return std::string(content->get_string());
  if (!content->is_array()) return invalid(path + " must be a string or an array of content parts", path);
  std::string text;
  const auto& parts = content->get_array();
  for (std::size_t j = 0; j < parts.size(); ++j) {
    const auto* part = object_of(&parts[j]);
    auto type = part ? common::str(*part, "type") : std::string_view();
    if (type != "text" && type != "refusal")
      return invalid(indexed(path, j) + ": " + std::string(what) + " can only carry text parts", indexed(path, j));
    text += common::str(*part, type);
  }
  return text;
}

// The media type of an image URL from its extension ("" when it has no known one).
std::string_view guessed_image_type(std::string_view url) {
  url = url.substr(0, url.find_first_of("?#"));
  auto dot = url.rfind('.');
  if (dot == std::string_view::npos || url.find('/', dot) != std::string_view::npos) return {};
  std::string ext(url.substr(dot + 1));
  for (char& c : ext) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
  static constexpr std::pair<std::string_view, std::string_view> kTypes[] = {
      {"png", "image/png"},   {"jpg", "image/jpeg"},  {"jpeg", "image/jpeg"}, {"gif", "image/gif"},
      {"webp", "image/webp"}, {"heic", "image/heic"}, {"heif", "image/heif"}};
  for (auto [e, type] : kTypes)
    if (ext == e) return type;
  return {};
}

// {"inlineData":{"mimeType","data"}} of a base64 data URL ("data:<type>[;...];base64,<data>").
core::Result<json::object> inline_data(std::string_view url, const std::string& param) {
  auto comma = url.find(',');
  std::string_view header = url.substr(5, comma == std::string_view::npos ? 0 : comma - 5);
  std::string_view mime = header.substr(0, header.find(';'));
  if (comma == std::string_view::npos || !header.ends_with(";base64") || mime.empty())
    return invalid(param + " must be a base64 data URL (data:<media type>;base64,<data>)", param);
  return json::object{{"inlineData", json::object{{"mimeType", mime}, {"data", url.substr(comma + 1)}}}};
}

core::Result<json::object> image_part(const json::object& part, const std::string& path) {
  const auto* v = part.if_contains("image_url");
  std::string_view url;
  if (v && v->is_string()) url = v->get_string();
  if (const auto* o = object_of(v)) url = common::str(*o, "url");
  std::string param = path + ".image_url.url";
  if (url.starts_with("data:")) return inline_data(url, param);
  if (!url.starts_with("https://") && !url.starts_with("http://"))
    return invalid(param + " must be a data: URL or an http(s) URL", param);
  json::object file;
  if (auto mime = guessed_image_type(url); !mime.empty()) file["mimeType"] = mime;
  file["fileUri"] = url;
  return json::object{{"fileData", std::move(file)}};
}

core::Result<json::object> audio_part(const json::object& part, const std::string& path) {
  const auto* audio = object_of(part.if_contains("input_audio"));
  auto data = audio ? common::str(*audio, "data") : std::string_view();
  auto format = audio ? common::str(*audio, "format") : std::string_view();
  if (data.empty() || format.empty())
    return invalid(path + ".input_audio needs a base64 data and a format", path + ".input_audio");
  json::object inline_audio{{"mimeType", "audio/" + std::string(format)}, {"data", data}};
  return json::object{{"inlineData", std::move(inline_audio)}};
}

core::Result<json::object> file_part(const json::object& part, const std::string& path) {
  const auto* file = object_of(part.if_contains("file"));
  auto data = file ? common::str(*file, "file_data") : std::string_view();
  if (!data.starts_with("data:"))
    return invalid(path + ".file: Gemini takes inline file_data (a data: URL) only, not file_id", path + ".file");
  return inline_data(data, path + ".file.file_data");
}

// One user content part as a Gemini part; {} for an empty text part (skipped: Gemini rejects empty text).
core::Result<json::object> user_part(const json::value& v, const std::string& path) {
  const auto* part = object_of(&v);
  if (!part) return invalid(path + " must be a content part object", path);
  auto type = common::str(*part, "type");
  if (type == "text") {
    auto text = common::str(*part, "text");
    return text.empty() ? json::object{} : json::object{{"text", text}};
  }
  if (type == "image_url") return image_part(*part, path);
  if (type == "input_audio") return audio_part(*part, path);
  if (type == "file") return file_part(*part, path);
  return invalid(path + ".type \"" + std::string(type) +
                     "\" cannot be sent to Gemini (text, image_url, input_audio and file parts can)",
                 path + ".type");
}

std::string_view thought_signature(const json::object& call) {
  const auto* extra = object_of(call.if_contains("extra_content"));
  const auto* google = extra ? object_of(extra->if_contains("google")) : nullptr;
  return google ? common::str(*google, "thought_signature") : std::string_view();
}

// functionCall parts for an assistant message's tool_calls. The first call without a thoughtSignature (from
// extra_content.google.thought_signature) gets the documented skip sentinel when no earlier call had one.
MaybeError add_function_calls(const json::object& message, const std::string& path, json::array& parts) {
  const auto* calls = message.if_contains("tool_calls");
  if (!calls || calls->is_null()) return std::nullopt;
  std::string at = path + ".tool_calls";
  if (!calls->is_array()) return invalid(at + " must be an array", at);
  for (std::size_t k = 0; k < calls->get_array().size(); ++k) {
    std::string call_path = indexed(at, k);
    const auto* c = object_of(&calls->get_array()[k]);
    const auto* f = c ? object_of(c->if_contains("function")) : nullptr;
    if (!f || (c->contains("type") && common::str(*c, "type") != "function"))
      return invalid(call_path + " must be a function tool call", call_path);
    auto name = common::str(*f, "name");
    if (name.empty())
      return invalid(call_path + ".function.name must be a non-empty string", call_path + ".function.name");
    json::object call;
    if (auto id = common::str(*c, "id"); !id.empty()) call["id"] = id;
    call["name"] = name;
    call["args"] = common::parse_arguments(common::str(*f, "arguments"));
    json::object part{{"functionCall", std::move(call)}};
    if (auto signature = thought_signature(*c); !signature.empty())
      part["thoughtSignature"] = signature;
    else if (k == 0)
      part["thoughtSignature"] = kSkipSignature;
    parts.push_back(std::move(part));
  }
  return std::nullopt;
}

// A tool result as functionResponse.response: the content when it is a JSON object, else {"result": text}.
json::object tool_response(const std::string& text) {
  json::error_code ec;
  auto v = json::parse(text, ec);
  if (!ec && v.is_object()) return std::move(v.get_object());
  return json::object{{"result", text}};
}

class ContentsBuilder {
 public:
  explicit ContentsBuilder(const json::array& messages) : messages_(messages) {}
  MaybeError add(std::size_t i, json::array& system_parts);
  json::array take() { return std::move(contents_); }

 private:
  MaybeError add_user(const json::object& message, const std::string& path);
  MaybeError add_assistant(const json::object& message, const std::string& path);
  MaybeError add_tool(const json::object& message, std::size_t i, const std::string& path);
  std::string_view called_name(std::size_t before, std::string_view id) const;
  void push(std::string_view role, json::array parts);

  const json::array& messages_;
  json::array contents_;
};

MaybeError ContentsBuilder::add(std::size_t i, json::array& system_parts) {
  std::string path = indexed("messages", i);
  const auto* message = object_of(&messages_[i]);
  if (!message) return invalid(path + " must be a message object", path);
  auto role = common::str(*message, "role");
  if (role == "system" || role == "developer") {
    auto text = text_of(message->if_contains("content"), path + ".content", "system messages");
    if (!text) return text.error();
    if (!text->empty()) system_parts.push_back(json::object{{"text", std::move(*text)}});
    return std::nullopt;
  }
  if (role == "user") return add_user(*message, path);
  if (role == "assistant") return add_assistant(*message, path);
  if (role == "tool") return add_tool(*message, i, path);
  return invalid(path + ".role must be system, developer, user, assistant or tool", path + ".role");
}

MaybeError ContentsBuilder::add_user(const json::object& message, const std::string& path) {
  const auto* content = message.if_contains("content");
  json::array parts;
  if (content && content->is_string()) {
    if (!content->get_string().empty()) parts.push_back(json::object{{"text", content->get_string()}});
  } else if (content && content->is_array()) {
    for (std::size_t j = 0; j < content->get_array().size(); ++j) {
      auto part = user_part(content->get_array()[j], indexed(path + ".content", j));
      if (!part) return part.error();
      if (!part->empty()) parts.push_back(std::move(*part));
    }
  } else if (content && !content->is_null()) {
    return invalid(path + ".content must be a string or an array of content parts", path + ".content");
  }
  push("user", std::move(parts));
  return std::nullopt;
}

MaybeError ContentsBuilder::add_assistant(const json::object& message, const std::string& path) {
  auto text = text_of(message.if_contains("content"), path + ".content", "assistant messages");
  if (!text) return text.error();
  json::array parts;
  if (!text->empty()) parts.push_back(json::object{{"text", std::move(*text)}});
  if (auto e = add_function_calls(message, path, parts)) return e;
  push("model", std::move(parts));
  return std::nullopt;
}

MaybeError ContentsBuilder::add_tool(const json::object& message, std::size_t i, const std::string& path) {
  auto id = common::str(message, "tool_call_id");
  std::string param = path + ".tool_call_id";
  if (id.empty()) return invalid(param + " must be a non-empty string", param);
  auto name = called_name(i, id);
  if (name.empty())
    return invalid(param + " \"" + std::string(id) + "\" answers no tool call of an earlier assistant message", param);
  auto text = text_of(message.if_contains("content"), path + ".content", "tool messages");
  if (!text) return text.error();
  json::object response{{"id", id}, {"name", name}, {"response", tool_response(*text)}};
  push("user", json::array{json::object{{"functionResponse", std::move(response)}}});
  return std::nullopt;
}

// The function name of the nearest earlier assistant tool call with this id ("" when there is none).
std::string_view ContentsBuilder::called_name(std::size_t before, std::string_view id) const {
  for (std::size_t k = before; k-- > 0;) {
    const auto* message = object_of(&messages_[k]);
    const auto* calls = message ? message->if_contains("tool_calls") : nullptr;
    if (!calls || !calls->is_array() || common::str(*message, "role") != "assistant") continue;
    for (const auto& c : calls->get_array()) {
      const auto* call = object_of(&c);
      const auto* f = call ? object_of(call->if_contains("function")) : nullptr;
      if (f && common::str(*call, "id") == id) return common::str(*f, "name");
    }
  }
  return {};
}

// Appends a Content, or merges the parts into the last one when it has the same role (Gemini wants the
// answers to parallel calls in one Content, and alternating turns).
void ContentsBuilder::push(std::string_view role, json::array parts) {
  if (parts.empty()) return;
  if (!contents_.empty()) {
    auto& last = contents_.back().get_object();
    if (common::str(last, "role") == role) {
      auto& merged = last["parts"].get_array();
      for (auto& p : parts) merged.push_back(std::move(p));
      return;
    }
  }
  json::object content;
  content["role"] = role;
  content["parts"] = std::move(parts);
  contents_.push_back(std::move(content));
}

}  // namespace

core::Result<json::array> gemini_contents(const json::array& messages, json::array& system_parts) {
  ContentsBuilder builder(messages);
  for (std::size_t i = 0; i < messages.size(); ++i)
    if (auto e = builder.add(i, system_parts)) return std::move(*e);
  auto contents = builder.take();
  if (contents.empty())
    return invalid("messages must hold at least one user, assistant or tool message with content", "messages");
  return contents;
}

}  // namespace anygpt::formats::gemini
