#include <boost/json.hpp>

#include "formats/anthropic/request.hpp"
#include "formats/common/chunks.hpp"

namespace anygpt::formats::anthropic {
namespace json = boost::json;

namespace {

// OpenAI tool messages carry text only: an image in a tool_result is moved to the user message
// that follows the tool messages, and this marks where it was.
constexpr std::string_view kMovedImage = "[image attached below]";

// The content of one Anthropic message, sorted into what OpenAI keeps apart.
struct Turn {
  json::array tool_messages;  // role "tool", one per tool_result, in order
  json::array parts;          // text and image_url parts
  json::array tool_calls;     // assistant tool_use blocks
};

std::string at(const std::string& where, std::size_t j) {
  return where + "[" + std::to_string(j) + "]";
}

core::Error unsupported(std::string_view type, std::string_view role, const std::string& where) {
  return invalid_field(where + ".type: content block type '" + std::string(type) + "' is not supported in " +
                           std::string(role) + " messages",
                       where + ".type");
}

core::Result<std::string_view> block_type(const json::value& block, const std::string& where) {
  if (!block.is_object()) return invalid_field(where + " must be an object", where);
  auto type = common::str(block.get_object(), "type");
  if (type.empty()) return invalid_field(where + ".type must be a non-empty string", where + ".type");
  return type;
}

core::Result<std::string_view> block_text(const json::object& block, const std::string& where) {
  const auto* text = block.if_contains("text");
  if (!text || !text->is_string()) return invalid_field(where + ".text must be a string", where + ".text");
  return std::string_view(text->get_string());
}

core::Result<json::object> image_part(const json::object& block, const std::string& where) {
  const auto* source = block.if_contains("source");
  if (!source || !source->is_object()) return invalid_field(where + ".source must be an object", where + ".source");
  const auto& s = source->get_object();
  auto type = common::str(s, "type");
  std::string url;
  if (type == "base64") {
    auto media_type = common::str(s, "media_type");
    auto data = common::str(s, "data");
    if (media_type.empty() || data.empty())
      return invalid_field(where + ".source needs non-empty string media_type and data", where + ".source");
    url = "data:" + std::string(media_type) + ";base64," + std::string(data);
  } else if (type == "url") {
    url = common::str(s, "url");
    if (url.empty()) return invalid_field(where + ".source.url must be a non-empty string", where + ".source.url");
  } else {
    return invalid_field(where + ".source.type '" + std::string(type) + "' is not supported (use base64 or url)",
                         where + ".source.type");
  }
  return json::object{{"type", "image_url"}, {"image_url", json::object{{"url", std::move(url)}}}};
}

core::Result<json::object> tool_call(const json::object& block, const std::string& where) {
  auto id = common::str(block, "id");
  if (id.empty()) return invalid_field(where + ".id must be a non-empty string", where + ".id");
  auto name = common::str(block, "name");
  if (name.empty()) return invalid_field(where + ".name must be a non-empty string", where + ".name");
  std::string arguments = "{}";
  if (const auto* input = block.if_contains("input"); input && !input->is_null()) {
    if (!input->is_object()) return invalid_field(where + ".input must be an object", where + ".input");
    arguments = json::serialize(*input);
  }
  return json::object{
      {"id", id}, {"type", "function"}, {"function", json::object{{"name", name}, {"arguments", arguments}}}};
}

// The text of a tool_result's content (text blocks joined with "\n"); its images go to `images`.
core::Result<std::string> tool_result_text(const json::value* content, const std::string& where, json::array& images) {
  if (!content || content->is_null()) return std::string();
  if (content->is_string()) return std::string(content->get_string());
  if (!content->is_array()) return invalid_field(where + " must be a string or an array of blocks", where);
  std::string text;
  const auto& blocks = content->get_array();
  for (std::size_t k = 0; k < blocks.size(); ++k) {
    auto here = at(where, k);
    auto type = block_type(blocks[k], here);
    if (!type) return type.error();
    std::string_view piece = kMovedImage;
    if (*type == "text") {
      auto t = block_text(blocks[k].get_object(), here);
      if (!t) return t.error();
      piece = *t;
    } else if (*type == "image") {
      auto image = image_part(blocks[k].get_object(), here);
      if (!image) return image.error();
      images.push_back(std::move(*image));
    } else {
      return unsupported(*type, "tool_result", here);
    }
    if (piece.empty()) continue;
    if (!text.empty()) text += "\n";
    text += piece;
  }
  return text;
}

core::Result<json::object> tool_message(const json::object& block, const std::string& where, json::array& images) {
  auto id = common::str(block, "tool_use_id");
  if (id.empty()) return invalid_field(where + ".tool_use_id must be a non-empty string", where + ".tool_use_id");
  auto text = tool_result_text(block.if_contains("content"), where + ".content", images);
  if (!text) return text.error();
  if (const auto* e = block.if_contains("is_error"); e && e->is_bool() && e->get_bool()) *text = "Error: " + *text;
  return json::object{{"role", "tool"}, {"tool_call_id", id}, {"content", std::move(*text)}};
}

// Sorts one content block into `turn`. Thinking blocks are dropped: OpenAI chat has no field for them.
std::optional<core::Error> add_block(const json::value& v, std::string_view role, const std::string& where,
                                     Turn& turn) {
  auto type = block_type(v, where);
  if (!type) return type.error();
  const auto& block = v.get_object();
  if (*type == "thinking" || *type == "redacted_thinking") return std::nullopt;
  if (*type == "text") {
    auto text = block_text(block, where);
    if (!text) return text.error();
    if (!text->empty()) turn.parts.push_back(json::object{{"type", "text"}, {"text", *text}});
    return std::nullopt;
  }
  bool user = role == "user";
  if (user && *type == "image") {
    auto image = image_part(block, where);
    if (!image) return image.error();
    turn.parts.push_back(std::move(*image));
  } else if (user && *type == "tool_result") {
    auto message = tool_message(block, where, turn.parts);
    if (!message) return message.error();
    turn.tool_messages.push_back(std::move(*message));
  } else if (!user && *type == "tool_use") {
    auto call = tool_call(block, where);
    if (!call) return call.error();
    turn.tool_calls.push_back(std::move(*call));
  } else {
    return unsupported(*type, role, where);
  }
  return std::nullopt;
}

// Text-only parts as one string (joined with "\n"), otherwise the parts themselves.
json::value collapse(json::array parts) {
  std::string text;
  for (const auto& p : parts) {
    if (common::str(p.get_object(), "type") != "text") return parts;
    if (!text.empty()) text += "\n";
    text += common::str(p.get_object(), "text");
  }
  return json::string(text);
}

void push_turn(std::string_view role, Turn turn, json::array& out) {
  if (role == "user") {
    bool only_tool_results = turn.parts.empty() && !turn.tool_messages.empty();
    for (auto& m : turn.tool_messages) out.push_back(std::move(m));
    if (!only_tool_results) out.push_back(json::object{{"role", "user"}, {"content", collapse(std::move(turn.parts))}});
    return;
  }
  if (turn.parts.empty() && turn.tool_calls.empty()) return;
  json::object m{{"role", "assistant"}};
  m["content"] = turn.parts.empty() ? json::value(nullptr) : collapse(std::move(turn.parts));
  if (!turn.tool_calls.empty()) m["tool_calls"] = std::move(turn.tool_calls);
  out.push_back(std::move(m));
}

}  // namespace

core::Result<std::string> system_text(const json::value& system, const std::string& where) {
  if (system.is_string()) return std::string(system.get_string());
  if (!system.is_array()) return invalid_field(where + " must be a string or an array of text blocks", where);
  std::string text;
  const auto& blocks = system.get_array();
  for (std::size_t j = 0; j < blocks.size(); ++j) {
    auto here = at(where, j);
    auto type = block_type(blocks[j], here);
    if (!type) return type.error();
    if (*type != "text") return invalid_field(here + ".type must be \"text\"", here + ".type");
    auto piece = block_text(blocks[j].get_object(), here);
    if (!piece) return piece.error();
    if (piece->empty()) continue;
    if (!text.empty()) text += "\n\n";
    text += *piece;
  }
  return text;
}

std::optional<core::Error> append_message(const json::value& message, std::size_t i, json::array& out) {
  std::string where = "messages[" + std::to_string(i) + "]";
  if (!message.is_object()) return invalid_field(where + " must be an object", where);
  const auto& m = message.get_object();
  auto role = common::str(m, "role");
  if (role != "user" && role != "assistant" && role != "system")
    return invalid_field(where + ".role must be \"user\" or \"assistant\"", where + ".role");
  const auto* content = m.if_contains("content");
  if (!content || !(content->is_string() || content->is_array()))
    return invalid_field(where + ".content must be a string or an array of content blocks", where + ".content");
  if (role == "system") {
    auto text = system_text(*content, where + ".content");
    if (!text) return text.error();
    if (!is_blank(*text)) out.push_back(json::object{{"role", "system"}, {"content", std::move(*text)}});
    return std::nullopt;
  }
  Turn turn;
  if (content->is_string()) {
    if (!content->get_string().empty())
      turn.parts.push_back(json::object{{"type", "text"}, {"text", content->get_string()}});
  } else {
    const auto& blocks = content->get_array();
    for (std::size_t j = 0; j < blocks.size(); ++j)
      if (auto e = add_block(blocks[j], role, at(where + ".content", j), turn)) return e;
  }
  push_turn(role, std::move(turn), out);
  return std::nullopt;
}

}  // namespace anygpt::formats::anthropic
