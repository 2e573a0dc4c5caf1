#include "formats/ollama/provider_answer.hpp"

#include <algorithm>
#include <boost/json.hpp>

#include "formats/common/chunks.hpp"

namespace anygpt::formats::ollama {
namespace json = boost::json;

namespace {

char char_at(std::string_view s, std::size_t i) {
  return i < s.size() ? s[i] : '\0';
}

// `n` decimal digits of `s` at `at` into `out`; false when any is missing or not a digit.
bool read_digits(std::string_view s, std::size_t at, std::size_t n, int& out) {
  if (at + n > s.size()) return false;
  out = 0;
  for (std::size_t i = at; i < at + n; ++i) {
    if (s[i] < '0' || s[i] > '9') return false;
    out = out * 10 + (s[i] - '0');
  }
  return true;
}

// Days from 1970-01-01 to the proleptic Gregorian date (H. Hinnant's days_from_civil).
std::int64_t days_from_civil(std::int64_t y, unsigned m, unsigned d) {
  y -= m <= 2 ? 1 : 0;
  const std::int64_t era = (y >= 0 ? y : y - 399) / 400;
  const auto yoe = static_cast<unsigned>(y - era * 400);
  const unsigned doy = (153 * (m > 2 ? m - 3 : m + 9) + 2) / 5 + d - 1;
  const unsigned doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
  return era * 146097 + static_cast<std::int64_t>(doe) - 719468;
}

// The zone suffix at `at` ("Z", "+hh:mm", "-hh:mm") as seconds east of UTC; nullopt when malformed.
std::optional<std::int64_t> zone_offset(std::string_view t, std::size_t at) {
  char c = char_at(t, at);
  if ((c == 'Z' || c == 'z') && at + 1 == t.size()) return 0;
  int h = 0;
  int m = 0;
  if ((c != '+' && c != '-') || !read_digits(t, at + 1, 2, h) || char_at(t, at + 3) != ':' ||
      !read_digits(t, at + 4, 2, m) || at + 6 != t.size() || h > 23 || m > 59)
    return std::nullopt;
  std::int64_t offset = h * 3600 + m * 60;
  return c == '-' ? -offset : offset;
}

// Ollama's tool-call arguments (an object) as JSON text: absent or null is "{}", a string is
// taken as the text itself; nullopt for anything else.
std::optional<std::string> arguments_text(const json::value* args) {
  if (!args || args->is_null()) return std::string("{}");
  if (args->is_object()) return json::serialize(*args);
  if (args->is_string()) return std::string(args->get_string());
  return std::nullopt;
}

std::int64_t count(const json::object& line, std::string_view key) {
  const auto* v = line.if_contains(key);
  if (!v || !v->is_number()) return 0;
  json::error_code ec;
  auto n = v->to_number<std::int64_t>(ec);
  return ec || n < 0 ? 0 : n;
}

json::array openai_calls(const std::vector<ToolCall>& calls) {
  json::array out;
  for (const auto& c : calls)
    out.push_back(json::object{
        {"id", c.id}, {"type", "function"}, {"function", json::object{{"name", c.name}, {"arguments", c.arguments}}}});
  return out;
}

core::Result<json::object> parse_object(std::string_view body, std::string_view what) {
  json::error_code ec;
  auto v = json::parse(body, ec);
  if (ec || !v.is_object()) return upstream_error("the Ollama " + std::string(what) + " is not a JSON object");
  if (auto e = line_error(v.get_object())) return *e;
  return std::move(v.get_object());
}

}  // namespace

core::Error upstream_error(std::string message) {
  return core::make_error(core::ErrorKind::kUpstreamError, std::move(message));
}

std::optional<core::Error> line_error(const json::object& line) {
  const auto* e = line.if_contains("error");
  if (!e || e->is_null()) return std::nullopt;
  return upstream_error("Ollama error: " + (e->is_string() ? std::string(e->get_string()) : json::serialize(*e)));
}

std::int64_t created_seconds(std::string_view t) {
  int y = 0, mo = 0, d = 0, h = 0, mi = 0, s = 0;
  char sep = char_at(t, 10);
  if (!read_digits(t, 0, 4, y) || char_at(t, 4) != '-' || !read_digits(t, 5, 2, mo) || char_at(t, 7) != '-' ||
      !read_digits(t, 8, 2, d) || (sep != 'T' && sep != 't') || !read_digits(t, 11, 2, h) || char_at(t, 13) != ':' ||
      !read_digits(t, 14, 2, mi) || char_at(t, 16) != ':' || !read_digits(t, 17, 2, s))
    return 0;
  if (mo < 1 || mo > 12 || d < 1 || d > 31 || h > 23 || mi > 59 || s > 60) return 0;
  std::size_t at = 19;
  if (char_at(t, at) == '.') {
    ++at;
    while (char_at(t, at) >= '0' && char_at(t, at) <= '9') ++at;
  }
  auto offset = zone_offset(t, at);
  if (!offset) return 0;
  auto days = days_from_civil(y, static_cast<unsigned>(mo), static_cast<unsigned>(d));
  return days * 86400 + h * 3600 + mi * 60 + s - *offset;
}

bool CallIds::used(std::string_view id) const {
  return std::find(used_.begin(), used_.end(), id) != used_.end();
}

std::string CallIds::next(std::string_view own, std::size_t index) {
  if (!own.empty() && !used(own)) return used_.emplace_back(own);
  for (std::size_t n = index;; ++n)
    if (auto id = "call_" + std::to_string(n); !used(id)) return used_.emplace_back(std::move(id));
}

core::Result<std::vector<ToolCall>> read_tool_calls(const json::object& message, std::size_t first_index,
                                                    CallIds& ids) {
  std::vector<ToolCall> out;
  const auto* v = message.if_contains("tool_calls");
  if (!v || v->is_null()) return out;
  if (!v->is_array()) return upstream_error("Ollama message.tool_calls is not an array");
  for (const auto& c : v->get_array()) {
    std::string at = "Ollama message.tool_calls[" + std::to_string(out.size()) + "]";
    const json::value* fn = c.is_object() ? c.get_object().if_contains("function") : nullptr;
    const json::object* f = fn && fn->is_object() ? &fn->get_object() : nullptr;
    auto name = f ? common::str(*f, "name") : std::string_view{};
    if (name.empty()) return upstream_error(at + " has no function name");
    auto args = arguments_text(f->if_contains("arguments"));
    if (!args) return upstream_error(at + ".function.arguments is not an object");
    auto id = ids.next(common::str(c.get_object(), "id"), first_index + out.size());
    out.push_back(ToolCall{std::move(id), std::string(name), std::move(*args)});
  }
  return out;
}

std::string_view finish_reason(std::string_view done_reason, bool made_tool_calls) {
  if (made_tool_calls) return "tool_calls";
  return done_reason == "length" ? "length" : "stop";
}

bool load_only(std::string_view done_reason) {
  return done_reason == "load" || done_reason == "unload";
}

json::object usage_of(const json::object& line) {
  auto prompt = count(line, "prompt_eval_count");
  auto completion = count(line, "eval_count");
  return json::object{
      {"prompt_tokens", prompt}, {"completion_tokens", completion}, {"total_tokens", prompt + completion}};
}

std::string_view model_of(const json::object& line, std::string_view fallback) {
  auto model = common::str(line, "model");
  return model.empty() ? fallback : model;
}

core::Result<json::object> decode_chat_answer(std::string_view body, std::string_view model) {
  auto parsed = parse_object(body, "answer");
  if (!parsed) return parsed.error();
  const auto& a = *parsed;
  const auto* m = a.if_contains("message");
  if (!m || !m->is_object()) return upstream_error("the Ollama answer has no message object");
  const auto* done = a.if_contains("done");
  if (!done || !done->is_bool() || !done->get_bool())
    return upstream_error("the Ollama answer is not a finished answer (done is not true)");
  const auto& msg = m->get_object();
  auto reason = common::str(a, "done_reason");
  auto content = common::str(msg, "content");
  if (load_only(reason) && content.empty())
    return upstream_error("the Ollama answer is a model " + std::string(reason) + ", not an answer");
  CallIds ids;
  auto calls = read_tool_calls(msg, 0, ids);
  if (!calls) return calls.error();
  json::object message{{"role", "assistant"}, {"content", content}};
  if (auto thinking = common::str(msg, "thinking"); !thinking.empty()) message["reasoning_content"] = thinking;
  if (!calls->empty()) {
    if (content.empty()) message["content"] = nullptr;
    message["tool_calls"] = openai_calls(*calls);
  }
  json::object choice{
      {"index", 0}, {"message", std::move(message)}, {"finish_reason", finish_reason(reason, !calls->empty())}};
  return json::object{{"id", kAnswerId},
                      {"object", "chat.completion"},
                      {"created", created_seconds(common::str(a, "created_at"))},
                      {"model", model_of(a, model)},
                      {"choices", json::array{std::move(choice)}},
                      {"usage", usage_of(a)}};
}

core::Result<json::object> decode_embed_answer(std::string_view body, std::string_view model) {
  auto parsed = parse_object(body, "embed answer");
  if (!parsed) return parsed.error();
  auto* e = parsed->if_contains("embeddings");
  if (!e || !e->is_array()) return upstream_error("the Ollama embed answer has no embeddings array");
  json::array data;
  auto& vectors = e->get_array();
  for (std::size_t i = 0; i < vectors.size(); ++i) {
    auto& v = vectors[i];
    bool numbers = v.is_array() && std::all_of(v.get_array().begin(), v.get_array().end(),
                                               [](const json::value& x) { return x.is_number(); });
    if (!numbers) return upstream_error("the Ollama embeddings[" + std::to_string(i) + "] is not an array of numbers");
    data.push_back(json::object{{"object", "embedding"}, {"index", i}, {"embedding", std::move(v)}});
  }
  auto prompt = count(*parsed, "prompt_eval_count");
  return json::object{{"object", "list"},
                      {"data", std::move(data)},
                      {"model", model_of(*parsed, model)},
                      {"usage", json::object{{"prompt_tokens", prompt}, {"total_tokens", prompt}}}};
}

}  // namespace anygpt::formats::ollama
