#include "formats/responses/request.hpp"

#include <boost/json.hpp>

#include "formats/common/chunks.hpp"

namespace anygpt::formats::responses {
namespace json = boost::json;
using common::field;

core::Error invalid_field(std::string message, std::string param) {
  return core::make_error(core::ErrorKind::kInvalidRequest, std::move(message), std::move(param), "invalid_request");
}

std::string indexed(std::string_view path, std::size_t i) {
  std::string out(path);
  out += '[';
  out += std::to_string(i);
  out += ']';
  return out;
}

namespace {

constexpr std::string_view kStateless =
    " anygpt answers /v1/responses by translating it to chat completions and stores no responses: send the "
    "conversation as input items instead";

bool positive_integer(const json::value& v) {
  return (v.is_int64() && v.get_int64() > 0) || (v.is_uint64() && v.get_uint64() > 0);
}

// Fields that need state or services only the Responses API itself has.
MaybeError refuse_stateful(const json::object& request) {
  for (const char* name : {"previous_response_id", "conversation", "prompt"}) {
    const auto* v = field(request, name);
    if (!v || (v->is_string() && v->get_string().empty())) continue;
    return invalid_field(std::string("'") + name + "' is not supported here:" + std::string(kStateless) + ".", name);
  }
  if (const auto* b = field(request, "background"); b && !(b->is_bool() && !b->get_bool()))
    return invalid_field("'background' responses are not supported here:" + std::string(kStateless) + ".",
                         "background");
  return std::nullopt;
}

MaybeError add_instructions(const json::object& request, json::array& messages) {
  const auto* v = field(request, "instructions");
  if (!v) return std::nullopt;
  if (!v->is_string()) return invalid_field("'instructions' must be a string", "instructions");
  if (!v->get_string().empty()) messages.push_back(json::object{{"role", "system"}, {"content", *v}});
  return std::nullopt;
}

MaybeError add_sampling(const json::object& request, json::object& chat) {
  for (const char* name : {"temperature", "top_p"}) {
    const auto* v = field(request, name);
    if (!v) continue;
    if (!v->is_number()) return invalid_field(std::string("'") + name + "' must be a number", name);
    chat[name] = *v;
  }
  if (const auto* v = field(request, "max_output_tokens")) {
    if (!positive_integer(*v))
      return invalid_field("'max_output_tokens' must be a positive integer", "max_output_tokens");
    chat["max_tokens"] = *v;
  }
  if (const auto* v = field(request, "user")) {
    if (!v->is_string()) return invalid_field("'user' must be a string", "user");
    chat["user"] = *v;
  }
  if (const auto* r = field(request, "reasoning")) {
    if (!r->is_object()) return invalid_field("'reasoning' must be an object", "reasoning");
    const auto* effort = field(r->get_object(), "effort");
    if (effort && !effort->is_string()) return invalid_field("'reasoning.effort' must be a string", "reasoning.effort");
    if (effort) chat["reasoning_effort"] = *effort;
  }
  return std::nullopt;
}

// text.format -> response_format (text: nothing to say).
MaybeError add_text_format(const json::object& request, json::object& chat) {
  const auto* text = field(request, "text");
  if (!text) return std::nullopt;
  if (!text->is_object()) return invalid_field("'text' must be an object", "text");
  const auto* f = field(text->get_object(), "format");
  if (!f) return std::nullopt;
  if (!f->is_object()) return invalid_field("'text.format' must be an object", "text.format");
  const auto& format = f->get_object();
  auto type = common::str(format, "type");
  if (type == "text") return std::nullopt;
  if (type == "json_object") {
    chat["response_format"] = json::object{{"type", "json_object"}};
    return std::nullopt;
  }
  if (type != "json_schema")
    return invalid_field("'text.format.type' must be one of text, json_object or json_schema", "text.format.type");
  auto name = common::str(format, "name");
  if (name.empty()) return invalid_field("'text.format.name' is required for json_schema", "text.format.name");
  const auto* schema = field(format, "schema");
  if (!schema || !schema->is_object())
    return invalid_field("'text.format.schema' is required for json_schema and must be an object",
                         "text.format.schema");
  json::object spec{{"name", name}, {"schema", *schema}};
  if (const auto* d = field(format, "description")) {
    if (!d->is_string()) return invalid_field("'text.format.description' must be a string", "text.format.description");
    spec["description"] = *d;
  }
  if (const auto* s = field(format, "strict")) {
    if (!s->is_bool()) return invalid_field("'text.format.strict' must be a boolean", "text.format.strict");
    spec["strict"] = *s;
  }
  chat["response_format"] = json::object{{"type", "json_schema"}, {"json_schema", std::move(spec)}};
  return std::nullopt;
}

core::Result<bool> stream_flag(const json::object& request) {
  const auto* s = field(request, "stream");
  if (!s) return false;
  if (!s->is_bool()) return invalid_field("'stream' must be a boolean", "stream");
  return s->get_bool();
}

// Accepted and not forwarded (docs/PROTOCOLS.md), but still type-checked.
MaybeError check_accepted(const json::object& request) {
  if (const auto* s = field(request, "store"); s && !s->is_bool())
    return invalid_field("'store' must be a boolean", "store");
  if (const auto* m = field(request, "metadata"); m && !m->is_object())
    return invalid_field("'metadata' must be an object", "metadata");
  return std::nullopt;
}

core::Result<std::string_view> model_of(const json::value& body) {
  if (!body.is_object()) return invalid_field("Request body must be a JSON object", "");
  auto model = common::str(body.get_object(), "model");
  if (model.empty()) return invalid_field("'model' is required and must be a non-empty string", "model");
  return model;
}

core::Error missing_input() {
  return invalid_field("Missing required parameter: 'input'.", "input");
}

}  // namespace

core::Result<Canonical> peek_request(const json::value& body) {
  auto model = model_of(body);
  if (!model) return model.error();
  const auto& request = body.get_object();
  bool resolved_upstream =
      field(request, "previous_response_id") || field(request, "conversation") || field(request, "prompt");
  if (!field(request, "input") && !resolved_upstream) return missing_input();
  auto stream = stream_flag(request);
  if (!stream) return stream.error();
  Canonical c;
  c.model = std::string(*model);
  c.stream = *stream;
  return c;
}

core::Result<Canonical> decode_request(const json::value& body) {
  auto model = model_of(body);
  if (!model) return model.error();
  const auto& request = body.get_object();
  if (auto e = refuse_stateful(request)) return *e;
  const auto* input = field(request, "input");
  if (!input) return missing_input();
  json::object chat{{"model", *model}};
  json::array messages;
  if (auto e = add_instructions(request, messages)) return *e;
  if (auto e = append_input(*input, messages)) return *e;
  chat["messages"] = std::move(messages);
  if (auto e = add_sampling(request, chat)) return *e;
  if (auto e = add_text_format(request, chat)) return *e;
  if (auto e = add_tools(request, chat)) return *e;
  if (auto e = check_accepted(request)) return *e;
  auto stream = stream_flag(request);
  if (!stream) return stream.error();
  return common::chat_canonical(std::move(chat), std::string(*model), *stream);
}

}  // namespace anygpt::formats::responses
