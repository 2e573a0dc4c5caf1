#include <boost/json.hpp>
#include <cctype>
#include <optional>
#include <utility>
#include <vector>

#include "formats/common/chunks.hpp"
#include "formats/gemini/request.hpp"

namespace anygpt::formats::gemini {
namespace json = boost::json;

namespace {

using MaybeError = std::optional<core::Error>;

// Consecutive contents of one side: (index in contents, its parts).
struct Turn {
  bool model = false;
  std::vector<std::pair<std::size_t, const json::array*>> contents;
};

std::string part_path(std::size_t i, std::size_t j) {
  return "contents[" + std::to_string(i) + "].parts[" + std::to_string(j) + "]";
}

bool is_thought(const json::object& part) {
  const auto* t = part.if_contains("thought");
  return t && t->is_bool() && t->get_bool();
}

// The lower-cased media type without parameters ("Audio/L16; rate=24000" -> "audio/l16").
std::string media_type(std::string_view mime) {
  std::string type(mime.substr(0, mime.find(';')));
  while (!type.empty() && type.back() == ' ') type.pop_back();
  for (char& c : type) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
  return type;
}

// OpenAI's input_audio format for an audio/* media type: "wav", "mp3", else the subtype without "x-".
std::string audio_format(std::string_view type) {
  std::string_view sub = type.substr(type.find('/') + 1);
  if (sub == "wav" || sub == "x-wav" || sub == "wave" || sub == "vnd.wave") return "wav";
  if (sub == "mpeg" || sub == "mp3" || sub == "mpeg3" || sub == "x-mp3" || sub == "x-mpeg") return "mp3";
  if (sub.starts_with("x-")) sub.remove_prefix(2);
  return std::string(sub);
}

core::Error unsupported(const json::object& part, const std::string& path, std::string_view allowed) {
  if (part.empty()) return invalid(path + " is an empty part", path);
  return invalid(path + ": unsupported part " + std::string(part.begin()->key()) + " (" + std::string(allowed) + ")",
                 path);
}

core::Result<json::object> inline_part(const json::value& v, const std::string& path) {
  if (!v.is_object()) return invalid(path + " must be an object", path);
  const auto& o = v.get_object();
  auto mime = common::str(o, "mimeType");
  const auto* data = o.if_contains("data");
  if (mime.empty()) return invalid(path + ".mimeType must be a non-empty string", path + ".mimeType");
  if (!data || !data->is_string()) return invalid(path + ".data must be a base64 string", path + ".data");
  std::string type = media_type(mime);
  if (type.starts_with("image/")) {
    std::string url = "data:" + type + ";base64," + std::string(data->get_string());
    return json::object{{"type", "image_url"}, {"image_url", json::object{{"url", std::move(url)}}}};
  }
  if (type.starts_with("audio/")) {
    json::object audio{{"data", data->get_string()}, {"format", audio_format(type)}};
    return json::object{{"type", "input_audio"}, {"input_audio", std::move(audio)}};
  }
  return invalid(path + ": mime type " + std::string(mime) + " is not supported (image/* and audio/* only)",
                 path + ".mimeType");
}

core::Result<json::object> file_part(const json::value& v, const std::string& path) {
  if (!v.is_object()) return invalid(path + " must be an object", path);
  const auto& o = v.get_object();
  auto uri = common::str(o, "fileUri");
  if (uri.empty()) return invalid(path + ".fileUri must be a non-empty string", path + ".fileUri");
  if (auto mime = common::str(o, "mimeType"); !mime.empty() && !media_type(mime).starts_with("image/"))
    return invalid(path + ": only images can be referenced by fileUri, not " + std::string(mime), path + ".mimeType");
  return json::object{{"type", "image_url"}, {"image_url", json::object{{"url", uri}}}};
}

// "\n"-joined text of text-only user content parts.
std::string joined_text(const json::array& parts) {
  std::string text;
  for (const auto& p : parts) {
    if (!text.empty()) text += '\n';
    text += common::str(p.get_object(), "text");
  }
  return text;
}

core::Result<std::vector<Turn>> group_turns(const json::array& contents) {
  std::vector<Turn> turns;
  for (std::size_t i = 0; i < contents.size(); ++i) {
    std::string path = "contents[" + std::to_string(i) + "]";
    if (!contents[i].is_object()) return invalid(path + " must be a Content object", path);
    const auto& c = contents[i].get_object();
    bool model = false;
    if (const auto* role = c.if_contains("role"); role && !role->is_null()) {
      std::string_view r = role->is_string() ? std::string_view(role->get_string()) : "?";
      model = r == "model";
      if (!model && !r.empty() && r != "user" && r != "function")
        return invalid(path + ".role must be \"user\" or \"model\"", path + ".role");
    }
    const auto* parts = c.if_contains("parts");
    if (!parts || !parts->is_array()) return invalid(path + ".parts must be an array of parts", path + ".parts");
    if (turns.empty() || turns.back().model != model) turns.push_back(Turn{model, {}});
    turns.back().contents.emplace_back(i, &parts->get_array());
  }
  return turns;
}

// Builds OpenAI messages turn by turn, pairing each functionResponse with a call of the model turn before.
class MessageBuilder {
 public:
  void add_system(std::string text) { messages_.push_back(json::object{{"role", "system"}, {"content", text}}); }
  MaybeError add(const Turn& turn) { return turn.model ? add_model(turn) : add_user(turn); }
  json::array take() { return std::move(messages_); }
  std::size_t size() const { return messages_.size(); }

 private:
  struct Call {
    std::string id;
    bool answered = false;
  };
  MaybeError add_model(const Turn& turn);
  MaybeError add_user(const Turn& turn);
  core::Result<json::object> tool_call(const json::value& v, const std::string& path, std::size_t i, std::size_t n);
  core::Result<json::object> tool_message(const json::value& v, const std::string& path);

  json::array messages_;
  std::vector<Call> calls_;  // the calls of the last model turn
};

MaybeError MessageBuilder::add_model(const Turn& turn) {
  calls_.clear();
  std::string text;
  json::array tool_calls;
  for (const auto& [i, parts] : turn.contents) {
    std::size_t n = 0;
    for (std::size_t j = 0; j < parts->size(); ++j) {
      std::string path = part_path(i, j);
      if (!(*parts)[j].is_object()) return invalid(path + " must be a Part object", path);
      const auto& part = (*parts)[j].get_object();
      if (is_thought(part)) continue;
      if (const auto* t = part.if_contains("text")) {
        if (!t->is_string()) return invalid(path + ".text must be a string", path + ".text");
        text += t->get_string();
      } else if (const auto* f = part.if_contains("functionCall")) {
        auto call = tool_call(*f, path + ".functionCall", i, n++);
        if (!call) return call.error();
        tool_calls.push_back(std::move(*call));
      } else {
        return unsupported(part, path, "model turns carry text and functionCall parts");
      }
    }
  }
  if (text.empty() && tool_calls.empty()) return std::nullopt;
  json::object message{{"role", "assistant"}, {"content", text}};
  if (!tool_calls.empty()) {
    if (text.empty()) message["content"] = nullptr;
    message["tool_calls"] = std::move(tool_calls);
  }
  messages_.push_back(std::move(message));
  return std::nullopt;
}

MaybeError MessageBuilder::add_user(const Turn& turn) {
  json::array content;
  bool all_text = true;
  for (const auto& [i, parts] : turn.contents) {
    for (std::size_t j = 0; j < parts->size(); ++j) {
      std::string path = part_path(i, j);
      if (!(*parts)[j].is_object()) return invalid(path + " must be a Part object", path);
      const auto& part = (*parts)[j].get_object();
      if (is_thought(part)) continue;
      core::Result<json::object> item = json::object{};
      if (const auto* t = part.if_contains("text")) {
        if (!t->is_string()) return invalid(path + ".text must be a string", path + ".text");
        if (t->get_string().empty()) continue;
        item = json::object{{"type", "text"}, {"text", t->get_string()}};
      } else if (const auto* d = part.if_contains("inlineData")) {
        item = inline_part(*d, path + ".inlineData");
        all_text = false;
      } else if (const auto* f = part.if_contains("fileData")) {
        item = file_part(*f, path + ".fileData");
        all_text = false;
      } else if (const auto* r = part.if_contains("functionResponse")) {
        auto message = tool_message(*r, path + ".functionResponse");
        if (!message) return message.error();
        messages_.push_back(std::move(*message));
        continue;
      } else {
        return unsupported(part, path, "user turns carry text, inlineData, fileData and functionResponse parts");
      }
      if (!item) return item.error();
      content.push_back(std::move(*item));
    }
  }
  if (content.empty()) return std::nullopt;
  json::value body = all_text ? json::value(joined_text(content)) : json::value(std::move(content));
  messages_.push_back(json::object{{"role", "user"}, {"content", std::move(body)}});
  return std::nullopt;
}

core::Result<json::object> MessageBuilder::tool_call(const json::value& v, const std::string& path, std::size_t i,
                                                     std::size_t n) {
  if (!v.is_object()) return invalid(path + " must be an object", path);
  const auto& f = v.get_object();
  auto name = common::str(f, "name");
  if (name.empty()) return invalid(path + ".name must be a non-empty string", path + ".name");
  std::string id(common::str(f, "id"));
  if (id.empty()) id = "call_" + std::to_string(i) + "_" + std::to_string(n);
  std::string arguments = "{}";
  if (const auto* a = f.if_contains("args"); a && !a->is_null()) arguments = json::serialize(*a);
  calls_.push_back(Call{id, false});
  json::object function{{"name", name}, {"arguments", std::move(arguments)}};
  return json::object{{"id", id}, {"type", "function"}, {"function", std::move(function)}};
}

// A functionResponse answers the call with its id, or else the first unanswered call of the model turn
// before it (never matched by name: one function may be called twice).
core::Result<json::object> MessageBuilder::tool_message(const json::value& v, const std::string& path) {
  if (!v.is_object()) return invalid(path + " must be an object", path);
  const auto& r = v.get_object();
  auto id = common::str(r, "id");
  Call* call = nullptr;
  for (auto& c : calls_) {
    if (id.empty() ? !c.answered : c.id == id) {
      call = &c;
      break;
    }
  }
  if (!call && !id.empty())
    return invalid(path + ".id \"" + std::string(id) + "\" matches no functionCall of the previous model turn",
                   path + ".id");
  if (!call) return invalid(path + " answers no functionCall: the previous model turn has none left", path);
  call->answered = true;
  std::string content = "{}";
  if (const auto* response = r.if_contains("response"); response && !response->is_null())
    content = json::serialize(*response);
  return json::object{{"role", "tool"}, {"tool_call_id", call->id}, {"content", std::move(content)}};
}

}  // namespace

core::Error invalid(std::string message, std::string param) {
  return core::make_error(core::ErrorKind::kInvalidRequest, std::move(message), std::move(param));
}

core::Result<std::string> content_text(const json::value& content, const std::string& path,
                                       std::string_view separator) {
  if (content.is_string()) return std::string(content.get_string());
  if (!content.is_object()) return invalid(path + " must be a Content object or a string", path);
  const auto* parts = content.get_object().if_contains("parts");
  if (!parts || !parts->is_array()) return invalid(path + ".parts must be an array of parts", path + ".parts");
  std::string text;
  const auto& list = parts->get_array();
  for (std::size_t j = 0; j < list.size(); ++j) {
    std::string at = path + ".parts[" + std::to_string(j) + "]";
    const auto* t = list[j].is_object() ? list[j].get_object().if_contains("text") : nullptr;
    if (!t || !t->is_string()) return invalid(at + ": only text parts are supported here", at);
    if (j > 0) text += separator;
    text += t->get_string();
  }
  return text;
}

core::Result<json::array> chat_messages(const json::object& request) {
  const auto* contents = request.if_contains("contents");
  if (!contents || !contents->is_array() || contents->get_array().empty())
    return invalid("contents must be a non-empty array of Content objects", "contents");
  auto turns = group_turns(contents->get_array());
  if (!turns) return turns.error();
  MessageBuilder builder;
  if (const auto* system = request.if_contains("systemInstruction"); system && !system->is_null()) {
    auto text = content_text(*system, "systemInstruction", "\n");
    if (!text) return text.error();
    builder.add_system(std::move(*text));
  }
  std::size_t before = builder.size();
  for (const auto& turn : *turns)
    if (auto e = builder.add(turn)) return std::move(*e);
  if (builder.size() == before) return invalid("contents carry nothing to send: every part is empty", "contents");
  return builder.take();
}

}  // namespace anygpt::formats::gemini
