#include "formats/gemini/interactions.hpp"

#include <boost/json.hpp>
#include <chrono>
#include <cstdio>
#include <memory>

#include "formats/common/chunks.hpp"
#include "formats/gemini/gemini.hpp"

namespace anygpt::formats::gemini {
namespace json = boost::json;

namespace {

core::Error invalid(std::string message, std::string param) {
  return core::make_error(core::ErrorKind::kInvalidRequest, std::move(message), std::move(param));
}

std::string indexed(std::string_view base, std::size_t i) {
  return std::string(base) + "[" + std::to_string(i) + "]";
}

bool is(const json::value& v, std::string_view s) {
  return v.is_string() && v.get_string() == s;
}

const json::string* string_field(const json::object& o, std::string_view key) {
  const auto* v = o.if_contains(key);
  return v && v->is_string() ? &v->get_string() : nullptr;
}

// "audio/wav" -> "wav", "audio/mpeg" -> "mp3": the formats chat's input_audio takes ("" otherwise).
std::string_view audio_format(const json::string* mime) {
  if (!mime) return {};
  if (*mime == "audio/wav" || *mime == "audio/x-wav" || *mime == "audio/wave") return "wav";
  if (*mime == "audio/mp3" || *mime == "audio/mpeg") return "mp3";
  return {};
}

// One text, image or audio content item -> a chat content part.
core::Result<json::object> media_part(const json::object& o, std::string_view type, const std::string& param) {
  if (type == "text") {
    const auto* text = string_field(o, "text");
    if (!text) return invalid("'" + param + ".text' must be a string", param + ".text");
    return json::object{{"type", "text"}, {"text", *text}};
  }
  const auto* data = string_field(o, "data");
  const auto* mime = string_field(o, "mime_type");
  if (type == "image") {
    std::string url;
    if (data) {
      if (!mime || mime->empty())
        return invalid("'" + param + ".mime_type' is required with 'data'", param + ".mime_type");
      url.append("data:").append(mime->data(), mime->size()).append(";base64,").append(data->data(), data->size());
    } else if (const auto* uri = string_field(o, "uri"); uri && !uri->empty()) {
      url = std::string(*uri);
    } else {
      return invalid("'" + param + "' needs 'data' (with 'mime_type') or 'uri'", param);
    }
    return json::object{{"type", "image_url"}, {"image_url", json::object{{"url", std::move(url)}}}};
  }
  if (type == "audio") {
    auto format = audio_format(mime);
    if (!data || format.empty())
      return invalid("'" + param + "': only inline wav or mp3 audio ('data' with 'mime_type') can be sent", param);
    return json::object{{"type", "input_audio"}, {"input_audio", json::object{{"data", *data}, {"format", format}}}};
  }
  return invalid("'" + param + ".type' '" + std::string(type) +
                     "' is not supported (text, image, audio, function_call and " + "function_result are)",
                 param + ".type");
}

// The text of a function result: a string as it is, content items' texts joined, anything else as JSON.
std::string result_text(const json::value& result) {
  if (result.is_string()) return std::string(result.get_string());
  if (result.is_array()) {
    std::string text;
    bool all_text = true;
    for (const auto& item : result.get_array()) {
      const auto* o = item.if_object();
      const auto* t = o ? string_field(*o, "text") : nullptr;
      if (!t) {
        all_text = false;
        break;
      }
      text.append(t->data(), t->size());
    }
    if (all_text) return text;
  }
  return json::serialize(result);
}

// Builds the chat messages of an interaction's input, in order. Consecutive content of one
// side goes into one message; tool calls join the assistant message before them.
class Conversation {
 public:
  core::Result<bool> element(const json::value& v, const std::string& param) {
    if (!v.is_object()) return invalid("'" + param + "' must be an object", param);
    const auto& o = v.get_object();
    if (const auto* role = o.if_contains("role")) return turn(o, *role, param);
    const auto* type = string_field(o, "type");
    if (!type) return invalid("'" + param + ".type' is required", param + ".type");
    if (*type == "user_input" || *type == "model_output") {
      const auto* content = o.if_contains("content");
      if (!content) return true;
      return contents(*content, *type == "user_input" ? "user" : "assistant", param + ".content");
    }
    if (*type == "thought") return true;  // the model's own reasoning: chat has no input for it
    return item(o, *type, "user", param);
  }

  core::Result<bool> contents(const json::value& content, std::string_view role, const std::string& param) {
    if (content.is_string()) return add_part(role, json::object{{"type", "text"}, {"text", content.get_string()}});
    if (!content.is_array()) return invalid("'" + param + "' must be a string or a list of content items", param);
    const auto& list = content.get_array();
    for (std::size_t i = 0; i < list.size(); ++i) {
      const std::string p = indexed(param, i);
      const auto* o = list[i].if_object();
      const auto* type = o ? string_field(*o, "type") : nullptr;
      if (!type) return invalid("'" + p + "' must be a content object with a 'type'", p);
      auto ok = item(*o, *type, role, p);
      if (!ok) return ok;
    }
    return true;
  }

  core::Result<json::array> take() {
    json::array out;
    for (auto& m : messages_) {
      auto& o = m.as_object();
      auto& content = o["content"];  // (tool messages have their text already)
      if (content.is_array()) {
        const bool assistant = is(o["role"], "assistant");
        const auto& parts = content.as_array();
        if (assistant) {
          std::string text;
          for (const auto& p : parts) text += p.as_object().at("text").as_string();
          if (text.empty() && !o.contains("tool_calls")) continue;  // nothing said
          if (text.empty())
            content = nullptr;
          else
            content = json::string(text);
        } else if (parts.empty()) {
          continue;
        } else if (parts.size() == 1 && is(parts[0].as_object().at("type"), "text")) {
          json::value only = parts[0].as_object().at("text");
          content = std::move(only);
        }
      }
      out.push_back(std::move(m));
    }
    if (out.empty()) return invalid("'input' holds nothing a model can read", "input");
    return out;
  }

 private:
  core::Result<bool> turn(const json::object& o, const json::value& role, const std::string& param) {
    if (!is(role, "user") && !is(role, "model"))
      return invalid("'" + param + ".role' must be 'user' or 'model'", param + ".role");
    const auto* content = o.if_contains("content");
    if (!content) return invalid("'" + param + ".content' is required", param + ".content");
    return contents(*content, is(role, "user") ? "user" : "assistant", param + ".content");
  }

  core::Result<bool> item(const json::object& o, std::string_view type, std::string_view role,
                          const std::string& param) {
    if (type == "function_call") return call(o, param);
    if (type == "function_result") return result(o, param);
    auto part = media_part(o, type, param);
    if (!part) return part.error();
    if (role == "assistant" && !is((*part)["type"], "text"))
      return invalid("'" + param + "': the model's turns can hold only text and function calls", param);
    return add_part(role, std::move(*part));
  }

  core::Result<bool> add_part(std::string_view role, json::object part) {
    json::object* last = messages_.empty() ? nullptr : &messages_.back().as_object();
    if (!last || !is((*last)["role"], role)) {
      messages_.push_back(json::object{{"role", role}, {"content", json::array{}}});
      last = &messages_.back().as_object();
    }
    (*last)["content"].as_array().push_back(std::move(part));
    return true;
  }

  core::Result<bool> call(const json::object& o, const std::string& param) {
    const auto* name = string_field(o, "name");
    if (!name || name->empty()) return invalid("'" + param + ".name' is required", param + ".name");
    const auto* id = string_field(o, "id");
    if (!id || id->empty()) return invalid("'" + param + ".id' is required", param + ".id");
    const auto* args = o.if_contains("arguments");
    std::string arguments = !args || args->is_null() ? "{}"
                            : args->is_string()      ? std::string(args->get_string())
                                                     : json::serialize(*args);
    json::object* last = messages_.empty() ? nullptr : &messages_.back().as_object();
    if (!last || !is((*last)["role"], "assistant")) {
      messages_.push_back(json::object{{"role", "assistant"}, {"content", json::array{}}});
      last = &messages_.back().as_object();
    }
    auto& calls = (*last)["tool_calls"];
    if (!calls.is_array()) calls = json::array{};
    calls.as_array().push_back(json::object{
        {"id", *id}, {"type", "function"}, {"function", json::object{{"name", *name}, {"arguments", arguments}}}});
    return true;
  }

  core::Result<bool> result(const json::object& o, const std::string& param) {
    const auto* call_id = string_field(o, "call_id");
    if (!call_id || call_id->empty()) return invalid("'" + param + ".call_id' is required", param + ".call_id");
    const auto* value = o.if_contains("result");
    if (!value) return invalid("'" + param + ".result' is required", param + ".result");
    std::string text = result_text(*value);
    if (const auto* is_error = o.if_contains("is_error"); is_error && is_error->is_bool() && is_error->get_bool())
      text = "Error: " + text;
    messages_.push_back(json::object{{"role", "tool"}, {"tool_call_id", *call_id}, {"content", std::move(text)}});
    return true;
  }

  json::array messages_;
};

core::Result<json::array> decode_tools(const json::value& tools) {
  if (!tools.is_array()) return invalid("'tools' must be a list", "tools");
  json::array out;
  const auto& list = tools.get_array();
  for (std::size_t i = 0; i < list.size(); ++i) {
    const std::string p = indexed("tools", i);
    const auto* o = list[i].if_object();
    const auto* type = o ? string_field(*o, "type") : nullptr;
    if (!type) return invalid("'" + p + ".type' is required", p + ".type");
    if (*type != "function")
      return invalid("'" + p + ".type' '" + std::string(*type) +
                         "' is a built-in tool, which anygpt cannot run: only function tools are served",
                     p + ".type");
    const auto* name = string_field(*o, "name");
    if (!name || name->empty()) return invalid("'" + p + ".name' is required", p + ".name");
    json::object function{{"name", *name}};
    if (const auto* d = string_field(*o, "description")) function["description"] = *d;
    const auto* parameters = o->if_contains("parameters");
    if (parameters && !parameters->is_null() && !parameters->is_object())
      return invalid("'" + p + ".parameters' must be a JSON schema object", p + ".parameters");
    function["parameters"] = parameters && parameters->is_object()
                                 ? *parameters
                                 : json::object{{"type", "object"}, {"properties", json::object{}}};
    out.push_back(json::object{{"type", "function"}, {"function", std::move(function)}});
  }
  return out;
}

// generation_config.tool_choice: "auto" / "any" / "none", or {allowed_tools: {mode, tools}}
// (only the allowed tools are sent).
core::Result<bool> apply_tool_choice(const json::value& choice, json::object& chat) {
  const std::string p = "generation_config.tool_choice";
  auto mode_of = [&](const json::value& m) -> core::Result<std::string_view> {
    if (is(m, "auto") || is(m, "validated")) return std::string_view("auto");
    if (is(m, "any")) return std::string_view("required");
    if (is(m, "none")) return std::string_view("none");
    return invalid("'" + p + "' must be 'auto', 'any', 'none' or {allowed_tools}", p);
  };
  if (choice.is_string()) {
    auto mode = mode_of(choice);
    if (!mode) return mode.error();
    chat["tool_choice"] = *mode;
    return true;
  }
  const auto* o = choice.if_object();
  const auto* allowed = o ? o->if_contains("allowed_tools") : nullptr;
  if (!allowed || !allowed->is_object())
    return invalid("'" + p + "' must be 'auto', 'any', 'none' or {allowed_tools}", p);
  const auto& a = allowed->get_object();
  if (const auto* m = a.if_contains("mode")) {
    auto mode = mode_of(*m);
    if (!mode) return mode.error();
    chat["tool_choice"] = *mode;
  }
  if (const auto* names = a.if_contains("tools"); names && names->is_array() && chat.contains("tools")) {
    json::array kept;
    for (auto& t : chat["tools"].as_array()) {
      const auto& name = t.as_object()["function"].as_object()["name"];
      for (const auto& n : names->get_array())
        if (n.is_string() && name.is_string() && n.get_string() == name.get_string()) {
          kept.push_back(t);
          break;
        }
    }
    if (kept.empty()) {  // none of the declared tools is allowed: the model may call nothing
      chat.erase("tools");
      chat.erase("tool_choice");
    } else {
      chat["tools"] = std::move(kept);
    }
  }
  return true;
}

core::Result<bool> apply_generation_config(const json::value& config, json::object& chat) {
  if (config.is_null()) return true;
  if (!config.is_object()) return invalid("'generation_config' must be an object", "generation_config");
  const auto& g = config.get_object();
  auto number = [&](std::string_view field) -> core::Result<bool> {
    const auto* v = g.if_contains(field);
    if (!v || v->is_null()) return true;
    if (!v->is_number())
      return invalid("'generation_config." + std::string(field) + "' must be a number",
                     "generation_config." + std::string(field));
    chat[field] = *v;
    return true;
  };
  static constexpr std::string_view kNumbers[] = {"temperature", "top_p", "seed", "presence_penalty",
                                                  "frequency_penalty"};
  for (auto field : kNumbers) {
    auto ok = number(field);
    if (!ok) return ok;
  }
  if (const auto* m = g.if_contains("max_output_tokens"); m && !m->is_null()) {
    if (!m->is_int64() || m->get_int64() <= 0)
      return invalid("'generation_config.max_output_tokens' must be a positive integer",
                     "generation_config.max_output_tokens");
    chat["max_tokens"] = *m;
  }
  if (const auto* stop = g.if_contains("stop_sequences"); stop && !stop->is_null()) {
    bool ok = stop->is_array();
    if (ok)
      for (const auto& s : stop->get_array()) ok = ok && s.is_string();
    if (!ok)
      return invalid("'generation_config.stop_sequences' must be a list of strings",
                     "generation_config.stop_sequences");
    chat["stop"] = *stop;
  }
  if (const auto* choice = g.if_contains("tool_choice"); choice && !choice->is_null() && chat.contains("tools")) {
    auto ok = apply_tool_choice(*choice, chat);
    if (!ok) return ok;
  }
  // thinking_level, thinking_summaries, speech_config, image_config: not forwarded (no chat equivalent).
  return true;
}

// response_format: a text format ({type:"text", mime_type, schema}), a bare JSON schema (the
// original's form), or a list holding one text format.
core::Result<bool> apply_response_format(const json::value& format, json::object& chat) {
  const json::value* f = &format;
  if (format.is_array()) {
    f = nullptr;
    for (const auto& item : format.get_array()) {
      const auto* o = item.if_object();
      const auto* type = o ? string_field(*o, "type") : nullptr;
      if (!type || *type != "text")
        return invalid("'response_format': only text output can be produced here", "response_format");
      if (f) return invalid("'response_format' holds more than one text format", "response_format");
      f = &item;
    }
    if (!f) return true;
  }
  if (!f->is_object()) return invalid("'response_format' must be an object", "response_format");
  const auto& o = f->get_object();
  const auto* type = string_field(o, "type");
  const bool text_format = type && *type == "text" && !o.contains("properties");
  const json::value* schema = text_format ? o.if_contains("schema") : f;
  if (text_format) {
    const auto* mime = string_field(o, "mime_type");
    if (!mime || *mime == "text/plain") {
      if (schema)
        return invalid("'response_format.schema' needs mime_type 'application/json'", "response_format.mime_type");
      return true;
    }
    if (*mime != "application/json")
      return invalid("'response_format.mime_type' must be 'text/plain' or 'application/json'",
                     "response_format.mime_type");
    if (!schema || schema->is_null()) {
      chat["response_format"] = json::object{{"type", "json_object"}};
      return true;
    }
  } else if (type && (*type == "image" || *type == "audio" || *type == "video")) {
    return invalid("'response_format': only text output can be produced here", "response_format.type");
  }
  if (!schema->is_object())
    return invalid("'response_format.schema' must be a JSON schema object", "response_format.schema");
  chat["response_format"] =
      json::object{{"type", "json_schema"}, {"json_schema", json::object{{"name", "response"}, {"schema", *schema}}}};
  return true;
}

// Fields of the Interactions API that need state or agents anygpt does not have: a 400 naming them.
core::Result<bool> refuse_unsupported(const json::object& o) {
  if (const auto* s = o.if_contains("stream"); s && s->is_bool() && s->get_bool())
    return invalid("'stream': interactions are answered whole here (poll GET /interactions/{id} for the result)",
                   "stream");
  for (std::string_view field : {"previous_interaction_id", "agent", "agent_config", "continuation_token"}) {
    const auto* v = o.if_contains(field);
    if (v && !v->is_null() && !(v->is_string() && v->get_string().empty()))
      return invalid("'" + std::string(field) +
                         "' is not supported: interactions run as one model call without server-side history or "
                         "agents; send the conversation as input",
                     std::string(field));
  }
  return true;
}

// What routing needs: the model, once the required fields are there and nothing is refused.
core::Result<std::string> model_of(const json::value& body) {
  if (!body.is_object()) return invalid("Request body must be a JSON object", "");
  const auto& o = body.get_object();
  const auto* m = string_field(o, "model");
  if (!m || strip_model_prefix(*m).empty())
    return invalid("Missing required parameter: 'model' (model and input are required)", "model");
  const auto* input = o.if_contains("input");
  if (!input || input->is_null() || (input->is_string() && input->get_string().empty()) ||
      (input->is_array() && input->get_array().empty()))
    return invalid("Missing required parameter: 'input' (model and input are required)", "input");
  auto refused = refuse_unsupported(o);
  if (!refused) return refused.error();
  return std::string(strip_model_prefix(*m));
}

core::Result<json::object> chat_request(const json::value& body, std::string& model) {
  auto named = model_of(body);
  if (!named) return named.error();
  model = std::move(*named);
  const auto& o = body.get_object();
  const auto* input = o.if_contains("input");

  Conversation conversation;
  if (input->is_string()) {
    auto ok = conversation.contents(*input, "user", "input");
    if (!ok) return ok.error();
  } else if (input->is_array()) {
    const auto& list = input->get_array();
    for (std::size_t i = 0; i < list.size(); ++i) {
      auto ok = conversation.element(list[i], indexed("input", i));
      if (!ok) return ok.error();
    }
  } else {
    auto ok = conversation.element(*input, "input");
    if (!ok) return ok.error();
  }
  auto messages = conversation.take();
  if (!messages) return messages.error();
  if (const auto* system = o.if_contains("system_instruction"); system && !system->is_null()) {
    if (!system->is_string()) return invalid("'system_instruction' must be a string", "system_instruction");
    if (!system->get_string().empty())
      messages->insert(messages->begin(), json::object{{"role", "system"}, {"content", system->get_string()}});
  }
  json::object chat{{"model", model}, {"messages", std::move(*messages)}};
  if (const auto* tools = o.if_contains("tools"); tools && !tools->is_null()) {
    auto decoded = decode_tools(*tools);
    if (!decoded) return decoded.error();
    if (!decoded->empty()) chat["tools"] = std::move(*decoded);
  }
  if (const auto* config = o.if_contains("generation_config")) {
    auto ok = apply_generation_config(*config, chat);
    if (!ok) return ok.error();
  }
  if (const auto* format = o.if_contains("response_format"); format && !format->is_null()) {
    auto ok = apply_response_format(*format, chat);
    if (!ok) return ok.error();
  } else if (const auto* mime = string_field(o, "response_mime_type"); mime && *mime == "application/json") {
    chat["response_format"] = json::object{{"type", "json_object"}};
  }
  return chat;
}

// Unix milliseconds as "YYYY-MM-DDThh:mm:ssZ".
std::string iso_time(std::int64_t wall_ms) {
  using namespace std::chrono;
  const sys_seconds t{seconds{std::max<std::int64_t>(0, wall_ms / 1000)}};
  const auto day = floor<days>(t);
  const year_month_day date{day};
  const hh_mm_ss hms{t - day};
  char buf[32];
  std::snprintf(buf, sizeof buf, "%04d-%02u-%02uT%02d:%02d:%02dZ", static_cast<int>(date.year()),
                static_cast<unsigned>(date.month()), static_cast<unsigned>(date.day()),
                static_cast<int>(hms.hours().count()), static_cast<int>(hms.minutes().count()),
                static_cast<int>(hms.seconds().count()));
  return buf;
}

std::string_view status_of(std::string_view finish_reason, bool has_calls) {
  if (has_calls || finish_reason == "tool_calls") return "requires_action";
  if (finish_reason == "length" || finish_reason == "content_filter") return "incomplete";
  return "completed";
}

std::string encode_interaction(const json::object& answer, const AnswerContext& ctx, const Moment& now) {
  const auto* choice = common::first_choice(answer);
  const json::object* message = nullptr;
  if (choice)
    if (const auto* m = choice->if_contains("message"); m && m->is_object()) message = &m->get_object();
  const std::string text = message ? common::message_text(*message) : std::string();
  json::array outputs, steps, model_content;
  if (!text.empty()) {
    outputs.push_back(json::object{{"type", "text"}, {"text", text}});
    model_content.push_back(json::object{{"type", "text"}, {"text", text}});
  }
  bool has_calls = false;
  json::array call_steps;
  if (const auto* calls = message ? message->if_contains("tool_calls") : nullptr; calls && calls->is_array())
    for (const auto& c : calls->get_array()) {
      const auto* call = c.if_object();
      const auto* fn = call ? call->if_contains("function") : nullptr;
      if (!fn || !fn->is_object()) continue;
      has_calls = true;
      json::object item{{"type", "function_call"},
                        {"id", common::str(*call, "id")},
                        {"name", common::str(fn->get_object(), "name")},
                        {"arguments", common::parse_arguments(common::str(fn->get_object(), "arguments"))}};
      outputs.push_back(item);
      call_steps.push_back(std::move(item));
    }
  if (!model_content.empty())
    steps.push_back(json::object{{"type", "model_output"}, {"content", std::move(model_content)}});
  for (auto& s : call_steps) steps.push_back(std::move(s));
  const auto usage = common::usage_parts(answer).usage;
  const std::string when = iso_time(now.wall_ms);
  const std::string_view finish = choice ? common::str(*choice, "finish_reason") : std::string_view();
  json::object out{{"id", "int_" + std::string(ctx.request_id)},
                   {"object", "interaction"},
                   {"model", ctx.model},
                   {"status", status_of(finish, has_calls)},
                   {"role", "model"},
                   {"created", when},
                   {"updated", when},
                   {"outputs", std::move(outputs)},
                   {"steps", std::move(steps)},
                   {"output_text", text},
                   {"usage", json::object{{"total_input_tokens", usage.prompt_tokens},
                                          {"total_output_tokens", usage.completion_tokens},
                                          {"total_tokens", usage.total_tokens}}}};
  return json::serialize(out);
}

class InteractionsCodec final : public Codec {
 public:
  core::Result<Canonical> decode(const json::value& body, const RouteParams&) const override {
    Canonical canonical;
    auto chat = chat_request(body, canonical.model);
    if (!chat) return chat.error();
    canonical.op = Operation::kChat;
    canonical.body = std::move(*chat);
    return canonical;
  }
  core::Result<Canonical> peek(const json::value& body, const RouteParams&) const override {
    auto model = model_of(body);
    if (!model) return model.error();
    Canonical canonical;
    canonical.model = std::move(*model);
    return canonical;
  }
  std::string encode(const json::object& answer, const AnswerContext& ctx, const Moment& now) const override {
    return encode_interaction(answer, ctx, now);
  }
  // Never asked: decode() never says stream.
  std::unique_ptr<StreamEncoder> stream(const AnswerContext&) const override { return nullptr; }
};

}  // namespace

const Codec& interactions_codec() {
  static const InteractionsCodec kCodec;
  return kCodec;
}

const Protocol& interactions_protocol() {
  static const Protocol kProtocol{"gemini-interactions",   protocol().keys, &error_body,
                                  protocol().error_status, false,           nullptr};
  return kProtocol;
}

std::string with_interaction_id(std::string_view body, std::string_view id) {
  json::error_code ec;
  auto v = json::parse(body, ec);
  if (ec || !v.is_object()) return std::string(body);
  v.as_object()["id"] = id;
  return json::serialize(v);
}

}  // namespace anygpt::formats::gemini
