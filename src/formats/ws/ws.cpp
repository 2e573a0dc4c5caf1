#include "formats/ws/ws.hpp"

#include <boost/json/parse.hpp>
#include <boost/json/serialize.hpp>

#include "core/json_text.hpp"

namespace anygpt::formats::ws {
namespace json = boost::json;
namespace {

Problem bad_request(std::string message, std::string request_id = {}) {
  return Problem{"bad_request", std::move(message), std::move(request_id), 0};
}

// The string at `key` into `out`; false when present but not a string.
bool string_field(const json::object& o, std::string_view key, std::string& out) {
  const auto* v = o.if_contains(key);
  if (!v || v->is_null()) return true;
  if (!v->is_string()) return false;
  out.assign(v->as_string().data(), v->as_string().size());
  return true;
}

std::string message_with(std::string_view type, std::string_view request_id) {
  std::string out = "{\"type\":";
  core::append_json_string(out, type);
  if (!request_id.empty()) {
    out += ",\"requestId\":";
    core::append_json_string(out, request_id);
  }
  return out;
}

}  // namespace

std::variant<Inbound, Problem> decode(std::string_view text) {
  json::error_code ec;
  auto v = json::parse(text, ec);
  if (ec || !v.is_object()) return Problem{"bad_json", "Messages must be JSON objects", {}, 0};
  auto& o = v.as_object();
  Inbound in;
  if (!string_field(o, "type", in.type_name) || in.type_name.empty())
    return bad_request("\"type\" must be a non-empty string");
  if (!string_field(o, "requestId", in.request_id)) return bad_request("\"requestId\" must be a string");
  if (in.type_name == "ping") {
    in.type = Inbound::Type::kPing;
  } else if (in.type_name == "auth") {
    in.type = Inbound::Type::kAuth;
    if (!string_field(o, "apiKey", in.api_key) || in.api_key.empty())
      return Problem{"auth", "auth needs \"apiKey\": the key as a string", {}, 0};
    if (const auto* p = o.if_contains("pushUsage"); p && p->is_bool()) in.push_usage = p->as_bool();
  } else if (in.type_name == "chat.cancel") {
    in.type = Inbound::Type::kCancel;
    if (in.request_id.empty()) return bad_request("chat.cancel needs the \"requestId\" of the request to stop");
  } else if (in.type_name == "chat.completions") {
    in.type = Inbound::Type::kChat;
    const auto* model = o.if_contains("model");
    if (!model || !model->is_string() || model->as_string().empty())
      return bad_request("chat.completions needs \"model\" (a string)", in.request_id);
    const auto* messages = o.if_contains("messages");
    if (!messages || !messages->is_array() || messages->as_array().empty())
      return bad_request("chat.completions needs \"messages\" (a non-empty array)", in.request_id);
    if (const auto* s = o.if_contains("stream"); s && !s->is_null()) {
      if (!s->is_bool()) return bad_request("\"stream\" must be a boolean", in.request_id);
      in.stream = s->as_bool();
    }
    o.erase("type");
    o.erase("requestId");
    if (in.stream) common::ask_stream(o);
    in.chat_body = json::serialize(o);
  } else {
    in.type = Inbound::Type::kUnknown;
  }
  return in;
}

std::string auth_ok(std::string_view tier, std::string_view role, bool already) {
  std::string out = "{\"type\":\"auth.ok\",\"tier\":";
  core::append_json_string(out, tier);
  out += ",\"role\":";
  core::append_json_string(out, role);
  if (already) out += ",\"already\":true";
  out += '}';
  return out;
}

std::string pong() {
  return "{\"type\":\"pong\"}";
}

std::string chat_start(std::string_view request_id) {
  return message_with("chat.start", request_id) + "}";
}

std::string chat_cancelled(std::string_view request_id) {
  return message_with("chat.cancelled", request_id) + "}";
}

std::string error(const Problem& p) {
  std::string out = "{\"type\":\"error\",\"code\":";
  core::append_json_string(out, p.code);
  out += ",\"message\":";
  core::append_json_string(out, p.message);
  if (!p.request_id.empty()) {
    out += ",\"requestId\":";
    core::append_json_string(out, p.request_id);
  }
  if (p.retry_after_ms > 0) out += ",\"retryAfterMs\":" + std::to_string(p.retry_after_ms);
  out += '}';
  return out;
}

std::string usage(std::string_view request_id, std::int64_t token_usage, std::int64_t request_count) {
  return message_with("usage", request_id) + ",\"tokenUsage\":" + std::to_string(token_usage) +
         ",\"requestCount\":" + std::to_string(request_count) + "}";
}

Problem problem_of(unsigned status, std::string_view body, std::int64_t retry_after_s, std::string request_id) {
  std::string message = "upstream answered " + std::to_string(status);
  std::string code;
  json::error_code ec;
  auto v = json::parse(body, ec);
  if (!ec && v.is_object())
    if (const auto* e = v.as_object().if_contains("error"); e && e->is_object()) {
      string_field(e->as_object(), "message", message);
      string_field(e->as_object(), "code", code);
    }
  Problem p{"upstream_error", std::move(message), std::move(request_id), 0};
  if (status == 401 || status == 403)
    p.code = "auth";
  else if (status == 404)
    p.code = "model_not_found";
  else if (status == 429 && code == "insufficient_quota")
    p.code = "quota_exhausted";
  else if (status == 429) {
    p.code = "rate_limited";
    p.retry_after_ms = retry_after_s > 0 ? retry_after_s * 1000 : 1000;
  } else if (status >= 400 && status < 500)
    p.code = "bad_request";
  return p;
}

std::optional<Problem> AnswerAssembler::feed(std::string_view bytes, std::vector<std::string>& out) {
  splitter_.append(bytes);
  std::string joined;
  while (auto event = splitter_.next_event()) {
    std::string_view data;
    if (!openai::event_payload(*event, data, joined) || data == "[DONE]") continue;
    json::error_code ec;
    auto v = json::parse(data, ec);
    if (ec || !v.is_object()) continue;
    const auto& chunk = v.as_object();
    if (const auto* e = chunk.if_contains("error"); e && e->is_object()) {
      Problem p{"upstream_error", "the provider failed mid-stream", request_id_, 0};
      string_field(e->as_object(), "message", p.message);
      return p;
    }
    if (id_.empty()) {
      string_field(chunk, "id", id_);
      string_field(chunk, "model", model_);
      if (const auto* c = chunk.if_contains("created"); c && c->is_int64()) created_ = c->as_int64();
    }
    if (const auto* u = chunk.if_contains("usage"); u && u->is_object()) usage_ = *u;
    const auto* choices = chunk.if_contains("choices");
    if (!choices || !choices->is_array() || choices->as_array().empty()) continue;
    const auto* choice = choices->as_array()[0].if_object();
    if (!choice) continue;
    string_field(*choice, "finish_reason", finish_reason_);
    const auto* delta = choice->if_contains("delta");
    if (!delta || !delta->is_object()) continue;
    const auto& d = delta->as_object();
    json::object shown;  // the delta's content and tool-call fragments (role-only deltas are skipped)
    if (const auto* c = d.if_contains("content"); c && c->is_string() && !c->as_string().empty()) {
      text_.append(c->as_string().data(), c->as_string().size());
      shown["content"] = *c;
    }
    if (const auto* t = d.if_contains("tool_calls"); t && t->is_array()) {
      tools_.add(*t);
      shown["tool_calls"] = *t;
    }
    if (shown.empty()) continue;
    std::string msg = message_with("chat.delta", request_id_) + ",\"delta\":" + json::serialize(shown) + "}";
    out.push_back(std::move(msg));
  }
  return std::nullopt;
}

namespace {
std::string complete_message(std::string_view request_id, std::string_view text, const json::value& usage,
                             std::int64_t latency_ms, std::string_view provider, const json::value& completion) {
  std::string out = message_with("chat.complete", request_id) + ",\"response\":";
  core::append_json_string(out, text);
  out += ",\"usage\":" + (usage.is_object() ? json::serialize(usage) : std::string("null"));
  out += ",\"latencyMs\":" + std::to_string(latency_ms);
  out += ",\"providerId\":";
  if (provider.empty())
    out += "null";
  else
    core::append_json_string(out, provider);
  out += ",\"completion\":" + json::serialize(completion) + "}";
  return out;
}
}  // namespace

std::string AnswerAssembler::finish(std::int64_t latency_ms, std::string_view provider) {
  json::object message{{"role", "assistant"},
                       {"content", text_.empty() && !tools_.empty() ? json::value() : json::value(text_)}};
  if (!tools_.empty()) {
    json::array calls;
    for (const auto& c : tools_.calls())
      calls.push_back(json::object{{"id", c.id},
                                   {"type", "function"},
                                   {"function", json::object{{"name", c.name}, {"arguments", c.arguments}}}});
    message["tool_calls"] = std::move(calls);
  }
  json::object choice{{"index", 0}, {"message", std::move(message)}};
  choice["finish_reason"] = finish_reason_.empty() ? json::value() : json::value(finish_reason_);
  json::object completion{{"id", id_}, {"object", "chat.completion"}, {"created", created_}, {"model", model_}};
  completion["choices"] = json::array{std::move(choice)};
  completion["usage"] = usage_;
  return complete_message(request_id_, text_, usage_, latency_ms, provider, completion);
}

std::variant<std::string, Problem> AnswerAssembler::complete(std::string_view body, std::int64_t latency_ms,
                                                             std::string_view provider) {
  json::error_code ec;
  auto v = json::parse(body, ec);
  if (ec || !v.is_object()) return Problem{"upstream_error", "the provider's answer was not JSON", request_id_, 0};
  const auto& o = v.as_object();
  std::string text;
  if (const auto* choices = o.if_contains("choices"); choices && choices->is_array() && !choices->as_array().empty())
    if (const auto* choice = choices->as_array()[0].if_object())
      if (const auto* m = choice->if_contains("message"); m && m->is_object())
        string_field(m->as_object(), "content", text);
  const json::value usage = o.contains("usage") ? o.at("usage") : json::value();
  return complete_message(request_id_, text, usage, latency_ms, provider, v);
}

}  // namespace anygpt::formats::ws
