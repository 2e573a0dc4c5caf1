#include "mock/ollama_responder.hpp"

#include <boost/json/parse.hpp>
#include <cstdio>
#include <ctime>
#include <optional>

#include "mock/embeddings.hpp"
#include "mock/json_text.hpp"
#include "mock/wire_util.hpp"

namespace anygpt::mock {
namespace json = boost::json;
using core::ErrorKind;
using wire::field;
using wire::sv;

namespace {

constexpr std::int64_t kLoadNanos = 1'000'000;          // load_duration
constexpr std::int64_t kPromptNanosPerToken = 100'000;  // prompt_eval_duration per prompt token
constexpr std::int64_t kEvalNanosPerToken = 1'000'000;  // eval_duration per generated token

core::Error invalid(std::string message) {
  return core::make_error(ErrorKind::kInvalidRequest, std::move(message));
}

// The JSON kind as Go's encoding/json names it in "cannot unmarshal <kind> into ...".
std::string_view go_kind(const json::value& v) {
  if (v.is_string()) return "string";
  if (v.is_number()) return "number";
  if (v.is_bool()) return "bool";
  if (v.is_array()) return "array";
  return "object";
}

core::Error unmarshal(const json::value& v, std::string_view field_path, std::string_view go_type) {
  return invalid("json: cannot unmarshal " + std::string(go_kind(v)) + " into Go struct field " +
                 std::string(field_path) + " of type " + std::string(go_type));
}

// The first byte of `s` that is not valid standard base64 (as Go's base64.StdEncoding decodes
// []byte fields), or nullopt.
std::optional<std::size_t> bad_base64_byte(std::string_view s) {
  if (wire::valid_base64(s)) return std::nullopt;
  for (std::size_t i = 0; i < s.size(); ++i) {
    char c = s[i];
    bool ok = (c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '+' || c == '/';
    if (!ok && !(c == '=' && i + 2 >= s.size())) return i;
  }
  return s.size() - s.size() % 4;
}

std::optional<core::Error> read_message(const json::value& v, Conversation& conv, std::string& last_role) {
  const std::string_view path = "ChatRequest.messages";
  if (!v.is_object()) return unmarshal(v, path, "api.Message");
  const auto& m = v.get_object();
  std::string_view role;
  if (const auto* r = field(m, "role"); r && !r->is_null()) {
    if (!r->is_string()) return unmarshal(*r, "ChatRequest.messages.role", "string");
    role = sv(r->get_string());
  }
  if (role != "system" && role != "user" && role != "assistant" && role != "tool")
    return invalid("invalid role: \"" + std::string(role) + "\" (expected system, user, assistant or tool)");
  std::string_view content;
  if (const auto* c = field(m, "content"); c && !c->is_null()) {
    if (!c->is_string()) return unmarshal(*c, "ChatRequest.messages.content", "string");
    content = sv(c->get_string());
  }
  conv.prompt_chars += utf8_length(content);
  if (const auto* images = field(m, "images"); images && !images->is_null()) {
    if (!images->is_array()) return unmarshal(*images, "ChatRequest.messages.images", "[]api.ImageData");
    for (const auto& img : images->get_array()) {
      if (!img.is_string()) return unmarshal(img, "ChatRequest.messages.images", "api.ImageData");
      if (auto at = bad_base64_byte(sv(img.get_string())))
        return invalid("illegal base64 data at input byte " + std::to_string(*at));
    }
  }
  if (const auto* calls = field(m, "tool_calls"); calls && !calls->is_null()) {
    if (!calls->is_array()) return unmarshal(*calls, "ChatRequest.messages.tool_calls", "[]api.ToolCall");
    for (const auto& call : calls->get_array()) {
      if (!call.is_object()) return unmarshal(call, "ChatRequest.messages.tool_calls", "api.ToolCall");
      const auto* fn = field(call.get_object(), "function");
      if (!fn || fn->is_null()) continue;
      if (!fn->is_object()) return unmarshal(*fn, "ChatRequest.messages.tool_calls.function", "api.ToolCallFunction");
      const auto& f = fn->get_object();
      if (const auto* name = field(f, "name"); name && !name->is_null() && !name->is_string())
        return unmarshal(*name, "ChatRequest.messages.tool_calls.function.name", "string");
      if (const auto* args = field(f, "arguments"); args && !args->is_null() && !args->is_object())
        return unmarshal(*args, "ChatRequest.messages.tool_calls.function.arguments", "api.ToolCallFunctionArguments");
    }
  }
  if (role == "user") conv.last_user_text = std::string(content);
  conv.prefill.assign(role == "assistant" ? content : std::string_view{});  // a final assistant message
  last_role = std::string(role);
  return std::nullopt;
}

std::optional<core::Error> read_tools(const json::value* tools, Conversation& conv) {
  if (!tools || tools->is_null()) return std::nullopt;
  if (!tools->is_array()) return unmarshal(*tools, "ChatRequest.tools", "api.Tools");
  const auto& list = tools->get_array();
  for (std::size_t i = 0; i < list.size(); ++i) {
    if (!list[i].is_object()) return unmarshal(list[i], "ChatRequest.tools", "api.Tool");
    const auto* fn = field(list[i].get_object(), "function");
    if (fn && !fn->is_null() && !fn->is_object())
      return unmarshal(*fn, "ChatRequest.tools.function", "api.ToolFunction");
    const auto* name = fn && fn->is_object() ? field(fn->get_object(), "name") : nullptr;
    if (name && !name->is_null() && !name->is_string())
      return unmarshal(*name, "ChatRequest.tools.function.name", "string");
    if (i == 0) {
      if (!name || !name->is_string() || name->get_string().empty())
        return invalid("tools[0]: function name is required");
      conv.tool_name = std::string(sv(name->get_string()));
    }
  }
  return std::nullopt;
}

std::optional<core::Error> read_options(const json::value* options, Conversation& conv) {
  if (!options || options->is_null()) return std::nullopt;
  if (!options->is_object()) return unmarshal(*options, "ChatRequest.options", "map[string]interface {}");
  const auto& o = options->get_object();
  if (const auto* n = field(o, "num_predict"); n && !n->is_null()) {
    auto v = wire::as_integer(*n);
    if (!v) return invalid("invalid int value [" + wire::describe(*n) + "] for option num_predict");
    if (*v > 0) conv.max_output_tokens = *v;  // -1: unlimited, -2: fill the context
  }
  if (const auto* t = field(o, "temperature"); t && !t->is_null() && !t->is_number())
    return invalid("invalid float value [" + wire::describe(*t) + "] for option temperature");
  if (const auto* stop = field(o, "stop"); stop && !stop->is_null()) {
    if (!stop->is_array()) return invalid("invalid type for option stop: expected a list of strings");
    for (const auto& s : stop->get_array()) {
      if (!s.is_string()) return invalid("invalid type for option stop: expected a list of strings");
      conv.stop_sequences.emplace_back(sv(s.get_string()));
    }
  }
  return std::nullopt;
}

core::Result<json::value> parse(std::string_view body) {
  boost::system::error_code ec;
  auto doc = json::parse(wire::js(body), ec);
  if (ec) return invalid(body.empty() ? "EOF" : "unexpected EOF");
  if (!doc.is_object()) return unmarshal(doc, "", "api.ChatRequest");
  return doc;
}

std::optional<core::Error> read_model(const json::object& o, std::string& model, std::string_view request) {
  const auto* m = field(o, "model");
  if (m && !m->is_null() && !m->is_string()) return unmarshal(*m, std::string(request) + ".model", "string");
  if (!m || !m->is_string() || m->get_string().empty()) return invalid("model is required");
  model = std::string(sv(m->get_string()));
  return std::nullopt;
}

void append_head(std::string& out, const OllamaPlan& plan, std::string_view created_at) {
  out += "{\"model\":";
  append_json_string(out, plan.model);
  out += ",\"created_at\":";
  append_json_string(out, created_at);
  out += ",\"message\":{\"role\":\"assistant\",\"content\":";
}

void append_tool_calls(std::string& out, const ReplyPlan& a) {
  out += ",\"tool_calls\":[{\"function\":{\"name\":";
  append_json_string(out, a.tool_name);
  out += ",\"arguments\":";
  out += kToolArguments;
  out += "}}]";
}

// ,"done":true,"done_reason":..., durations and counts}
void append_done(std::string& out, const OllamaPlan& plan) {
  const auto& a = plan.answer;
  out += ",\"done\":true,\"done_reason\":\"";
  out += plan.load_only ? "load" : a.finish == FinishReason::kLength ? "length" : "stop";
  out += '"';
  if (plan.load_only) {
    out += '}';
    return;
  }
  std::int64_t prompt_nanos = a.prompt_tokens * kPromptNanosPerToken;
  std::int64_t eval_nanos = a.completion_tokens * kEvalNanosPerToken;
  out += ",\"total_duration\":";
  append_int(out, kLoadNanos + prompt_nanos + eval_nanos);
  out += ",\"load_duration\":";
  append_int(out, kLoadNanos);
  out += ",\"prompt_eval_count\":";
  append_int(out, a.prompt_tokens);
  out += ",\"prompt_eval_duration\":";
  append_int(out, prompt_nanos);
  out += ",\"eval_count\":";
  append_int(out, a.completion_tokens);
  out += ",\"eval_duration\":";
  append_int(out, eval_nanos);
  out += '}';
}

}  // namespace

core::Result<OllamaPlan> plan_ollama_chat(std::string_view body) {
  auto doc = parse(body);
  if (!doc) return doc.error();
  const auto& o = doc->get_object();
  OllamaPlan plan;
  if (auto err = read_model(o, plan.model, "ChatRequest")) return *err;
  if (const auto* stream = field(o, "stream"); stream && !stream->is_null()) {
    if (!stream->is_bool()) return unmarshal(*stream, "ChatRequest.stream", "bool");
    plan.stream = stream->get_bool();
  }
  if (const auto* format = field(o, "format"); format && !format->is_null()) {
    bool ok = format->is_object() ||
              (format->is_string() && (format->get_string() == "json" || format->get_string().empty()));
    if (!ok) return invalid("invalid format: expected \"json\" or a JSON schema");
  }
  Conversation conv;
  std::string last_role;
  const auto* messages = field(o, "messages");
  if (messages && !messages->is_null()) {
    if (!messages->is_array()) return unmarshal(*messages, "ChatRequest.messages", "[]api.Message");
    for (const auto& m : messages->get_array())
      if (auto err = read_message(m, conv, last_role)) return *err;
  }
  if (auto err = read_tools(field(o, "tools"), conv)) return *err;
  if (auto err = read_options(field(o, "options"), conv)) return *err;
  plan.load_only = !messages || !messages->is_array() || messages->get_array().empty();
  conv.last_turn_is_user = last_role == "user";
  plan.answer = plan_reply(conv);
  if (plan.load_only) plan.answer = ReplyPlan{};
  return plan;
}

std::string ollama_chat_body(const OllamaPlan& plan, std::string_view created_at) {
  const auto& a = plan.answer;
  std::string out;
  out.reserve(384 + plan.model.size() + a.reply.size());
  append_head(out, plan, created_at);
  append_json_string(out, a.reply);
  if (!a.tool_name.empty()) append_tool_calls(out, a);
  out += '}';
  append_done(out, plan);
  return out;
}

SseEvents ollama_chat_lines(const OllamaPlan& plan, std::string_view created_at, const StreamShape& shape) {
  const auto& a = plan.answer;
  const bool tool = !a.tool_name.empty();
  std::vector<std::string_view> pieces;
  if (tool) {
    pieces.emplace_back();  // one line with the whole call
  } else if (!plan.load_only) {
    pieces = split_text(a.reply, shape.content_chunks);
  }
  SseEvents ev;
  auto& out = ev.buffer();
  out.reserve((pieces.size() + 1) * (160 + plan.model.size()) + a.reply.size() * 2);
  ev.begin_content();
  for (auto piece : pieces) {
    append_head(out, plan, created_at);
    append_json_string(out, piece);
    if (tool) append_tool_calls(out, a);
    out += "},\"done\":false}\n";
    ev.end_event();
  }
  ev.end_content();
  if (shape.done_event) {
    append_head(out, plan, created_at);
    out += "\"\"}";
    append_done(out, plan);
    out += '\n';
    ev.end_event();
  }
  return ev;
}

core::Result<OllamaEmbedPlan> plan_ollama_embed(std::string_view body) {
  auto doc = parse(body);
  if (!doc) return doc.error();
  const auto& o = doc->get_object();
  OllamaEmbedPlan plan;
  if (auto err = read_model(o, plan.model, "EmbedRequest")) return *err;
  if (const auto* input = field(o, "input"); input && !input->is_null()) {
    if (input->is_string()) {
      plan.inputs.emplace_back(sv(input->get_string()));
    } else if (input->is_array()) {
      for (const auto& item : input->get_array()) {
        if (!item.is_string()) return invalid("invalid input type");
        plan.inputs.emplace_back(sv(item.get_string()));
      }
    } else {
      return invalid("invalid input type");
    }
  }
  for (const auto& text : plan.inputs) plan.prompt_tokens += estimate_tokens(utf8_length(text));
  if (const auto* dims = field(o, "dimensions"); dims && !dims->is_null()) {
    auto n = wire::as_integer(*dims);
    if (!n) return unmarshal(*dims, "EmbedRequest.dimensions", "int");
    if (*n < 1 || *n > 4096) return invalid("dimensions must be between 1 and 4096 in this mock");
    plan.dimensions = static_cast<int>(*n);
  }
  if (const auto* opts = field(o, "options"); opts && !opts->is_null() && !opts->is_object())
    return unmarshal(*opts, "EmbedRequest.options", "map[string]interface {}");
  return plan;
}

std::string ollama_embed_body(const OllamaEmbedPlan& plan) {
  std::string out = "{\"model\":";
  append_json_string(out, plan.model);
  out += ",\"embeddings\":[";
  for (std::size_t i = 0; i < plan.inputs.size(); ++i) {
    if (i) out += ',';
    out += '[';
    auto vec = embed(plan.inputs[i], plan.dimensions);
    for (std::size_t k = 0; k < vec.size(); ++k) {
      if (k) out += ',';
      append_double(out, static_cast<double>(vec[k]));
    }
    out += ']';
  }
  std::int64_t prompt_nanos = plan.prompt_tokens * kPromptNanosPerToken;
  out += "],\"total_duration\":";
  append_int(out, kLoadNanos + prompt_nanos);
  out += ",\"load_duration\":";
  append_int(out, kLoadNanos);
  out += ",\"prompt_eval_count\":";
  append_int(out, plan.prompt_tokens);
  out += '}';
  return out;
}

std::string ollama_error_body(std::string_view message) {
  std::string out = "{\"error\":";
  append_json_string(out, message);
  out += '}';
  return out;
}

std::string ollama_status_error_body(const StatusErrorOptions& o) {
  std::string_view message;
  switch (o.status) {
    case 400: message = "Mock fault: the request was rejected."; break;
    case 401: message = "unauthorized"; break;
    case 403: message = "forbidden"; break;
    case 404: message = {}; break;
    case 429: message = "too many requests, please retry later"; break;
    case 503: message = "server busy, please try again.  maximum pending requests exceeded"; break;
    default: message = o.status >= 500 ? "an unexpected error occurred" : "Mock fault: the request failed.";
  }
  std::string text(o.message.empty() ? message : o.message);
  if (text.empty()) text = "model \"" + std::string(o.model) + "\" not found, try pulling it first";
  return ollama_error_body(text);
}

std::string ollama_timestamp(std::int64_t unix_nanos) {
  std::time_t secs = static_cast<std::time_t>(unix_nanos / 1'000'000'000);
  std::tm tm{};
  gmtime_r(&secs, &tm);
  char buf[48];
  std::snprintf(buf, sizeof buf, "%04d-%02d-%02dT%02d:%02d:%02d.%09lldZ", tm.tm_year + 1900, tm.tm_mon + 1, tm.tm_mday,
                tm.tm_hour, tm.tm_min, tm.tm_sec, static_cast<long long>(unix_nanos % 1'000'000'000));
  return buf;
}

}  // namespace anygpt::mock
