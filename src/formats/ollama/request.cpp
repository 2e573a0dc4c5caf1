#include "formats/ollama/request.hpp"

#include <algorithm>
#include <boost/json.hpp>
#include <optional>

#include "formats/common/chunks.hpp"
#include "formats/ollama/messages.hpp"

namespace anygpt::formats::ollama {
namespace json = boost::json;

core::Error invalid(std::string message, std::string param) {
  return core::make_error(core::ErrorKind::kInvalidRequest, std::move(message), std::move(param));
}

core::Result<std::string> required_model(const json::object& body) {
  const auto* m = body.if_contains("model");
  if (!m || !m->is_string() || m->get_string().empty()) return invalid("model must be a non-empty string", "model");
  return std::string(m->get_string());
}

// The string at `key`: "" when absent or null, an error naming `param` for any other type.
core::Result<std::string_view> optional_string(const json::object& o, std::string_view key, const std::string& param) {
  const auto* v = o.if_contains(key);
  if (!v || v->is_null()) return std::string_view{};
  if (!v->is_string()) return invalid(param + " must be a string", param);
  return std::string_view(v->get_string());
}

namespace {

using MaybeError = std::optional<core::Error>;

MaybeError copy_number(const json::object& opts, std::string_view key, json::object& req) {
  const auto* v = opts.if_contains(key);
  if (!v || v->is_null()) return std::nullopt;
  std::string param = "options." + std::string(key);
  if (!v->is_number()) return invalid(param + " must be a number", param);
  req[key] = *v;
  return std::nullopt;
}

// An integral option (a JSON number without fraction), or nullopt when absent or null.
core::Result<std::optional<std::int64_t>> integer_option(const json::object& opts, std::string_view key) {
  const auto* v = opts.if_contains(key);
  if (!v || v->is_null()) return std::optional<std::int64_t>{};
  json::error_code ec;
  auto n = v->is_number() ? v->to_number<std::int64_t>(ec) : 0;
  std::string param = "options." + std::string(key);
  if (!v->is_number() || ec) return invalid(param + " must be an integer", param);
  return std::optional<std::int64_t>{n};
}

// num_predict -> max_tokens; -1 (infinite) and -2 (fill the context) mean no limit.
MaybeError apply_num_predict(const json::object& opts, json::object& req) {
  auto n = integer_option(opts, "num_predict");
  if (!n) return n.error();
  if (!*n || **n == -1 || **n == -2) return std::nullopt;
  if (**n <= 0)
    return invalid("options.num_predict must be a positive integer, or -1/-2 for no limit", "options.num_predict");
  req["max_tokens"] = **n;
  return std::nullopt;
}

MaybeError apply_stop(const json::object& opts, json::object& req) {
  const auto* v = opts.if_contains("stop");
  if (!v || v->is_null()) return std::nullopt;
  if (v->is_string()) {
    if (!v->get_string().empty()) req["stop"] = json::array{*v};
    return std::nullopt;
  }
  bool strings = v->is_array() && std::all_of(v->get_array().begin(), v->get_array().end(),
                                              [](const json::value& s) { return s.is_string(); });
  if (!strings) return invalid("options.stop must be a string or an array of strings", "options.stop");
  if (!v->get_array().empty()) req["stop"] = *v;
  return std::nullopt;
}

// The sampling options OpenAI chat understands; runtime options (num_ctx, num_gpu...) are not forwarded.
MaybeError apply_options(const json::object& body, json::object& req) {
  const auto* v = body.if_contains("options");
  if (!v || v->is_null()) return std::nullopt;
  if (!v->is_object()) return invalid("options must be an object", "options");
  const auto& opts = v->get_object();
  for (std::string_view key : {"temperature", "top_p", "presence_penalty", "frequency_penalty"})
    if (auto e = copy_number(opts, key, req)) return e;
  for (std::string_view key : {"top_k", "seed"}) {
    auto n = integer_option(opts, key);
    if (!n) return n.error();
    if (*n) req[key] = **n;
  }
  if (auto e = apply_num_predict(opts, req)) return e;
  return apply_stop(opts, req);
}

// format "json" -> json_object mode; a JSON schema object -> json_schema named "response".
MaybeError apply_format(const json::object& body, json::object& req) {
  const auto* v = body.if_contains("format");
  if (!v || v->is_null() || (v->is_string() && v->get_string().empty())) return std::nullopt;
  if (v->is_string() && v->get_string() == "json") {
    req["response_format"] = json::object{{"type", "json_object"}};
    return std::nullopt;
  }
  if (!v->is_object()) return invalid("format must be \"json\" or a JSON schema object", "format");
  req["response_format"] =
      json::object{{"type", "json_schema"}, {"json_schema", json::object{{"name", "response"}, {"schema", *v}}}};
  return std::nullopt;
}

// Ollama tools are OpenAI-shaped already: checked and passed on.
MaybeError apply_tools(const json::object& body, json::object& req) {
  const auto* v = body.if_contains("tools");
  if (!v || v->is_null()) return std::nullopt;
  if (!v->is_array()) return invalid("tools must be an array", "tools");
  json::array tools;
  for (std::size_t i = 0; i < v->get_array().size(); ++i) {
    std::string at = "tools[" + std::to_string(i) + "]";
    const auto& t = v->get_array()[i];
    if (!t.is_object()) return invalid(at + " must be an object", at);
    json::object tool = t.get_object();
    const auto* type = tool.if_contains("type");
    if (type && !(type->is_string() && type->get_string() == "function"))
      return invalid(at + ".type must be \"function\"", at + ".type");
    const auto* fn = tool.if_contains("function");
    const json::value* name = fn && fn->is_object() ? fn->get_object().if_contains("name") : nullptr;
    if (!name || !name->is_string() || name->get_string().empty())
      return invalid(at + ".function.name must be a non-empty string", at + ".function.name");
    tool["type"] = "function";
    tools.push_back(std::move(tool));
  }
  if (!tools.empty()) req["tools"] = std::move(tools);
  return std::nullopt;
}

// Absent or null "stream" means stream: Ollama's default.
core::Result<bool> wants_stream(const json::object& body) {
  const auto* v = body.if_contains("stream");
  if (!v || v->is_null()) return true;
  if (!v->is_bool()) return invalid("stream must be a boolean", "stream");
  return v->get_bool();
}

// Options, format and streaming (the fields chat and generate share) applied to `req`.
core::Result<Canonical> complete(const json::object& body, json::object req, std::string model) {
  if (auto e = apply_options(body, req)) return *e;
  if (auto e = apply_format(body, req)) return *e;
  auto stream = wants_stream(body);
  if (!stream) return stream.error();
  return common::chat_canonical(std::move(req), std::move(model), *stream);
}

}  // namespace

core::Result<Canonical> decode_chat(const json::value& body) {
  if (!body.is_object()) return invalid("the request body must be a JSON object", "");
  const auto& o = body.get_object();
  auto model = required_model(o);
  if (!model) return model.error();
  const auto* messages = o.if_contains("messages");
  if (!messages || !messages->is_array() || messages->get_array().empty())
    return invalid("messages must be a non-empty array (loading a model without a prompt is not supported)",
                   "messages");
  auto converted = convert_messages(messages->get_array());
  if (!converted) return converted.error();
  json::object req{{"model", *model}, {"messages", std::move(*converted)}};
  if (auto e = apply_tools(o, req)) return *e;
  return complete(o, std::move(req), std::move(*model));
}

core::Result<Canonical> decode_generate(const json::value& body) {
  if (!body.is_object()) return invalid("the request body must be a JSON object", "");
  const auto& o = body.get_object();
  auto model = required_model(o);
  if (!model) return model.error();
  auto prompt = optional_string(o, "prompt", "prompt");
  if (!prompt) return prompt.error();
  auto system = optional_string(o, "system", "system");
  if (!system) return system.error();
  auto suffix = optional_string(o, "suffix", "suffix");
  if (!suffix) return suffix.error();
  if (!suffix->empty()) return invalid("suffix (fill-in-the-middle) is not supported", "suffix");
  auto images = image_parts(o.if_contains("images"), "images");
  if (!images) return images.error();
  if (prompt->empty() && images->empty())
    return invalid("prompt must be a non-empty string (loading a model without a prompt is not supported)", "prompt");
  json::array messages;
  if (!system->empty()) messages.push_back(json::object{{"role", "system"}, {"content", *system}});
  messages.push_back(json::object{{"role", "user"}, {"content", user_content(*prompt, std::move(*images))}});
  json::object req{{"model", *model}, {"messages", std::move(messages)}};
  return complete(o, std::move(req), std::move(*model));
}

}  // namespace anygpt::formats::ollama
