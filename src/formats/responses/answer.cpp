#include "formats/responses/answer.hpp"

#include <algorithm>
#include <boost/json.hpp>

#include "formats/common/chunks.hpp"
#include "formats/openai/openai.hpp"

namespace anygpt::formats::responses {
namespace json = boost::json;

namespace {

bool id_char(char c) {
  return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') || c == '_';
}

std::string numbered(std::string_view prefix, const std::string& suffix, std::size_t n) {
  std::string out(prefix);
  out += suffix;
  out += '_';
  out += std::to_string(n);
  return out;
}

std::int64_t detail(const json::object& usage, std::string_view details, std::string_view key) {
  const auto* d = usage.if_contains(details);
  const auto* v = d && d->is_object() ? d->get_object().if_contains(key) : nullptr;
  return v && v->is_int64() ? std::max<std::int64_t>(v->get_int64(), 0) : 0;
}

enum class Kind { kString, kNumber, kBool, kObject, kArray, kAny };

bool is(const json::value& v, Kind kind) {
  switch (kind) {
    case Kind::kString: return v.is_string();
    case Kind::kNumber: return v.is_number();
    case Kind::kBool: return v.is_bool();
    case Kind::kObject: return v.is_object();
    case Kind::kArray: return v.is_array();
    case Kind::kAny: return true;
  }
  return false;
}

// The request's value of `key` when it is of `kind`, else `fallback`.
json::value echo(const json::object* request, std::string_view key, Kind kind, json::value fallback) {
  const json::value* v = request ? common::field(*request, key) : nullptr;
  if (v && is(*v, kind)) return json::value(*v, json::storage_ptr{});
  return fallback;
}

json::object reasoning_echo(const json::object* request) {
  json::object out{{"effort", nullptr}, {"summary", nullptr}};
  const auto* r = request ? common::field(*request, "reasoning") : nullptr;
  if (!r || !r->is_object()) return out;
  for (const char* key : {"effort", "summary"})
    if (const auto* v = common::field(r->get_object(), key); v && v->is_string()) out[key] = v->get_string();
  return out;
}

// The message item (text and refusal parts) and function_call items of a chat message.
void append_output(const json::object& message, const Ids& ids, std::string_view status, json::array& output) {
  json::array content;
  std::string text;
  if (const auto* c = message.if_contains("content"); c && c->is_string()) {
    text = c->get_string();
  } else if (c && c->is_array()) {
    for (const auto& part : c->get_array())
      if (part.is_object()) text += common::str(part.get_object(), "text");
  }
  if (!text.empty()) content.push_back(output_text(text));
  if (auto refusal = common::str(message, "refusal"); !refusal.empty())
    content.push_back(json::object{{"type", "refusal"}, {"refusal", refusal}});
  if (!content.empty())
    output.push_back(json::object{{"id", ids.message(0)},
                                  {"type", "message"},
                                  {"status", status},
                                  {"role", "assistant"},
                                  {"content", std::move(content)}});
  std::size_t n = 0;
  auto add_call = [&](std::string_view id, const json::object& function) {
    auto call_id = id.empty() ? ids.call(n) : std::string(id);
    output.push_back(function_call_item(ids.function_call(n), call_id, common::str(function, "name"),
                                        common::str(function, "arguments"), status));
    ++n;
  };
  if (const auto* calls = message.if_contains("tool_calls"); calls && calls->is_array())
    for (const auto& call : calls->get_array()) {
      const auto* o = call.if_object();
      const auto* f = o ? o->if_contains("function") : nullptr;
      if (f && f->is_object()) add_call(common::str(*o, "id"), f->get_object());
    }
  if (const auto* f = message.if_contains("function_call"); f && f->is_object()) add_call("", f->get_object());
}

}  // namespace

Ids::Ids(std::string_view request_id) {
  for (char c : request_id)
    if (id_char(c)) suffix += c;
  if (suffix.empty()) suffix = "anygpt";
}

std::string Ids::message(std::size_t n) const {
  return n == 0 ? "msg_" + suffix : numbered("msg_", suffix, n);
}

std::string Ids::function_call(std::size_t n) const {
  return numbered("fc_", suffix, n);
}

std::string Ids::call(std::size_t n) const {
  return numbered("call_", suffix, n);
}

UsageDetails usage_details(const json::object& answer) {
  UsageDetails out;
  const auto* u = answer.if_contains("usage");
  if (!u || !u->is_object()) return out;
  out.cached_tokens = detail(u->get_object(), "prompt_tokens_details", "cached_tokens");
  out.reasoning_tokens = detail(u->get_object(), "completion_tokens_details", "reasoning_tokens");
  return out;
}

json::object usage_object(const core::Usage& usage, const UsageDetails& details) {
  std::int64_t total = usage.total_tokens > 0 ? usage.total_tokens : usage.prompt_tokens + usage.completion_tokens;
  return json::object{
      {"input_tokens", usage.prompt_tokens},
      {"input_tokens_details", json::object{{"cached_tokens", std::min(details.cached_tokens, usage.prompt_tokens)}}},
      {"output_tokens", usage.completion_tokens},
      {"output_tokens_details", json::object{{"reasoning_tokens", details.reasoning_tokens}}},
      {"total_tokens", total}};
}

json::object response_shell(const AnswerContext& ctx, std::int64_t created_at) {
  const json::object* request = ctx.request ? ctx.request->if_object() : nullptr;
  return json::object{
      {"id", Ids(ctx.request_id).response()},
      {"object", "response"},
      {"created_at", created_at},
      {"status", "in_progress"},
      {"background", false},
      {"error", nullptr},
      {"incomplete_details", nullptr},
      {"instructions", echo(request, "instructions", Kind::kString, nullptr)},
      {"max_output_tokens", echo(request, "max_output_tokens", Kind::kNumber, nullptr)},
      {"model", ctx.model},
      {"output", json::array{}},
      {"parallel_tool_calls", echo(request, "parallel_tool_calls", Kind::kBool, true)},
      {"previous_response_id", nullptr},
      {"reasoning", reasoning_echo(request)},
      {"store", false},
      {"temperature", echo(request, "temperature", Kind::kNumber, nullptr)},
      {"text", echo(request, "text", Kind::kObject, json::object{{"format", json::object{{"type", "text"}}}})},
      {"tool_choice", echo(request, "tool_choice", Kind::kAny, "auto")},
      {"tools", echo(request, "tools", Kind::kArray, json::array{})},
      {"top_p", echo(request, "top_p", Kind::kNumber, nullptr)},
      {"truncation", echo(request, "truncation", Kind::kString, "disabled")},
      {"usage", nullptr},
      {"user", echo(request, "user", Kind::kString, nullptr)},
      {"metadata", echo(request, "metadata", Kind::kObject, json::object{})}};
}

Outcome outcome_of(std::string_view finish_reason) {
  if (finish_reason == "length") return Outcome{"incomplete", "max_output_tokens"};
  if (finish_reason == "content_filter") return Outcome{"incomplete", "content_filter"};
  return Outcome{};
}

void set_outcome(json::object& response, const Outcome& outcome) {
  response["status"] = outcome.status;
  if (outcome.incomplete_reason.empty())
    response["incomplete_details"] = nullptr;
  else
    response["incomplete_details"] = json::object{{"reason", outcome.incomplete_reason}};
}

json::object output_text(std::string_view text) {
  return json::object{
      {"type", "output_text"}, {"text", text}, {"annotations", json::array{}}, {"logprobs", json::array{}}};
}

json::object function_call_item(std::string_view id, std::string_view call_id, std::string_view name,
                                std::string_view arguments, std::string_view status) {
  return json::object{{"id", id},           {"type", "function_call"},
                      {"status", status},   {"arguments", arguments},
                      {"call_id", call_id}, {"name", name}};
}

std::string encode_response(const json::object& answer, const AnswerContext& ctx, const Moment& now) {
  const auto* created = answer.if_contains("created");
  std::int64_t created_at =
      created && created->is_int64() && created->get_int64() > 0 ? created->get_int64() : now.wall_ms / 1000;
  auto response = response_shell(ctx, created_at);
  const auto* choice = common::first_choice(answer);
  auto outcome = outcome_of(choice ? common::str(*choice, "finish_reason") : "");
  set_outcome(response, outcome);
  const auto* message = choice ? choice->if_contains("message") : nullptr;
  if (message && message->is_object())
    append_output(message->get_object(), Ids(ctx.request_id), outcome.status, response["output"].get_array());
  response["usage"] = usage_object(openai::usage_from(answer), usage_details(answer));
  return json::serialize(response);
}

}  // namespace anygpt::formats::responses
