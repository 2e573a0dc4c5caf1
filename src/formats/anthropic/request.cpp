#include "formats/anthropic/request.hpp"

#include <boost/json.hpp>

#include "formats/common/chunks.hpp"

namespace anygpt::formats::anthropic {
namespace json = boost::json;

core::Error invalid_field(std::string message, std::string param) {
  return core::make_error(core::ErrorKind::kInvalidRequest, std::move(message), std::move(param));
}

bool is_blank(std::string_view text) {
  return text.find_first_not_of(" \t\r\n") == std::string_view::npos;
}

namespace {

bool is_integer(const json::value& v) {
  return v.is_int64() || v.is_uint64();
}

bool positive_integer(const json::value& v) {
  return (v.is_int64() && v.get_int64() > 0) || (v.is_uint64() && v.get_uint64() > 0);
}

// The top-level system prompt (first) and every message, in OpenAI form.
std::optional<core::Error> add_messages(const json::object& request, json::array& out) {
  if (const auto* s = request.if_contains("system"); s && !s->is_null()) {
    auto text = system_text(*s, "system");
    if (!text) return text.error();
    if (!is_blank(*text)) out.push_back(json::object{{"role", "system"}, {"content", std::move(*text)}});
  }
  const auto* m = request.if_contains("messages");
  if (!m || !m->is_array()) return invalid_field("messages is required and must be an array", "messages");
  const auto& messages = m->get_array();
  if (messages.empty()) return invalid_field("messages must contain at least one message", "messages");
  for (std::size_t i = 0; i < messages.size(); ++i)
    if (auto e = append_message(messages[i], i, out)) return e;
  return std::nullopt;
}

std::optional<core::Error> add_stop_and_user(const json::object& request, json::object& chat) {
  if (const auto* s = request.if_contains("stop_sequences"); s && !s->is_null()) {
    if (!s->is_array()) return invalid_field("stop_sequences must be an array of strings", "stop_sequences");
    const auto& list = s->get_array();
    for (std::size_t i = 0; i < list.size(); ++i)
      if (!list[i].is_string())
        return invalid_field("stop_sequences[" + std::to_string(i) + "] must be a string",
                             "stop_sequences[" + std::to_string(i) + "]");
    if (!list.empty()) chat["stop"] = list;
  }
  if (const auto* m = request.if_contains("metadata"); m && !m->is_null()) {
    if (!m->is_object()) return invalid_field("metadata must be an object", "metadata");
    const auto* user = m->get_object().if_contains("user_id");
    if (user && !user->is_null() && !user->is_string())
      return invalid_field("metadata.user_id must be a string", "metadata.user_id");
    if (user && user->is_string() && !user->get_string().empty()) chat["user"] = *user;
  }
  return std::nullopt;
}

std::optional<core::Error> add_sampling(const json::object& request, json::object& chat) {
  for (const char* field : {"temperature", "top_p"}) {
    const auto* v = request.if_contains(field);
    if (!v || v->is_null()) continue;
    if (!v->is_number()) return invalid_field(std::string(field) + " must be a number", field);
    chat[field] = *v;
  }
  if (const auto* k = request.if_contains("top_k"); k && !k->is_null()) {
    if (!is_integer(*k)) return invalid_field("top_k must be an integer", "top_k");
    chat["top_k"] = *k;
  }
  return add_stop_and_user(request, chat);
}

core::Result<bool> stream_flag(const json::object& request) {
  const auto* s = request.if_contains("stream");
  if (!s || s->is_null()) return false;
  if (!s->is_bool()) return invalid_field("stream must be a boolean", "stream");
  return s->get_bool();
}

}  // namespace

core::Result<Canonical> decode_request(const json::value& body, bool require_max_tokens) {
  if (!body.is_object()) return invalid_field("Request body must be a JSON object", "");
  const auto& request = body.get_object();
  auto model = common::str(request, "model");
  if (model.empty()) return invalid_field("model is required and must be a non-empty string", "model");
  json::object chat{{"model", model}};
  if (require_max_tokens) {
    const auto* max = request.if_contains("max_tokens");
    if (!max || !positive_integer(*max))
      return invalid_field("max_tokens is required and must be a positive integer", "max_tokens");
    chat["max_tokens"] = *max;
  }
  json::array messages;
  if (auto e = add_messages(request, messages)) return *e;
  chat["messages"] = std::move(messages);
  if (auto e = add_sampling(request, chat)) return *e;
  if (auto e = add_tools(request, chat)) return *e;
  auto stream = stream_flag(request);
  if (!stream) return stream.error();
  return common::chat_canonical(std::move(chat), std::string(model), *stream);
}

}  // namespace anygpt::formats::anthropic
