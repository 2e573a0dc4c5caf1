// Responses `input` (a string, or message / function_call / function_call_output / reasoning
// items) as chat messages.
#include <boost/json.hpp>

#include "formats/common/chunks.hpp"
#include "formats/responses/request.hpp"

namespace anygpt::formats::responses {
namespace json = boost::json;
using common::field;

namespace {

// Content parts of a message in chat form: text parts, image_url parts, input_audio and file
// parts; `texts_only` (system and assistant turns) accepts text alone.
struct Content {
  json::array parts;
  std::string text;  // every text part joined (for roles whose chat content is a string)
  bool only_text = true;
};

core::Result<json::object> image_part(const json::object& part, const std::string& where) {
  if (field(part, "file_id"))
    return invalid_field(
        "'" + where +
            ".file_id' needs OpenAI's Files API, which a chat-completions upstream does not have: send "
            "image_url (a URL or a data: URL)",
        where + ".file_id");
  const auto* url = field(part, "image_url");
  if (!url || !url->is_string() || url->get_string().empty())
    return invalid_field("'" + where + ".image_url' is required and must be a string", where + ".image_url");
  json::object image{{"url", *url}};
  auto detail = common::str(part, "detail");
  if (detail == "low" || detail == "high" || detail == "auto") image["detail"] = detail;
  return json::object{{"type", "image_url"}, {"image_url", std::move(image)}};
}

core::Result<json::object> file_part(const json::object& part, const std::string& where) {
  for (const char* unsupported : {"file_id", "file_url"})
    if (field(part, unsupported))
      return invalid_field("'" + where + "." + unsupported +
                               "' cannot be sent to a chat-completions upstream: send the file inline as file_data",
                           where + "." + unsupported);
  const auto* data = field(part, "file_data");
  if (!data || !data->is_string())
    return invalid_field("'" + where + ".file_data' is required and must be a string", where + ".file_data");
  json::object file{{"file_data", *data}};
  if (const auto* name = field(part, "filename"); name && name->is_string()) file["filename"] = *name;
  return json::object{{"type", "file"}, {"file", std::move(file)}};
}

MaybeError read_part(const json::value& v, const std::string& where, bool texts_only, Content& out) {
  if (!v.is_object()) return invalid_field("'" + where + "' must be an object", where);
  const auto& part = v.get_object();
  auto type = common::str(part, "type");
  if (type == "input_text" || type == "output_text" || type == "refusal") {
    const auto* text = field(part, type == "refusal" ? "refusal" : "text");
    if (!text || !text->is_string())
      return invalid_field("'" + where + (type == "refusal" ? ".refusal" : ".text") + "' must be a string",
                           where + (type == "refusal" ? ".refusal" : ".text"));
    out.text += text->get_string();
    out.parts.push_back(json::object{{"type", "text"}, {"text", *text}});
    return std::nullopt;
  }
  if (texts_only && (type == "input_image" || type == "input_file" || type == "input_audio"))
    return invalid_field("'" + where + "' must be a text part in this role", where + ".type");
  core::Result<json::object> chat_part = json::object{};
  if (type == "input_image") {
    chat_part = image_part(part, where);
  } else if (type == "input_file") {
    chat_part = file_part(part, where);
  } else if (type == "input_audio") {
    const auto* audio = field(part, "input_audio");
    if (!audio || !audio->is_object())
      return invalid_field("'" + where + ".input_audio' must be an object", where + ".input_audio");
    chat_part = json::object{{"type", "input_audio"}, {"input_audio", *audio}};
  } else {
    return invalid_field("'" + where + ".type' must be input_text, input_image, input_file or input_audio",
                         where + ".type");
  }
  if (!chat_part) return chat_part.error();
  out.only_text = false;
  out.parts.push_back(std::move(*chat_part));
  return std::nullopt;
}

core::Result<Content> read_content(const json::value* v, const std::string& where, bool texts_only) {
  Content out;
  if (v && v->is_string()) {
    out.text = v->get_string();
    out.parts.push_back(json::object{{"type", "text"}, {"text", *v}});
    return out;
  }
  if (!v || !v->is_array())
    return invalid_field("'" + where + "' must be a string or an array of content parts", where);
  const auto& list = v->get_array();
  for (std::size_t i = 0; i < list.size(); ++i)
    if (auto e = read_part(list[i], indexed(where, i), texts_only, out)) return *e;
  return out;
}

// The assistant message new tool calls join: the last message when it is the assistant's,
// else a new one.
json::object& assistant_turn(json::array& out) {
  if (out.empty() || common::str(out.back().get_object(), "role") != "assistant")
    out.push_back(json::object{{"role", "assistant"}, {"content", nullptr}});
  return out.back().get_object();
}

MaybeError append_message(const json::object& item, const std::string& where, json::array& out) {
  auto role = common::str(item, "role");
  bool assistant = role == "assistant";
  bool system = role == "system" || role == "developer";
  if (!assistant && !system && role != "user")
    return invalid_field("'" + where + ".role' must be user, assistant, system or developer", where + ".role");
  auto content = read_content(item.if_contains("content"), where + ".content", assistant || system);
  if (!content) return content.error();
  if (assistant) {
    auto& turn = assistant_turn(out);
    if (!content->text.empty()) {
      auto* prior = turn.if_contains("content");
      std::string text = prior && prior->is_string() ? std::string(prior->get_string()) : std::string();
      turn["content"] = text + content->text;
    }
    return std::nullopt;
  }
  json::value chat_content;
  if (system || (content->only_text && content->parts.size() == 1))
    chat_content = json::string(content->text);
  else
    chat_content = std::move(content->parts);
  out.push_back(json::object{{"role", system ? "system" : "user"}, {"content", std::move(chat_content)}});
  return std::nullopt;
}

MaybeError append_function_call(const json::object& item, const std::string& where, json::array& out) {
  auto call_id = common::str(item, "call_id");
  if (call_id.empty()) return invalid_field("'" + where + ".call_id' is required", where + ".call_id");
  auto name = common::str(item, "name");
  if (name.empty()) return invalid_field("'" + where + ".name' is required", where + ".name");
  const auto* arguments = item.if_contains("arguments");
  if (!arguments || !arguments->is_string())
    return invalid_field("'" + where + ".arguments' must be a string", where + ".arguments");
  auto& turn = assistant_turn(out);
  auto& calls = turn["tool_calls"];
  if (!calls.is_array()) calls = json::array{};
  calls.get_array().push_back(json::object{
      {"id", call_id}, {"type", "function"}, {"function", json::object{{"name", name}, {"arguments", *arguments}}}});
  return std::nullopt;
}

bool calls(const json::object& message, std::string_view call_id) {
  const auto* list = message.if_contains("tool_calls");
  if (!list || !list->is_array()) return false;
  for (const auto& c : list->get_array())
    if (c.is_object() && common::str(c.get_object(), "id") == call_id) return true;
  return false;
}

// A function_call_output as a tool message, placed after the assistant turn that made the call
// (and the tool messages already answering it): chat wants them together, wherever the item was.
MaybeError append_function_output(const json::object& item, const std::string& where, json::array& out) {
  auto call_id = common::str(item, "call_id");
  if (call_id.empty()) return invalid_field("'" + where + ".call_id' is required", where + ".call_id");
  const auto* output = item.if_contains("output");
  std::string text;
  if (output && output->is_string()) {
    text = output->get_string();
  } else if (output && output->is_array()) {
    const auto& parts = output->get_array();
    for (std::size_t i = 0; i < parts.size(); ++i) {
      const auto* p = parts[i].if_object();
      auto part_where = indexed(where + ".output", i);
      if (!p || common::str(*p, "type") != "input_text" || !common::field(*p, "text") || !p->at("text").is_string())
        return invalid_field(
            "'" + part_where + "' must be an input_text part: a chat-completions tool message carries text only",
            part_where);
      text += p->at("text").get_string();
    }
  } else {
    return invalid_field("'" + where + ".output' must be a string or an array of input_text parts", where + ".output");
  }
  std::size_t turn = out.size();
  while (turn > 0 && !(common::str(out[turn - 1].get_object(), "role") == "assistant" &&
                       calls(out[turn - 1].get_object(), call_id)))
    --turn;
  if (turn == 0)
    return invalid_field("No function_call with call_id '" + std::string(call_id) +
                             "' precedes this output in 'input'. anygpt translates /v1/responses to chat completions "
                             "and keeps no earlier responses: send the function_call item back before its output",
                         where + ".call_id");
  std::size_t pos = turn;
  while (pos < out.size() && common::str(out[pos].get_object(), "role") == "tool") ++pos;
  out.insert(out.begin() + static_cast<std::ptrdiff_t>(pos),
             json::object{{"role", "tool"}, {"tool_call_id", call_id}, {"content", std::move(text)}});
  return std::nullopt;
}

MaybeError append_item(const json::value& v, const std::string& where, json::array& out) {
  if (!v.is_object()) return invalid_field("'" + where + "' must be an object", where);
  const auto& item = v.get_object();
  auto type = common::str(item, "type");
  if (type == "message" || (type.empty() && item.contains("role"))) return append_message(item, where, out);
  if (type == "function_call") return append_function_call(item, where, out);
  if (type == "function_call_output") return append_function_output(item, where, out);
  if (type == "reasoning") return std::nullopt;  // not forwarded: chat has no reasoning input
  if (type == "item_reference")
    return invalid_field("'" + where +
                             "' refers to a stored item; anygpt translates /v1/responses to chat completions and "
                             "stores none: send the item itself",
                         where);
  if (type.empty()) return invalid_field("'" + where + ".type' is required", where + ".type");
  return invalid_field("'" + where + ".type' " + std::string(type) +
                           " is an item of a built-in tool, which a chat-completions upstream cannot take",
                       where + ".type");
}

}  // namespace

MaybeError append_input(const json::value& input, json::array& out) {
  if (input.is_string()) {
    out.push_back(json::object{{"role", "user"}, {"content", input}});
    return std::nullopt;
  }
  if (!input.is_array()) return invalid_field("'input' must be a string or an array of input items", "input");
  const auto& items = input.get_array();
  if (items.empty()) return invalid_field("'input' must contain at least one item", "input");
  std::size_t before = out.size();
  for (std::size_t i = 0; i < items.size(); ++i)
    if (auto e = append_item(items[i], indexed("input", i), out)) return e;
  if (out.size() == before) return invalid_field("'input' has no item a chat model can read", "input");
  return std::nullopt;
}

}  // namespace anygpt::formats::responses
