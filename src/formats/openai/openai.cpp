#include "formats/openai/openai.hpp"

#include <boost/json.hpp>

namespace anygpt::formats::openai {
namespace json = boost::json;
using core::ErrorKind;
using core::make_error;

std::string error_body(const core::Error& error) {
  json::object inner;
  inner["message"] = error.message;
  inner["type"] = core::error_type(error.kind);
  inner["param"] = error.param.empty() ? json::value(nullptr) : json::value(error.param);
  inner["code"] = error.code.empty() ? json::value(nullptr) : json::value(error.code);
  json::object outer;
  outer["error"] = std::move(inner);
  return json::serialize(outer);
}

namespace {
core::Error invalid(std::string message, std::string param, std::string code = "invalid_request") {
  return make_error(ErrorKind::kInvalidRequest, std::move(message), std::move(param), std::move(code));
}

std::optional<core::Error> check_content_part(const json::value& part, const std::string& where) {
  if (!part.is_object()) return invalid(where + " must be an object", where);
  const auto& o = part.get_object();
  const auto* type = o.if_contains("type");
  if (!type || !type->is_string()) return invalid(where + ".type must be a string", where + ".type");
  auto t = type->get_string();
  if (t == "text") {
    const auto* text = o.if_contains("text");
    if (!text || !text->is_string()) return invalid(where + ".text must be a string", where + ".text");
  } else if (t == "image_url") {
    const auto* img = o.if_contains("image_url");
    const json::value* url = img && img->is_object() ? img->get_object().if_contains("url") : nullptr;
    if (!url || !url->is_string()) return invalid(where + ".image_url.url must be a string", where + ".image_url.url");
  } else if (t == "input_audio") {
    const auto* a = o.if_contains("input_audio");
    const auto* ao = a && a->is_object() ? &a->get_object() : nullptr;
    const json::value* data = ao ? ao->if_contains("data") : nullptr;
    const json::value* fmt = ao ? ao->if_contains("format") : nullptr;
    if (!data || !data->is_string() || !fmt || !fmt->is_string())
      return invalid(where + ".input_audio needs string 'data' and 'format'", where + ".input_audio");
  }
  return std::nullopt;
}

std::optional<core::Error> check_message(const json::value& m, std::size_t i) {
  std::string where = "messages[" + std::to_string(i) + "]";
  if (!m.is_object()) return invalid(where + " must be an object", where);
  const auto& o = m.get_object();
  const auto* role = o.if_contains("role");
  if (!role || !role->is_string() || role->get_string().empty())
    return invalid(where + ".role must be a non-empty string", where + ".role");
  const auto* content = o.if_contains("content");
  if (!content || content->is_null()) {
    // Assistant messages may carry only tool_calls (or a refusal/function_call).
    auto r = role->get_string();
    if (r == "assistant") return std::nullopt;
    return invalid(where + ".content is required for role '" + std::string(r) + "'", where + ".content");
  }
  if (content->is_string()) return std::nullopt;
  if (!content->is_array())
    return invalid(where + ".content must be a string or an array of parts", where + ".content");
  const auto& parts = content->get_array();
  for (std::size_t p = 0; p < parts.size(); ++p)
    if (auto e = check_content_part(parts[p], where + ".content[" + std::to_string(p) + "]")) return e;
  return std::nullopt;
}

bool positive_integer(const json::value& v) {
  if (v.is_int64()) return v.get_int64() > 0;
  if (v.is_uint64()) return v.get_uint64() > 0;
  return false;
}
}  // namespace

core::Result<ChatRequestInfo> inspect_chat_request(const json::value& body, bool model_optional) {
  if (!body.is_object()) return invalid("Request body must be a JSON object", "");
  const auto& o = body.get_object();
  ChatRequestInfo info;
  const auto* model = o.if_contains("model");
  const bool absent = !model || model->is_null();
  if (!(absent && model_optional) && (!model || !model->is_string() || model->get_string().empty()))
    return invalid("'model' is required and must be a non-empty string", "model", "invalid_model");
  if (!absent) info.model = std::string(model->get_string());
  const auto* messages = o.if_contains("messages");
  if (!messages || !messages->is_array())
    return invalid("'messages' is required and must be an array", "messages", "invalid_messages");
  const auto& arr = messages->get_array();
  if (arr.empty()) return invalid("'messages' must contain at least one message", "messages", "invalid_messages");
  for (std::size_t i = 0; i < arr.size(); ++i)
    if (auto e = check_message(arr[i], i)) return *e;
  for (const char* f : {"max_tokens", "max_completion_tokens", "n"}) {
    if (const auto* v = o.if_contains(f); v && !v->is_null() && !positive_integer(*v))
      return invalid(std::string("'") + f + "' must be a positive integer", f);
  }
  if (const auto* s = o.if_contains("stream"); s && !s->is_null()) {
    if (!s->is_bool()) return invalid("'stream' must be a boolean", "stream");
    info.stream = s->get_bool();
  }
  if (const auto* so = o.if_contains("stream_options"); so && !so->is_null()) {
    if (!so->is_object()) return invalid("'stream_options' must be an object", "stream_options");
    if (const auto* iu = so->get_object().if_contains("include_usage"); iu && iu->is_bool())
      info.include_usage = iu->get_bool();
  }
  if (const auto* t = o.if_contains("temperature"); t && !t->is_null() && !t->is_number())
    return invalid("'temperature' must be a number", "temperature");
  if (const auto* tools = o.if_contains("tools"); tools && !tools->is_null() && !tools->is_array())
    return invalid("'tools' must be an array", "tools");
  return info;
}

core::Usage usage_from(const json::object& obj) {
  core::Usage u;
  const auto* v = obj.if_contains("usage");
  if (!v || !v->is_object()) return u;
  const auto& o = v->get_object();
  auto num = [&](std::initializer_list<const char*> names) -> std::int64_t {
    for (const char* n : names)
      if (const auto* x = o.if_contains(n); x && x->is_number()) return x->to_number<std::int64_t>();
    return 0;
  };
  u.prompt_tokens = num({"prompt_tokens", "input_tokens"});
  u.completion_tokens = num({"completion_tokens", "output_tokens"});
  u.total_tokens = num({"total_tokens"});
  if (u.total_tokens == 0) u.total_tokens = u.prompt_tokens + u.completion_tokens;
  u.present = true;
  return u;
}

namespace {
// The end of the JSON value starting at `from` (an object), or npos. Skips strings.
std::size_t object_end(std::string_view s, std::size_t from) {
  int depth = 0;
  bool in_string = false;
  for (std::size_t i = from; i < s.size(); ++i) {
    char c = s[i];
    if (in_string) {
      if (c == '\\')
        ++i;
      else if (c == '"')
        in_string = false;
    } else if (c == '"') {
      in_string = true;
    } else if (c == '{') {
      ++depth;
    } else if (c == '}') {
      if (--depth == 0) return i + 1;
    }
  }
  return std::string_view::npos;
}
}  // namespace

std::optional<json::object> top_level_object(std::string_view body, std::string_view key) {
  auto first = body.find_first_not_of(" \t\r\n");
  auto last = body.find_last_not_of(" \t\r\n");
  if (first == std::string_view::npos || body[first] != '{' || body[last] != '}') return std::nullopt;
  std::string quoted(1, '"');
  quoted.append(key).push_back('"');
  for (auto pos = body.rfind(quoted); pos != std::string_view::npos && pos > 0; pos = body.rfind(quoted, pos - 1)) {
    auto colon = body.find_first_not_of(" \t\r\n", pos + quoted.size());
    if (colon == std::string_view::npos || body[colon] != ':') continue;
    auto open = body.find_first_not_of(" \t\r\n", colon + 1);
    if (open == std::string_view::npos) break;
    if (body[open] != '{') return json::object{};  // null or not an object
    auto end = object_end(body, open);
    if (end == std::string_view::npos) return std::nullopt;
    json::error_code ec;
    auto v = json::parse(body.substr(open, end - open), ec);
    if (ec || !v.is_object()) return std::nullopt;
    return std::move(v.as_object());
  }
  return json::object{};
}

std::optional<core::Usage> usage_from_body(std::string_view body) {
  auto usage = top_level_object(body, "usage");
  if (!usage) return std::nullopt;
  if (usage->empty()) return core::Usage{};
  json::object wrapped;
  wrapped["usage"] = std::move(*usage);
  return usage_from(wrapped);
}

std::string stream_error_event(const core::Error& error) {
  return "data: " + error_body(error) + "\n\n";
}

void SseSplitter::append(std::string_view bytes) {
  if (pos_ > 0 && pos_ == buf_.size()) {
    buf_.clear();
    pos_ = 0;
  } else if (pos_ > 64 * 1024) {
    buf_.erase(0, pos_);
    pos_ = 0;
  }
  buf_.append(bytes.data(), bytes.size());
}

std::optional<std::string_view> SseSplitter::next_event() {
  std::string_view rest(buf_.data() + pos_, buf_.size() - pos_);
  // An event ends at the first blank line: "\n\n" or "\r\n\r\n" (or mixed).
  for (std::size_t i = 0; i < rest.size(); ++i) {
    if (rest[i] != '\n') continue;
    std::size_t j = i + 1;
    if (j < rest.size() && rest[j] == '\r') ++j;
    if (j < rest.size() && rest[j] == '\n') {
      std::size_t end = i;
      if (end > 0 && rest[end - 1] == '\r') --end;
      auto ev = rest.substr(0, end);
      pos_ += j + 1;
      return ev;
    }
  }
  return std::nullopt;
}

bool has_usage_object(std::string_view text) {
  for (auto pos = text.find("\"usage\""); pos != std::string_view::npos; pos = text.find("\"usage\"", pos + 7)) {
    auto colon = text.find_first_not_of(" \t\r\n", pos + 7);
    if (colon == std::string_view::npos || text[colon] != ':') continue;
    auto value = text.find_first_not_of(" \t\r\n", colon + 1);
    if (value != std::string_view::npos && text[value] == '{') return true;
  }
  return false;
}

bool event_payload(std::string_view event, std::string_view& data, std::string& joined) {
  bool found = false;
  while (!event.empty()) {
    auto nl = event.find('\n');
    auto line = event.substr(0, nl);
    if (!line.empty() && line.back() == '\r') line.remove_suffix(1);
    if (line.starts_with("data:")) {
      line.remove_prefix(5);
      if (!line.empty() && line.front() == ' ') line.remove_prefix(1);
      if (!found) {
        data = line;
        found = true;
      } else {
        if (joined.empty()) joined.assign(data);
        joined += '\n';
        joined.append(line);
        data = joined;
      }
    }
    if (nl == std::string_view::npos) break;
    event.remove_prefix(nl + 1);
  }
  return found;
}

std::optional<std::string> event_data(std::string_view event) {
  std::string_view data;
  std::string joined;
  if (!event_payload(event, data, joined)) return std::nullopt;
  return std::string(data);
}

}  // namespace anygpt::formats::openai
