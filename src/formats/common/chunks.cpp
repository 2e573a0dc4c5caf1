#include "formats/common/chunks.hpp"

#include <boost/json.hpp>

#include "formats/openai/openai.hpp"

namespace anygpt::formats::common {
namespace json = boost::json;

const json::object* first_choice(const json::object& answer) {
  const auto* choices = answer.if_contains("choices");
  if (!choices || !choices->is_array() || choices->get_array().empty()) return nullptr;
  const auto& c = choices->get_array().front();
  return c.is_object() ? &c.get_object() : nullptr;
}

const json::value* field(const json::object& o, std::string_view key) {
  const auto* v = o.if_contains(key);
  return v && !v->is_null() ? v : nullptr;
}

std::string_view str(const json::object& o, std::string_view key) {
  const auto* v = o.if_contains(key);
  if (!v || !v->is_string()) return {};
  return v->get_string();
}

std::string message_text(const json::object& message) {
  std::string text;
  if (const auto* c = message.if_contains("content"); c && c->is_string()) {
    text = c->get_string();
  } else if (c && c->is_array()) {
    for (const auto& part : c->get_array())
      if (part.is_object()) text += str(part.get_object(), "text");
  }
  if (text.empty()) text = str(message, "refusal");
  return text;
}

std::size_t code_points(std::string_view s) {
  std::size_t n = 0;
  for (unsigned char ch : s) n += (ch & 0xC0) != 0x80 ? 1 : 0;
  return n;
}

bool is_content_chunk(const json::object& chunk) {
  if (delivered_chars(chunk) > 0) return true;
  const auto* c = first_choice(chunk);
  if (!c) return false;
  const auto* delta = c->if_contains("delta");
  const bool calls = delta && delta->is_object() && field(delta->get_object(), "tool_calls");
  return calls || field(*c, "finish_reason");
}

DeltaMarks append_delta_text(const json::object& chunk, std::string& text) {
  DeltaMarks marks;
  const auto* choices = chunk.if_contains("choices");
  if (!choices || !choices->is_array()) return marks;
  bool first = true;
  for (const auto& c : choices->get_array()) {
    if (!c.is_object()) continue;
    const auto& choice = c.get_object();
    marks.finish = marks.finish || field(choice, "finish_reason");
    const auto* delta = choice.if_contains("delta");
    if (!delta || !delta->is_object()) continue;
    marks.tool_call = marks.tool_call || field(delta->get_object(), "tool_calls");
    if (first) text += str(delta->get_object(), "content");
    first = false;
  }
  return marks;
}

std::size_t drop_leading(json::object& chunk, std::string_view overlap) {
  auto* choices = chunk.if_contains("choices");
  if (!choices || !choices->is_array() || choices->get_array().empty()) return 0;
  auto* choice = choices->get_array()[0].if_object();
  auto* delta = choice ? choice->if_contains("delta") : nullptr;
  auto* content = delta && delta->is_object() ? delta->get_object().if_contains("content") : nullptr;
  if (!content || !content->is_string()) return 0;
  std::string_view text = content->get_string();
  std::size_t n = 0;
  while (n < text.size() && n < overlap.size() && text[n] == overlap[n]) ++n;
  if (n > 0) content->get_string().erase(0, n);
  return n;
}

std::size_t delivered_chars(const json::object& chunk) {
  std::size_t n = 0;
  const auto* choices = chunk.if_contains("choices");
  if (!choices || !choices->is_array()) return 0;
  for (const auto& c : choices->get_array()) {
    const auto* d = c.is_object() ? c.get_object().if_contains("delta") : nullptr;
    if (!d || !d->is_object()) continue;
    const auto& delta = d->get_object();
    for (auto key : {"content", "refusal", "reasoning_content", "reasoning"}) n += code_points(str(delta, key));
    if (const auto* calls = delta.if_contains("tool_calls"); calls && calls->is_array())
      for (const auto& call : calls->get_array()) {
        const auto* f = call.is_object() ? call.get_object().if_contains("function") : nullptr;
        if (f && f->is_object()) n += code_points(str(f->get_object(), "arguments"));
      }
  }
  return n;
}

void ask_stream(json::object& chat) {
  chat["stream"] = true;
  chat["stream_options"] = json::object{{"include_usage", true}};
}

Canonical chat_canonical(json::object chat, std::string model, bool stream) {
  if (stream) ask_stream(chat);
  Canonical c;
  c.op = Operation::kChat;
  c.body = std::move(chat);
  c.model = std::move(model);
  c.stream = stream;
  return c;
}

core::Result<Canonical> peek_model_and_stream(const json::value& body, bool stream_default) {
  const auto* o = body.if_object();
  auto model = o ? str(*o, "model") : std::string_view();
  if (model.empty())
    return core::make_error(core::ErrorKind::kInvalidRequest, "'model' must be a non-empty string", "model");
  Canonical c;
  c.model = std::string(model);
  c.stream = stream_default;
  if (const auto* s = o->if_contains("stream"); s && s->is_bool()) c.stream = s->get_bool();
  return c;
}

json::object parse_arguments(std::string_view arguments) {
  auto first = arguments.find_first_not_of(" \t\r\n");
  if (first == std::string_view::npos) return {};
  json::error_code ec;
  auto v = json::parse(arguments, ec);
  if (!ec && v.is_object()) return std::move(v.get_object());
  return json::object{{"_raw", arguments}};
}

void ToolCallAccumulator::add(const json::value& tool_calls) {
  if (!tool_calls.is_array()) return;
  for (const auto& tc : tool_calls.get_array()) {
    if (!tc.is_object()) continue;
    const auto& o = tc.get_object();
    long long index = static_cast<long long>(slots_.size());
    if (const auto* i = o.if_contains("index"); i && (i->is_int64() || i->is_uint64()))
      index = i->is_int64() ? i->get_int64() : static_cast<long long>(i->get_uint64());
    std::size_t at = 0;
    while (at < slots_.size() && slots_[at] != index) ++at;
    if (at == slots_.size()) {
      slots_.push_back(index);
      calls_.emplace_back();
    }
    auto& call = calls_[at];
    if (auto id = str(o, "id"); !id.empty()) call.id = id;
    if (const auto* f = o.if_contains("function"); f && f->is_object()) {
      if (auto name = str(f->get_object(), "name"); !name.empty()) call.name = name;
      call.arguments += str(f->get_object(), "arguments");
    }
  }
}

UsageParts usage_parts(const json::object& answer) {
  UsageParts out;
  out.usage = openai::usage_from(answer);
  const auto* u = answer.if_contains("usage");
  if (!u || !u->is_object()) return out;
  const auto* details = u->get_object().if_contains("prompt_tokens_details");
  if (!details || !details->is_object()) return out;
  if (const auto* c = details->get_object().if_contains("cached_tokens"); c && c->is_int64())
    out.cached_tokens = std::min(c->get_int64(), out.usage.prompt_tokens);
  return out;
}

namespace {
std::size_t text_chars(const json::value& v) {
  if (v.is_string()) return v.get_string().size();
  std::size_t n = 0;
  if (v.is_array())
    for (const auto& e : v.get_array()) n += text_chars(e);
  if (v.is_object())
    for (const auto& [k, e] : v.get_object())
      if (k == "text" || k == "content" || k == "arguments" || k == "name" || k == "description" || k == "function" ||
          k == "tool_calls")
        n += text_chars(e);
  return n;
}
}  // namespace

std::int64_t estimate_prompt_tokens(const json::object& chat_request) {
  std::size_t chars = 0;
  std::int64_t messages = 0;
  if (const auto* m = chat_request.if_contains("messages"); m && m->is_array()) {
    messages = static_cast<std::int64_t>(m->get_array().size());
    chars += text_chars(*m);
  }
  if (const auto* t = chat_request.if_contains("tools"); t && t->is_array())
    for (const auto& tool : t->get_array()) chars += json::serialize(tool).size();
  return static_cast<std::int64_t>((chars + 3) / 4) + 4 * messages;
}

}  // namespace anygpt::formats::common
