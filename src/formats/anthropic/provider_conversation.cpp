#include <algorithm>
#include <array>
#include <boost/json.hpp>
#include <vector>

#include "formats/anthropic/provider_parts.hpp"
#include "formats/anthropic/request.hpp"
#include "formats/common/chunks.hpp"

namespace anygpt::formats::anthropic {
namespace json = boost::json;

namespace {

// The image types Anthropic accepts in base64 sources.
constexpr std::array<std::string_view, 4> kImageTypes = {"image/jpeg", "image/png", "image/gif", "image/webp"};

// One Anthropic turn being built. Tool results lead a user turn (Anthropic requires them
// before any other block of the turn that answers the tool calls).
struct Turn {
  std::string_view role;  // "user" or "assistant"
  json::array results;    // tool_result blocks
  json::array blocks;     // text, image and tool_use blocks
};

std::string at(const std::string& where, std::size_t i) {
  return where + "[" + std::to_string(i) + "]";
}

void add_text(std::string_view text, json::array& blocks) {
  if (!text.empty()) blocks.push_back(json::object{{"type", "text"}, {"text", text}});
}

// An OpenAI image_url part's URL as an Anthropic image block.
core::Result<json::object> image_block(const json::object& part, const std::string& where) {
  const auto* image = part.if_contains("image_url");
  std::string_view url = image && image->is_string()   ? std::string_view(image->get_string())
                         : image && image->is_object() ? common::str(image->get_object(), "url")
                                                       : std::string_view();
  if (url.starts_with("http://") || url.starts_with("https://"))
    return json::object{{"type", "image"}, {"source", json::object{{"type", "url"}, {"url", url}}}};
  auto comma = url.find(',');
  auto header = url.substr(0, comma == std::string_view::npos ? 0 : comma);
  if (!url.starts_with("data:") || !header.ends_with(";base64"))
    return invalid_field(where + ".image_url.url must be a base64 data URL or an http(s) URL",
                         where + ".image_url.url");
  auto media_type = header.substr(5, header.size() - 5 - 7);
  if (std::find(kImageTypes.begin(), kImageTypes.end(), media_type) == kImageTypes.end())
    return invalid_field(where + ": image type '" + std::string(media_type) +
                             "' is not supported by anthropic providers (jpeg, png, gif, webp)",
                         where + ".image_url.url");
  json::object source{{"type", "base64"}, {"media_type", media_type}, {"data", url.substr(comma + 1)}};
  return json::object{{"type", "image"}, {"source", std::move(source)}};
}

// Text (and, when `images`, image_url) parts of an OpenAI content array as Anthropic blocks.
// Refusal parts of earlier assistant answers are the model's text.
std::optional<core::Error> add_parts(const json::array& parts, const std::string& where, bool images,
                                     json::array& blocks) {
  for (std::size_t j = 0; j < parts.size(); ++j) {
    auto here = at(where, j);
    if (!parts[j].is_object()) return invalid_field(here + " must be an object", here);
    const auto& part = parts[j].get_object();
    auto type = common::str(part, "type");
    if (type == "text" || type == "refusal") {
      add_text(common::str(part, type), blocks);
    } else if (images && type == "image_url") {
      auto block = image_block(part, here);
      if (!block) return block.error();
      blocks.push_back(std::move(*block));
    } else {
      return invalid_field(
          here + ".type: content part type '" + std::string(type) + "' is not supported by anthropic providers here",
          here + ".type");
    }
  }
  return std::nullopt;
}

// A message's content (a string, parts or null) as blocks.
std::optional<core::Error> add_content(const json::object& message, const std::string& where, bool images,
                                       json::array& blocks) {
  const auto* content = message.if_contains("content");
  if (!content || content->is_null()) return std::nullopt;
  if (content->is_string()) {
    add_text(content->get_string(), blocks);
    return std::nullopt;
  }
  if (!content->is_array()) return invalid_field(where + ".content must be a string or an array", where + ".content");
  return add_parts(content->get_array(), where + ".content", images, blocks);
}

// Assistant tool_calls as tool_use blocks (arguments that are not a JSON object are kept as
// {"_raw": text}, so the model still sees what it said).
std::optional<core::Error> add_tool_uses(const json::object& message, const std::string& where, json::array& blocks) {
  const auto* calls = message.if_contains("tool_calls");
  if (!calls || calls->is_null()) return std::nullopt;
  if (!calls->is_array()) return invalid_field(where + ".tool_calls must be an array", where + ".tool_calls");
  for (std::size_t k = 0; k < calls->get_array().size(); ++k) {
    auto here = at(where + ".tool_calls", k);
    const auto& call = calls->get_array()[k];
    const auto* f = call.is_object() ? call.get_object().if_contains("function") : nullptr;
    if (!f || !f->is_object()) return invalid_field(here + ".function must be an object", here + ".function");
    auto id = common::str(call.get_object(), "id");
    auto name = common::str(f->get_object(), "name");
    if (id.empty() || name.empty()) return invalid_field(here + " needs a non-empty id and function.name", here);
    blocks.push_back(json::object{{"type", "tool_use"},
                                  {"id", id},
                                  {"name", name},
                                  {"input", common::parse_arguments(common::str(f->get_object(), "arguments"))}});
  }
  return std::nullopt;
}

core::Result<json::object> tool_result(const json::object& message, const std::string& where) {
  auto id = common::str(message, "tool_call_id");
  if (id.empty()) return invalid_field(where + ".tool_call_id must be a non-empty string", where + ".tool_call_id");
  json::array blocks;
  if (auto e = add_content(message, where, false, blocks)) return *e;
  json::object result{{"type", "tool_result"}, {"tool_use_id", id}};
  if (blocks.size() == 1) {
    result["content"] = common::str(blocks.front().get_object(), "text");
  } else if (!blocks.empty()) {
    result["content"] = std::move(blocks);
  }
  return result;
}

// Every text of a system/developer message, appended to `system`.
std::optional<core::Error> add_system(const json::object& message, const std::string& where, std::string& system) {
  json::array blocks;
  if (auto e = add_content(message, where, false, blocks)) return e;
  for (const auto& b : blocks) {
    if (!system.empty()) system += "\n\n";
    system += common::str(b.get_object(), "text");
  }
  return std::nullopt;
}

// Appends messages[i] to the turns (a new turn, or the previous one when the role is the same).
std::optional<core::Error> add_message(const json::value& value, std::size_t i, Conversation& out,
                                       std::vector<Turn>& turns) {
  std::string where = at("messages", i);
  if (!value.is_object()) return invalid_field(where + " must be an object", where);
  const auto& message = value.get_object();
  auto role = common::str(message, "role");
  if (role == "system" || role == "developer") return add_system(message, where, out.system);
  if (message.contains("function_call") || role == "function")
    return invalid_field(where + ": legacy function calls are not supported by anthropic providers; use tools", where);
  Turn turn{role == "assistant" ? "assistant" : "user", {}, {}};
  if (role == "tool") {
    auto result = tool_result(message, where);
    if (!result) return result.error();
    turn.results.push_back(std::move(*result));
  } else if (role == "user" || role == "assistant") {
    if (auto e = add_content(message, where, role == "user", turn.blocks)) return e;
    if (role == "assistant")
      if (auto e = add_tool_uses(message, where, turn.blocks)) return e;
  } else {
    return invalid_field(where + ".role '" + std::string(role) + "' is not supported by anthropic providers",
                         where + ".role");
  }
  if (turn.results.empty() && turn.blocks.empty()) return std::nullopt;  // nothing to send
  if (turns.empty() || turns.back().role != turn.role) {
    turns.push_back(std::move(turn));
    return std::nullopt;
  }
  for (auto& r : turn.results) turns.back().results.push_back(std::move(r));
  for (auto& b : turn.blocks) turns.back().blocks.push_back(std::move(b));
  return std::nullopt;
}

}  // namespace

core::Result<Conversation> encode_conversation(const json::object& chat) {
  const auto* m = chat.if_contains("messages");
  if (!m || !m->is_array()) return invalid_field("messages must be an array", "messages");
  Conversation out;
  std::vector<Turn> turns;
  for (std::size_t i = 0; i < m->get_array().size(); ++i)
    if (auto e = add_message(m->get_array()[i], i, out, turns)) return *e;
  if (turns.empty()) return invalid_field("messages must contain a non-empty user or assistant message", "messages");
  if (turns.front().role != "user")
    return invalid_field("the first non-system message must be the user's for anthropic providers", "messages");
  for (auto& turn : turns) {
    for (auto& b : turn.blocks) turn.results.push_back(std::move(b));
    out.messages.push_back(json::object{{"role", turn.role}, {"content", std::move(turn.results)}});
  }
  return out;
}

}  // namespace anygpt::formats::anthropic
