#include "mock/chat_responder.hpp"

#include <algorithm>
#include <boost/json/monotonic_resource.hpp>
#include <boost/json/parse.hpp>
#include <boost/json/value.hpp>
#include <cctype>
#include <cmath>
#include <optional>

#include "mock/json_text.hpp"

namespace anygpt::mock {
namespace json = boost::json;
using core::ErrorKind;

namespace {

constexpr std::string_view kHaiku = "Silent servers hum\nA mock reply drifts like snow\nTests pass in the night";
constexpr std::string_view kGreeting = "Hello! I am the anygpt mock provider. How can I help you today?";
constexpr std::string_view kReplyPrefix = "Mock reply to: ";
constexpr std::size_t kMaxEchoChars = 200;
constexpr std::string_view kFingerprint = "mock_fp";

core::Error invalid(std::string message, std::string param) {
  return core::make_error(ErrorKind::kInvalidRequest, std::move(message), std::move(param));
}

bool contains_ci(std::string_view text, std::string_view needle) {
  auto it = std::search(text.begin(), text.end(), needle.begin(), needle.end(),
                        [](char a, char b) { return std::tolower(static_cast<unsigned char>(a)) == b; });
  return it != text.end();
}

// Calls fn(text) for each piece of text of a message content (a string, or the "text" of the
// text parts of an array). Returns false when the content has another type.
template <class Fn>
bool for_each_text(const json::value& content, Fn&& fn) {
  if (content.is_string()) {
    fn(std::string_view(content.get_string()));
    return true;
  }
  if (content.is_null()) return true;
  if (!content.is_array()) return false;
  for (const auto& part : content.get_array()) {
    if (!part.is_object()) continue;
    const auto* type = part.get_object().if_contains("type");
    const auto* text = part.get_object().if_contains("text");
    if (type && type->is_string() && type->get_string() == "text" && text && text->is_string())
      fn(std::string_view(text->get_string()));
  }
  return true;
}

// Calls fn(text) for each piece of text of a message's content.
template <class Fn>
void for_each_message_text(const json::object& message, Fn&& fn) {
  if (const auto* content = message.if_contains("content")) for_each_text(*content, fn);
}

// Reads messages: counts all text characters, takes the last user message's text (parts joined
// by a space) and the prefill, the text of a final assistant message (parts as they are).
std::optional<core::Error> read_messages(const json::array& messages, Conversation& conv) {
  if (messages.empty()) return invalid("[] is too short - 'messages'", "messages");
  const json::object* last_user_msg = nullptr;
  bool last_is_assistant = false;
  for (std::size_t i = 0; i < messages.size(); ++i) {
    const auto& m = messages[i];
    std::string where = "messages[" + std::to_string(i) + "]";
    if (!m.is_object()) return invalid(where + " must be an object", where);
    const auto* role = m.get_object().if_contains("role");
    if (!role || !role->is_string())
      return invalid("Missing required parameter: '" + where + ".role'.", where + ".role");
    if (role->get_string() == "user") last_user_msg = &m.get_object();
    conv.last_turn_is_user = role->get_string() == "user";
    last_is_assistant = role->get_string() == "assistant";
    if (const auto* content = m.get_object().if_contains("content")) {
      if (!for_each_text(*content, [&conv](std::string_view t) { conv.prompt_chars += utf8_length(t); }))
        return invalid(where + ".content must be a string or an array of content parts", where + ".content");
    }
  }
  if (last_user_msg) {
    for_each_message_text(*last_user_msg, [&conv](std::string_view t) {
      if (!conv.last_user_text.empty()) conv.last_user_text += ' ';
      conv.last_user_text.append(t.data(), t.size());
    });
  }
  if (last_is_assistant) {
    for_each_message_text(messages.back().get_object(),
                          [&conv](std::string_view t) { conv.prefill.append(t.data(), t.size()); });
  }
  return std::nullopt;
}

// The function the tool call names, or empty when the answer is plain text.
core::Result<std::string> tool_to_call(const json::object& o, bool last_is_user) {
  const auto* tools = o.if_contains("tools");
  if (!tools || tools->is_null()) return std::string();
  if (!tools->is_array()) return invalid("tools must be an array", "tools");
  if (tools->get_array().empty() || !last_is_user) return std::string();
  const auto* choice = o.if_contains("tool_choice");
  if (choice && choice->is_string() && choice->get_string() == "none") return std::string();
  if (choice && choice->is_object()) {  // {"type":"function","function":{"name":...}}
    const auto* fn = choice->get_object().if_contains("function");
    const auto* name = fn && fn->is_object() ? fn->get_object().if_contains("name") : nullptr;
    if (name && name->is_string()) return std::string(name->get_string());
  }
  const auto& first = tools->get_array().front();
  const auto* fn = first.is_object() ? first.get_object().if_contains("function") : nullptr;
  const auto* name = fn && fn->is_object() ? fn->get_object().if_contains("name") : nullptr;
  if (!name || !name->is_string())
    return invalid("Missing required parameter: 'tools[0].function.name'.", "tools[0].function.name");
  return std::string(name->get_string());
}

void append_usage(std::string& out, const ChatPlan& plan) {
  out += "{\"prompt_tokens\":";
  append_int(out, plan.prompt_tokens);
  out += ",\"completion_tokens\":";
  append_int(out, plan.completion_tokens);
  out += ",\"total_tokens\":";
  append_int(out, plan.prompt_tokens + plan.completion_tokens);
  out += '}';
}

void append_tool_call_id(std::string& out, const AnswerIds& ids, int choice) {
  out += "\"call_mock_";
  append_int(out, static_cast<std::int64_t>(ids.seq));
  if (choice > 0) {
    out += '_';
    append_int(out, choice);
  }
  out += '"';
}

// `data: {"id":...,"system_fingerprint":...,"choices":[`: the start of every chunk of a stream.
std::string chunk_head(const ChatPlan& plan, const AnswerIds& ids) {
  std::string head = "data: {\"id\":\"chatcmpl-mock-";
  append_int(head, static_cast<std::int64_t>(ids.seq));
  head += "\",\"object\":\"chat.completion.chunk\",\"created\":";
  append_int(head, ids.created);
  head += ",\"model\":";
  append_json_string(head, plan.model);
  head += ",\"system_fingerprint\":\"";
  head += kFingerprint;
  head += "\",\"choices\":[";
  return head;
}

}  // namespace

std::vector<std::string_view> split_text(std::string_view text, std::int64_t chunks) {
  std::size_t chars = utf8_length(text);
  std::size_t k = chunks > 0 ? static_cast<std::size_t>(chunks) : (chars + 2) / 3;
  k = std::clamp<std::size_t>(k, chars == 0 ? 0 : 1, chars);
  std::vector<std::string_view> out;
  out.reserve(k);
  std::size_t begin = 0;
  std::size_t begin_char = 0;
  for (std::size_t i = 1; i <= k; ++i) {
    std::size_t end_char = chars * i / k;
    std::size_t end = begin + utf8_offset(text.substr(begin), end_char - begin_char);
    out.push_back(text.substr(begin, end - begin));
    begin = end;
    begin_char = end_char;
  }
  return out;
}

std::string reply_text(std::string_view text) {
  if (contains_ci(text, "haiku")) return std::string(kHaiku);
  if (contains_ci(text, "hello")) return std::string(kGreeting);
  std::string out(kReplyPrefix);
  std::size_t cut = utf8_offset(text, kMaxEchoChars);
  out.append(text.data(), cut);
  if (cut < text.size()) out += "...";
  return out;
}

ReplyPlan plan_reply(const Conversation& c) {
  ReplyPlan plan;
  plan.prompt_tokens = estimate_tokens(c.prompt_chars);
  std::size_t answer_chars = 0;
  if (!c.tool_name.empty() && c.last_turn_is_user) {
    plan.tool_name = c.tool_name;
    plan.finish = FinishReason::kToolCall;
    answer_chars = utf8_length(plan.tool_name) + kToolArguments.size();
  } else {
    plan.reply = reply_text(c.last_user_text);
    if (!c.prefill.empty() && plan.reply.starts_with(c.prefill)) plan.reply.erase(0, c.prefill.size());
    std::size_t cut = std::string::npos;
    for (const auto& stop : c.stop_sequences) {
      if (stop.empty()) continue;
      auto at = plan.reply.find(stop);
      if (at != std::string::npos && (cut == std::string::npos || at < cut)) {
        cut = at;
        plan.stop_sequence = stop;
      }
    }
    if (cut != std::string::npos) {
      plan.reply.resize(cut);
      plan.finish = FinishReason::kStopSequence;
    }
    if (c.max_output_tokens >= 0 && estimate_tokens(utf8_length(plan.reply)) > c.max_output_tokens) {
      plan.reply.resize(utf8_offset(plan.reply, static_cast<std::size_t>(c.max_output_tokens) * 4));
      plan.finish = FinishReason::kLength;
      plan.stop_sequence.clear();
    }
    answer_chars = utf8_length(plan.reply);
  }
  plan.completion_tokens = estimate_tokens(answer_chars) * std::max(c.n, 1);
  return plan;
}

core::Result<ChatPlan> plan_chat(std::string_view body) {
  // Parse into a stack arena: no heap traffic for ordinary requests.
  unsigned char arena[16 * 1024];
  json::monotonic_resource mr(arena, sizeof arena);
  boost::system::error_code ec;
  auto doc = json::parse(json::string_view(body.data(), body.size()), ec, &mr);
  if (ec)
    return core::make_error(ErrorKind::kInvalidRequest,
                            "We could not parse the JSON body of your request. (HINT: This likely means you aren't "
                            "using your HTTP library correctly. The OpenAI API expects a JSON payload, but what was "
                            "sent was not valid JSON.)");
  if (!doc.is_object()) return invalid("The request body must be a JSON object", {});
  const auto& o = doc.get_object();
  ChatPlan plan;
  const auto* model = o.if_contains("model");
  if (!model || !model->is_string()) return invalid("you must provide a model parameter", "model");
  plan.model = std::string(model->get_string());
  const auto* messages = o.if_contains("messages");
  if (!messages || !messages->is_array()) return invalid("Missing required parameter: 'messages'.", "messages");
  if (const auto* stream = o.if_contains("stream"); stream && !stream->is_null()) {
    if (!stream->is_bool()) return invalid("stream must be a boolean", "stream");
    plan.stream = stream->get_bool();
  }
  if (const auto* so = o.if_contains("stream_options"); so && so->is_object()) {
    const auto* iu = so->get_object().if_contains("include_usage");
    plan.include_usage = iu && iu->is_bool() && iu->get_bool();
  }
  if (const auto* n = o.if_contains("n"); n && !n->is_null()) {
    double v = n->is_number() ? n->to_number<double>() : 0;
    if (std::floor(v) != v || v < 1 || v > 128) return invalid("n must be an integer between 1 and 128", "n");
    plan.n = static_cast<int>(v);
  }
  Conversation conv;
  conv.n = plan.n;
  if (auto err = read_messages(messages->get_array(), conv)) return *err;
  auto tool = tool_to_call(o, conv.last_turn_is_user);
  if (!tool) return tool.error();
  conv.tool_name = std::move(tool.value());
  auto reply = plan_reply(conv);
  plan.reply = std::move(reply.reply);
  plan.tool_name = std::move(reply.tool_name);
  plan.prompt_tokens = reply.prompt_tokens;
  plan.completion_tokens = reply.completion_tokens;
  return plan;
}

std::string chat_completion_body(const ChatPlan& plan, const AnswerIds& ids) {
  std::string out;
  out.reserve(320 + plan.model.size() + plan.n * (160 + plan.reply.size()));
  out += "{\"id\":\"chatcmpl-mock-";
  append_int(out, static_cast<std::int64_t>(ids.seq));
  out += "\",\"object\":\"chat.completion\",\"created\":";
  append_int(out, ids.created);
  out += ",\"model\":";
  append_json_string(out, plan.model);
  out += ",\"choices\":[";
  for (int i = 0; i < plan.n; ++i) {
    if (i) out += ',';
    out += "{\"index\":";
    append_int(out, i);
    out += ",\"message\":{\"role\":\"assistant\",\"content\":";
    if (plan.tool_name.empty()) {
      append_json_string(out, plan.reply);
    } else {
      out += "null,\"tool_calls\":[{\"id\":";
      append_tool_call_id(out, ids, i);
      out += ",\"type\":\"function\",\"function\":{\"name\":";
      append_json_string(out, plan.tool_name);
      out += ",\"arguments\":";
      append_json_string(out, kToolArguments);
      out += "}}]";
    }
    out += ",\"refusal\":null},\"logprobs\":null,\"finish_reason\":";
    out += plan.tool_name.empty() ? "\"stop\"}" : "\"tool_calls\"}";
  }
  out += "],\"usage\":";
  append_usage(out, plan);
  out += ",\"system_fingerprint\":\"";
  out += kFingerprint;
  out += "\"}";
  return out;
}

SseEvents chat_stream_events(const ChatPlan& plan, const AnswerIds& ids, const StreamShape& shape) {
  // Every chunk is head + one choice + tail.
  const std::string head = chunk_head(plan, ids);
  std::string_view tail = plan.include_usage ? "],\"usage\":null}\n\n" : "]}\n\n";
  const bool tool = !plan.tool_name.empty();
  auto pieces = split_text(tool ? kToolArguments : std::string_view(plan.reply), shape.content_chunks);

  SseEvents ev;
  auto& out = ev.buffer();
  out.reserve((head.size() + 96) * (pieces.size() + 3) * static_cast<std::size_t>(plan.n) + plan.reply.size() * 2);
  auto open_choice = [&](int i) {
    out += head;
    out += "{\"index\":";
    append_int(out, i);
    out += ",\"delta\":";
  };
  auto close_choice = [&](std::string_view finish) {
    out += ",\"logprobs\":null,\"finish_reason\":";
    out += finish;
    out += '}';
    out += tail;
    ev.end_event();
  };
  for (int i = 0; i < plan.n; ++i) {
    open_choice(i);
    if (tool) {
      out += "{\"role\":\"assistant\",\"content\":null,\"tool_calls\":[{\"index\":0,\"id\":";
      append_tool_call_id(out, ids, i);
      out += ",\"type\":\"function\",\"function\":{\"name\":";
      append_json_string(out, plan.tool_name);
      out += ",\"arguments\":\"\"}}]}";
    } else {
      out += "{\"role\":\"assistant\",\"content\":\"\"}";
    }
    close_choice("null");
  }
  ev.begin_content();
  for (auto piece : pieces) {
    for (int i = 0; i < plan.n; ++i) {
      open_choice(i);
      if (tool) {
        out += "{\"tool_calls\":[{\"index\":0,\"function\":{\"arguments\":";
        append_json_string(out, piece);
        out += "}}]}";
      } else {
        out += "{\"content\":";
        append_json_string(out, piece);
        out += '}';
      }
      close_choice("null");
    }
  }
  ev.end_content();
  for (int i = 0; i < plan.n; ++i) {
    open_choice(i);
    out += "{}";
    close_choice(tool ? "\"tool_calls\"" : "\"stop\"");
  }
  if (plan.include_usage) {
    out += head;
    out += "],\"usage\":";
    append_usage(out, plan);
    out += "}\n\n";
    ev.end_event();
  }
  if (shape.done_event) {
    out += "data: [DONE]\n\n";
    ev.end_event();
  }
  return ev;
}

}  // namespace anygpt::mock
