#include "mock/responses_responder.hpp"

#include <boost/json.hpp>

#include "mock/json_text.hpp"
#include "mock/wire_util.hpp"

namespace anygpt::mock {
namespace json = boost::json;
using core::ErrorKind;
using wire::field;

namespace {

core::Error invalid(std::string message, std::string param) {
  return core::make_error(ErrorKind::kInvalidRequest, std::move(message), std::move(param));
}

bool present(const json::value* v) {
  return v && !v->is_null();
}

std::string numbered(std::string_view prefix, std::uint64_t seq) {
  std::string out(prefix);
  append_int(out, static_cast<std::int64_t>(seq));
  return out;
}

// The text of a message item's content (a string, or the "text" of its parts joined by a space).
std::string content_text(const json::value* content) {
  if (!content) return {};
  if (content->is_string()) return std::string(content->get_string());
  std::string out;
  if (content->is_array())
    for (const auto& part : content->get_array()) {
      const auto* text = part.is_object() ? field(part.get_object(), "text") : nullptr;
      if (!text || !text->is_string()) continue;
      if (!out.empty()) out += ' ';
      out += text->get_string();
    }
  return out;
}

std::optional<core::Error> read_input(const json::value& input, Conversation& c) {
  if (input.is_string()) {
    c.last_user_text = input.get_string();
    c.prompt_chars += utf8_length(c.last_user_text);
    c.last_turn_is_user = true;
    return std::nullopt;
  }
  if (!input.is_array())
    return invalid("Invalid type for 'input': expected one of a string or array of input items, but got " +
                       wire::describe(input) + " instead.",
                   "input");
  const auto& items = input.get_array();
  for (std::size_t i = 0; i < items.size(); ++i) {
    std::string where = "input[" + std::to_string(i) + "]";
    if (!items[i].is_object()) return invalid("Invalid type for '" + where + "': expected an object.", where);
    const auto& item = items[i].get_object();
    const auto* type = field(item, "type");
    std::string_view t = type && type->is_string() ? wire::sv(type->get_string()) : "message";
    if (t == "message") {
      const auto* role = field(item, "role");
      if (!role || !role->is_string())
        return invalid("Missing required parameter: '" + where + ".role'.", where + ".role");
      auto text = content_text(field(item, "content"));
      c.prompt_chars += utf8_length(text);
      c.last_turn_is_user = role->get_string() == "user";
      if (c.last_turn_is_user && !text.empty()) c.last_user_text = text;
    } else if (t == "function_call_output") {
      const auto* output = field(item, "output");
      if (output && output->is_string()) c.prompt_chars += utf8_length(wire::sv(output->get_string()));
      c.last_turn_is_user = false;
    } else {
      c.last_turn_is_user = false;  // function_call, reasoning and other items
    }
  }
  return std::nullopt;
}

// The function a tool call would name ("" when none is possible).
core::Result<std::string> tool_name(const json::object& o) {
  const auto* tools = field(o, "tools");
  if (!present(tools)) return std::string();
  if (!tools->is_array()) return invalid("Invalid type for 'tools': expected an array.", "tools");
  std::string first;
  for (std::size_t i = 0; i < tools->get_array().size(); ++i) {
    const auto& t = tools->get_array()[i];
    std::string where = "tools[" + std::to_string(i) + "]";
    const auto* type = t.is_object() ? field(t.get_object(), "type") : nullptr;
    if (!type || !type->is_string())
      return invalid("Missing required parameter: '" + where + ".type'.", where + ".type");
    if (type->get_string() != "function") continue;  // hosted tools: accepted, never called by the mock
    const auto* name = field(t.get_object(), "name");
    if (!name || !name->is_string())
      return invalid("Missing required parameter: '" + where + ".name'.", where + ".name");
    if (first.empty()) first = name->get_string();
  }
  const auto* choice = field(o, "tool_choice");
  if (choice && choice->is_string() && choice->get_string() == "none") return std::string();
  if (choice && choice->is_object())
    if (const auto* name = field(choice->get_object(), "name"); name && name->is_string())
      return std::string(name->get_string());
  return first;
}

json::object usage(const ReplyPlan& r) {
  return json::object{{"input_tokens", r.prompt_tokens},
                      {"input_tokens_details", json::object{{"cached_tokens", 0}}},
                      {"output_tokens", r.completion_tokens},
                      {"output_tokens_details", json::object{{"reasoning_tokens", 0}}},
                      {"total_tokens", r.prompt_tokens + r.completion_tokens}};
}

bool cut(const ResponsesPlan& plan) {
  return plan.reply.finish == FinishReason::kLength;
}

json::object text_part(std::string_view text) {
  return json::object{
      {"type", "output_text"}, {"text", text}, {"annotations", json::array{}}, {"logprobs", json::array{}}};
}

// The output item, `done` or as output_item.added shows it.
json::object item(const ResponsesPlan& plan, std::uint64_t seq, bool done) {
  std::string_view status = !done ? "in_progress" : cut(plan) ? "incomplete" : "completed";
  if (!plan.reply.tool_name.empty())
    return json::object{{"id", numbered("fc_mock_", seq)},
                        {"type", "function_call"},
                        {"status", status},
                        {"arguments", done ? kToolArguments : ""},
                        {"call_id", numbered("call_mock_", seq)},
                        {"name", plan.reply.tool_name}};
  json::array content;
  if (done) content.push_back(text_part(plan.reply.reply));
  return json::object{{"id", numbered("msg_mock_", seq)},
                      {"type", "message"},
                      {"status", status},
                      {"role", "assistant"},
                      {"content", std::move(content)}};
}

json::object response(const ResponsesPlan& plan, std::uint64_t seq, std::int64_t created, bool done) {
  auto nullable = [](const std::string& s) { return s.empty() ? json::value(nullptr) : json::value(s); };
  json::object r{
      {"id", numbered("resp_mock_", seq)},
      {"object", "response"},
      {"created_at", created},
      {"status", !done       ? "in_progress"
                 : cut(plan) ? "incomplete"
                             : "completed"},
      {"error", nullptr},
      {"incomplete_details", nullptr},
      {"instructions", nullable(plan.instructions)},
      {"max_output_tokens", plan.max_output_tokens < 0 ? json::value(nullptr) : json::value(plan.max_output_tokens)},
      {"model", plan.model},
      {"output", json::array{}},
      {"parallel_tool_calls", true},
      {"previous_response_id", nullable(plan.previous_response_id)},
      {"store", true},
      {"temperature", 1.0},
      {"tool_choice", "auto"},
      {"tools", json::array{}},
      {"top_p", 1.0},
      {"truncation", "disabled"},
      {"usage", nullptr},
      {"user", nullptr},
      {"metadata", json::object{}}};
  if (!done) return r;
  r["output"].get_array().push_back(item(plan, seq, true));
  r["usage"] = usage(plan.reply);
  if (cut(plan)) r["incomplete_details"] = json::object{{"reason", "max_output_tokens"}};
  return r;
}

struct EventWriter {
  SseEvents& events;
  std::int64_t sequence = 0;
  void write(std::string_view type, json::object data) {
    json::object e{{"type", type}, {"sequence_number", sequence++}};
    for (auto& kv : data) e.emplace(kv.key(), std::move(kv.value()));
    auto& out = events.buffer();
    out += "event: ";
    out += type;
    out += "\ndata: ";
    out += json::serialize(e);
    out += "\n\n";
    events.end_event();
  }
};

}  // namespace

core::Result<ResponsesPlan> plan_responses(std::string_view body) {
  boost::system::error_code ec;
  auto doc = json::parse(json::string_view(body.data(), body.size()), ec);
  if (ec)
    return invalid(
        "We could not parse the JSON body of your request. (HINT: This likely means you aren't using your "
        "HTTP library correctly. The OpenAI API expects a JSON payload, but what was sent was not valid "
        "JSON.)",
        {});
  if (!doc.is_object()) return invalid("The request body must be a JSON object", {});
  const auto& o = doc.get_object();
  ResponsesPlan plan;
  const auto* model = field(o, "model");
  if (!model || !model->is_string()) return invalid("Missing required parameter: 'model'.", "model");
  plan.model = model->get_string();
  if (o.contains("messages"))
    return invalid("Unsupported parameter: 'messages'. In the Responses API, this parameter has moved to 'input'.",
                   "messages");
  if (const auto* s = field(o, "stream"); present(s)) {
    if (!s->is_bool()) return invalid("Invalid type for 'stream': expected a boolean.", "stream");
    plan.stream = s->get_bool();
  }
  for (auto [key, out] :
       {std::pair{"instructions", &plan.instructions}, std::pair{"previous_response_id", &plan.previous_response_id}}) {
    const auto* v = field(o, key);
    if (!present(v)) continue;
    if (!v->is_string()) return invalid(std::string("Invalid type for '") + key + "': expected a string.", key);
    *out = v->get_string();
  }
  Conversation c;
  c.prompt_chars = utf8_length(plan.instructions);
  const auto* input = field(o, "input");
  if (!present(input) && plan.previous_response_id.empty())
    return invalid("Missing required parameter: 'input'.", "input");
  if (present(input))
    if (auto e = read_input(*input, c)) return *e;
  if (const auto* m = field(o, "max_output_tokens"); present(m)) {
    auto n = wire::as_integer(*m);
    if (!n) return invalid("Invalid type for 'max_output_tokens': expected an integer.", "max_output_tokens");
    if (*n < 16)
      return invalid("Invalid 'max_output_tokens': integer below minimum value. Expected a value >= 16, but got " +
                         std::to_string(*n) + " instead.",
                     "max_output_tokens");
    plan.max_output_tokens = *n;
    c.max_output_tokens = *n;
  }
  auto tool = tool_name(o);
  if (!tool) return tool.error();
  c.tool_name = std::move(*tool);
  plan.reply = plan_reply(c);
  return plan;
}

std::string responses_body(const ResponsesPlan& plan, std::uint64_t seq, std::int64_t created) {
  return json::serialize(response(plan, seq, created, true));
}

SseEvents responses_stream_events(const ResponsesPlan& plan, std::uint64_t seq, std::int64_t created,
                                  const StreamShape& shape) {
  SseEvents events;
  EventWriter w{events};
  w.write("response.created", json::object{{"response", response(plan, seq, created, false)}});
  w.write("response.in_progress", json::object{{"response", response(plan, seq, created, false)}});
  auto added = item(plan, seq, false);
  auto done = item(plan, seq, true);
  std::string item_id(added.at("id").get_string());
  w.write("response.output_item.added", json::object{{"output_index", 0}, {"item", std::move(added)}});
  const bool tool = !plan.reply.tool_name.empty();
  if (tool) {
    events.begin_content();
    for (auto piece : split_text(kToolArguments, shape.content_chunks))
      w.write("response.function_call_arguments.delta",
              json::object{{"item_id", item_id}, {"output_index", 0}, {"delta", piece}});
    events.end_content();
    w.write(
        "response.function_call_arguments.done",
        json::object{
            {"item_id", item_id}, {"output_index", 0}, {"name", plan.reply.tool_name}, {"arguments", kToolArguments}});
  } else {
    json::object at{{"item_id", item_id}, {"output_index", 0}, {"content_index", 0}};
    auto with = [&at](std::string_view key, json::value v) {
      json::object o = at;
      o[key] = std::move(v);
      return o;
    };
    w.write("response.content_part.added", with("part", text_part("")));
    events.begin_content();
    for (auto piece : split_text(plan.reply.reply, shape.content_chunks)) {
      auto o = with("delta", json::string(piece));
      o["logprobs"] = json::array{};
      w.write("response.output_text.delta", std::move(o));
    }
    events.end_content();
    auto text_done = with("text", json::string(plan.reply.reply));
    text_done["logprobs"] = json::array{};
    w.write("response.output_text.done", std::move(text_done));
    w.write("response.content_part.done", with("part", text_part(plan.reply.reply)));
  }
  w.write("response.output_item.done", json::object{{"output_index", 0}, {"item", std::move(done)}});
  if (shape.done_event)
    w.write(cut(plan) ? "response.incomplete" : "response.completed",
            json::object{{"response", response(plan, seq, created, true)}});
  return events;
}

}  // namespace anygpt::mock
