#include "mock/gemini_responder.hpp"

#include <algorithm>
#include <boost/json/monotonic_resource.hpp>
#include <boost/json/parse.hpp>
#include <cctype>
#include <initializer_list>

#include "mock/embeddings.hpp"
#include "mock/json_text.hpp"
#include "mock/wire_util.hpp"

namespace anygpt::mock {
namespace json = boost::json;
using core::ErrorKind;
using wire::field;
using wire::field2;
using wire::sv;

namespace {

constexpr int kDefaultDimensions = 8;
constexpr std::string_view kTypePrefix = "type.googleapis.com/google.ai.generativelanguage.v1beta.";

// A proto field as JSON may name it: lowerCamelCase (json_name) or the proto's snake_case.
struct Name {
  std::string_view camel;
  std::string_view snake;
};
using Names = std::initializer_list<Name>;

const Names kRequest = {{"contents", "contents"},
                        {"tools", "tools"},
                        {"toolConfig", "tool_config"},
                        {"safetySettings", "safety_settings"},
                        {"systemInstruction", "system_instruction"},
                        {"generationConfig", "generation_config"},
                        {"cachedContent", "cached_content"},
                        {"model", "model"}};
const Names kContent = {{"role", "role"}, {"parts", "parts"}};
const Names kPart = {{"text", "text"},
                     {"inlineData", "inline_data"},
                     {"fileData", "file_data"},
                     {"functionCall", "function_call"},
                     {"functionResponse", "function_response"},
                     {"executableCode", "executable_code"},
                     {"codeExecutionResult", "code_execution_result"},
                     {"thought", "thought"},
                     {"thoughtSignature", "thought_signature"},
                     {"videoMetadata", "video_metadata"},
                     {"partMetadata", "part_metadata"},
                     {"mediaResolution", "media_resolution"}};
// The members of Part's `data` oneof.
const Names kPartData = {{"text", "text"},
                         {"inlineData", "inline_data"},
                         {"fileData", "file_data"},
                         {"functionCall", "function_call"},
                         {"functionResponse", "function_response"},
                         {"executableCode", "executable_code"},
                         {"codeExecutionResult", "code_execution_result"}};
const Names kBlob = {{"mimeType", "mime_type"}, {"data", "data"}};
const Names kFileData = {{"mimeType", "mime_type"}, {"fileUri", "file_uri"}};
const Names kFunctionCall = {{"id", "id"}, {"name", "name"}, {"args", "args"}};
const Names kFunctionResponse = {{"id", "id"},
                                 {"name", "name"},
                                 {"response", "response"},
                                 {"willContinue", "will_continue"},
                                 {"scheduling", "scheduling"},
                                 {"parts", "parts"}};
const Names kGenerationConfig = {{"stopSequences", "stop_sequences"},
                                 {"responseMimeType", "response_mime_type"},
                                 {"responseSchema", "response_schema"},
                                 {"responseJsonSchema", "response_json_schema"},
                                 {"_responseJsonSchema", "_response_json_schema"},
                                 {"responseModalities", "response_modalities"},
                                 {"candidateCount", "candidate_count"},
                                 {"maxOutputTokens", "max_output_tokens"},
                                 {"temperature", "temperature"},
                                 {"topP", "top_p"},
                                 {"topK", "top_k"},
                                 {"seed", "seed"},
                                 {"presencePenalty", "presence_penalty"},
                                 {"frequencyPenalty", "frequency_penalty"},
                                 {"responseLogprobs", "response_logprobs"},
                                 {"logprobs", "logprobs"},
                                 {"enableEnhancedCivicAnswers", "enable_enhanced_civic_answers"},
                                 {"enableAffectiveDialog", "enable_affective_dialog"},
                                 {"speechConfig", "speech_config"},
                                 {"thinkingConfig", "thinking_config"},
                                 {"imageConfig", "image_config"},
                                 {"mediaResolution", "media_resolution"}};
const Names kTool = {{"functionDeclarations", "function_declarations"},
                     {"googleSearchRetrieval", "google_search_retrieval"},
                     {"codeExecution", "code_execution"},
                     {"googleSearch", "google_search"},
                     {"urlContext", "url_context"},
                     {"computerUse", "computer_use"},
                     {"fileSearch", "file_search"},
                     {"googleMaps", "google_maps"}};
const Names kFunctionDeclaration = {{"name", "name"},
                                    {"description", "description"},
                                    {"parameters", "parameters"},
                                    {"parametersJsonSchema", "parameters_json_schema"},
                                    {"response", "response"},
                                    {"responseJsonSchema", "response_json_schema"},
                                    {"behavior", "behavior"}};
// Schema: a subset of OpenAPI 3.0; JSON-Schema-only keywords (additionalProperties, $schema,
// $ref, const, oneOf, ...) are unknown fields.
const Names kSchema = {{"type", "type"},
                       {"format", "format"},
                       {"title", "title"},
                       {"description", "description"},
                       {"nullable", "nullable"},
                       {"enum", "enum"},
                       {"maxItems", "max_items"},
                       {"minItems", "min_items"},
                       {"properties", "properties"},
                       {"required", "required"},
                       {"minProperties", "min_properties"},
                       {"maxProperties", "max_properties"},
                       {"minLength", "min_length"},
                       {"maxLength", "max_length"},
                       {"pattern", "pattern"},
                       {"example", "example"},
                       {"anyOf", "any_of"},
                       {"propertyOrdering", "property_ordering"},
                       {"default", "default"},
                       {"items", "items"},
                       {"minimum", "minimum"},
                       {"maximum", "maximum"}};
const Names kToolConfig = {{"functionCallingConfig", "function_calling_config"},
                           {"retrievalConfig", "retrieval_config"}};
const Names kFunctionCallingConfig = {{"mode", "mode"}, {"allowedFunctionNames", "allowed_function_names"}};
const Names kSafetySetting = {{"category", "category"}, {"threshold", "threshold"}};
const Names kEmbedBatch = {{"requests", "requests"}};
const Names kEmbedRequest = {{"model", "model"},
                             {"content", "content"},
                             {"taskType", "task_type"},
                             {"title", "title"},
                             {"outputDimensionality", "output_dimensionality"}};

core::Error invalid(std::string message) {
  return core::make_error(ErrorKind::kInvalidRequest, std::move(message), {}, "INVALID_ARGUMENT");
}

std::string index(std::string_view path, std::string_view name, std::size_t i) {
  std::string out(path);
  if (!out.empty()) out += '.';
  out += name;
  out += '[';
  out += std::to_string(i);
  out += ']';
  return out;
}

std::string child(std::string_view path, std::string_view name) {
  std::string out(path);
  if (!out.empty()) out += '.';
  out += name;
  return out;
}

const json::value* get(const json::object& o, const Name& n) {
  return field2(o, n.camel, n.snake);
}

// An unknown member is the proto parser's "Cannot find field".
std::optional<core::Error> check_names(const json::object& o, Names names, std::string_view path) {
  for (const auto& kv : o) {
    std::string_view key(kv.key().data(), kv.key().size());
    bool known =
        std::any_of(names.begin(), names.end(), [&](const Name& n) { return key == n.camel || key == n.snake; });
    if (known) continue;
    std::string m = "Invalid JSON payload received. Unknown name \"" + std::string(key) + "\"";
    if (!path.empty()) m += " at '" + std::string(path) + "'";
    return invalid(m + ": Cannot find field.");
  }
  return std::nullopt;
}

core::Error bad_value(std::string_view path, std::string_view type, const json::value& v) {
  return invalid("Invalid value at '" + std::string(path) + "' (" + std::string(type) + "), " + wire::describe(v));
}

core::Error bad_message(std::string_view path, std::string_view message_type, const json::value& v) {
  return bad_value(path, std::string(kTypePrefix) + std::string(message_type), v);
}

std::optional<core::Error> expect_object(const json::value& v, std::string_view path, std::string_view type) {
  if (v.is_object()) return std::nullopt;
  if (v.is_array())
    return invalid("Invalid JSON payload received. Unknown name \"" + std::string(path) +
                   "\": Proto field is not repeating, cannot start list.");
  return bad_message(path, type, v);
}

std::optional<core::Error> expect_string(const json::value& v, std::string_view path) {
  if (v.is_string()) return std::nullopt;
  return bad_value(path, "TYPE_STRING", v);
}

// Proto JSON `bytes`: standard or URL-safe base64, padded or not.
bool proto_base64(std::string_view s) {
  std::size_t end = s.size();
  while (end > 0 && s[end - 1] == '=') --end;
  if (s.size() - end > 2 || end % 4 == 1) return false;
  return std::all_of(s.begin(), s.begin() + static_cast<std::ptrdiff_t>(end), [](char c) {
    return (c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '+' || c == '/' ||
           c == '-' || c == '_';
  });
}

std::optional<core::Error> check_schema(const json::value& v, const std::string& path, int depth) {
  if (auto err = expect_object(v, path, "Schema")) return err;
  if (depth > 32) return invalid("* GenerateContentRequest." + path + ": schema nesting is too deep");
  const auto& s = v.get_object();
  if (auto err = check_names(s, kSchema, path)) return err;
  if (const auto* type = field(s, "type")) {
    if (type->is_array())
      return invalid("Invalid JSON payload received. Unknown name \"type\" at '" + path +
                     "': Proto field is not repeating, cannot start list.");
    static constexpr std::string_view kTypes[] = {"TYPE_UNSPECIFIED", "STRING", "NUMBER", "INTEGER",
                                                  "BOOLEAN",          "ARRAY",  "OBJECT", "NULL"};
    std::string upper;
    if (type->is_string())
      for (char c : sv(type->get_string())) upper += static_cast<char>(std::toupper(static_cast<unsigned char>(c)));
    if (!type->is_string() || std::find(std::begin(kTypes), std::end(kTypes), upper) == std::end(kTypes))
      return bad_message(path + ".type", "Type", *type);
  }
  if (const auto* props = field(s, "properties")) {
    if (auto err = expect_object(*props, path + ".properties", "Schema")) return err;
    std::size_t i = 0;
    for (const auto& kv : props->get_object()) {
      if (auto err = check_schema(kv.value(), index(path, "properties", i) + ".value", depth + 1)) return err;
      ++i;
    }
  }
  if (const auto* items = field(s, "items"))
    if (auto err = check_schema(*items, path + ".items", depth + 1)) return err;
  if (const auto* any = field2(s, "anyOf", "any_of")) {
    if (!any->is_array()) return bad_message(path + ".any_of", "Schema", *any);
    const auto& list = any->get_array();
    for (std::size_t i = 0; i < list.size(); ++i)
      if (auto err = check_schema(list[i], index(path, "any_of", i), depth + 1)) return err;
  }
  for (std::string_view key : {"required", "enum", "propertyOrdering", "property_ordering"}) {
    const auto* list = field(s, key);
    if (!list) continue;
    if (!list->is_array()) return bad_value(path + "." + std::string(key), "TYPE_STRING", *list);
    for (const auto& item : list->get_array())
      if (!item.is_string()) return bad_value(path + "." + std::string(key), "TYPE_STRING", item);
  }
  return std::nullopt;
}

// What reading the contents collects.
struct Reading {
  Conversation conv;
  std::string turn_text;  // the current (merged) turn's text: user parts joined by a space, model as is
  bool turn_user = false;
  bool turn_has_words = false;
  bool started = false;
};

void close_turn(Reading& r) {
  if (r.started && r.turn_user && !r.turn_text.empty()) r.conv.last_user_text = r.turn_text;
}

// Where a Content sits: a turn of `contents`, the system instruction, or an embedding input
// (the last two: text parts only, no role check, not part of a turn).
enum class Slot { kTurn, kSystem, kEmbed };

std::optional<core::Error> check_part(const json::value& v, const std::string& path, Slot slot, Reading& r) {
  if (auto err = expect_object(v, path, "Part")) return err;
  const auto& p = v.get_object();
  if (auto err = check_names(p, kPart, path)) return err;
  const Name* data = nullptr;
  for (const auto& n : kPartData) {
    if (!get(p, n)) continue;
    if (data)
      return invalid("Invalid JSON payload received. Oneof field 'data' is already set. Cannot set '" +
                     std::string(n.camel) + "'");
    data = &n;
  }
  if (!data)
    return invalid("* GenerateContentRequest." + path +
                   ".data: required oneof field 'data' must have one initialized field");
  const auto& value = *get(p, *data);
  std::string where = child(path, data->snake);
  if (data->camel == "text") {
    if (auto err = expect_string(value, where)) return err;
    std::string_view text = sv(value.get_string());
    r.conv.prompt_chars += utf8_length(text);
    if (slot == Slot::kTurn) {
      if (r.turn_user && !r.turn_text.empty()) r.turn_text += ' ';  // a model turn's text is a prefill
      r.turn_text.append(text.data(), text.size());
      r.turn_has_words = true;
    }
    return std::nullopt;
  }
  if (slot == Slot::kSystem)
    return invalid("* GenerateContentRequest.system_instruction: only text parts are supported");
  if (slot == Slot::kEmbed)
    return invalid("* BatchEmbedContentsRequest." + path + ": only text parts can be embedded by this mock");
  if (data->camel != "functionResponse") r.turn_has_words = true;
  if (auto err = expect_object(value, where, data->camel == "inlineData" ? "Blob" : "Part")) return err;
  const auto& o = value.get_object();
  if (data->camel == "inlineData") {
    if (auto err = check_names(o, kBlob, where)) return err;
    const auto* mime = field2(o, "mimeType", "mime_type");
    if (!mime || !mime->is_string() || mime->get_string().empty())
      return invalid("* GenerateContentRequest." + where + ".mime_type: mime_type must be specified");
    const auto* bytes = field(o, "data");
    if (!bytes || !bytes->is_string() || bytes->get_string().empty())
      return invalid("* GenerateContentRequest." + where + ".data: data must be specified");
    if (!proto_base64(sv(bytes->get_string())))
      return invalid("Invalid value at '" + where + ".data' (TYPE_BYTES), Base64 decoding failed for " +
                     wire::describe(*bytes));
  } else if (data->camel == "fileData") {
    if (auto err = check_names(o, kFileData, where)) return err;
    const auto* uri = field2(o, "fileUri", "file_uri");
    if (!uri || !uri->is_string() || uri->get_string().empty())
      return invalid("* GenerateContentRequest." + where + ".file_uri: file_uri must be specified");
  } else if (data->camel == "functionCall") {
    if (auto err = check_names(o, kFunctionCall, where)) return err;
    const auto* name = field(o, "name");
    if (!name || !name->is_string() || name->get_string().empty())
      return invalid("* GenerateContentRequest." + where + ".name: Name cannot be empty.");
    if (const auto* args = field(o, "args"))
      if (auto err = expect_object(*args, where + ".args", "Struct")) return err;
  } else if (data->camel == "functionResponse") {
    if (auto err = check_names(o, kFunctionResponse, where)) return err;
    const auto* name = field(o, "name");
    if (!name || !name->is_string() || name->get_string().empty())
      return invalid("* GenerateContentRequest." + where + ".name: Name cannot be empty.");
    const auto* response = field(o, "response");
    if (!response) return invalid("* GenerateContentRequest." + where + ".response: response must be specified");
    if (auto err = expect_object(*response, where + ".response", "Struct")) return err;
  }
  return std::nullopt;
}

std::optional<core::Error> check_content(const json::value& v, const std::string& path, Slot slot, Reading& r) {
  if (auto err = expect_object(v, path, "Content")) return err;
  const auto& c = v.get_object();
  if (auto err = check_names(c, kContent, path)) return err;
  std::string_view role;
  if (const auto* rv = field(c, "role")) {
    if (auto err = expect_string(*rv, child(path, "role"))) return err;
    role = sv(rv->get_string());
  }
  if (slot == Slot::kTurn) {
    if (!role.empty() && role != "user" && role != "model") return invalid("Please use a valid role: user, model.");
    const bool user = role != "model";
    if (!r.started || user != r.turn_user) {  // consecutive same-role contents form one turn
      close_turn(r);
      r.turn_text.clear();
      r.turn_has_words = false;
      r.turn_user = user;
      r.started = true;
    }
  }
  const auto* parts = field(c, "parts");
  if (!parts || (parts->is_array() && parts->get_array().empty()))
    return invalid("* GenerateContentRequest." + child(path, "parts") + ": contents.parts must not be empty.");
  if (!parts->is_array()) return bad_message(child(path, "parts"), "Part", *parts);
  const auto& list = parts->get_array();
  for (std::size_t i = 0; i < list.size(); ++i)
    if (auto err = check_part(list[i], index(path, "parts", i), slot, r)) return err;
  return std::nullopt;
}

bool valid_function_name(std::string_view name) {
  if (name.empty() || name.size() > 64) return false;
  char first = name.front();
  if (!std::isalpha(static_cast<unsigned char>(first)) && first != '_') return false;
  return std::all_of(name.begin(), name.end(), [](char c) {
    return std::isalnum(static_cast<unsigned char>(c)) || c == '_' || c == '.' || c == ':' || c == '-';
  });
}

std::optional<core::Error> check_tools(const json::value& v, std::vector<std::string>& names) {
  if (!v.is_array()) return bad_message("tools", "Tool", v);
  const auto& tools = v.get_array();
  for (std::size_t i = 0; i < tools.size(); ++i) {
    std::string path = index("", "tools", i);
    if (auto err = expect_object(tools[i], path, "Tool")) return err;
    const auto& t = tools[i].get_object();
    if (auto err = check_names(t, kTool, path)) return err;
    const auto* decls = field2(t, "functionDeclarations", "function_declarations");
    if (!decls) continue;
    if (!decls->is_array()) return bad_message(child(path, "function_declarations"), "FunctionDeclaration", *decls);
    const auto& list = decls->get_array();
    for (std::size_t k = 0; k < list.size(); ++k) {
      std::string fpath = index(path, "function_declarations", k);
      if (auto err = expect_object(list[k], fpath, "FunctionDeclaration")) return err;
      const auto& d = list[k].get_object();
      if (auto err = check_names(d, kFunctionDeclaration, fpath)) return err;
      const auto* name = field(d, "name");
      if (!name || !name->is_string() || !valid_function_name(sv(name->get_string())))
        return invalid("* GenerateContentRequest." + fpath +
                       ".name: Invalid function name. Must start with a letter or an underscore. Must be alphameric "
                       "(a-z, A-Z, 0-9), underscores (_), dots (.), colons (:) or dashes (-), with a maximum length "
                       "of 64.");
      if (const auto* desc = field(d, "description"))
        if (auto err = expect_string(*desc, fpath + ".description")) return err;
      const auto* params = field(d, "parameters");
      if (params && field2(d, "parametersJsonSchema", "parameters_json_schema"))
        return invalid("* GenerateContentRequest." + fpath +
                       ": parameters and parameters_json_schema cannot both be set");
      if (params)
        if (auto err = check_schema(*params, fpath + ".parameters", 0)) return err;
      if (const auto* resp = field(d, "response"))
        if (auto err = check_schema(*resp, fpath + ".response", 0)) return err;
      names.emplace_back(sv(name->get_string()));
    }
  }
  return std::nullopt;
}

// The function a tool call names: NONE -> none; ANY with allowedFunctionNames -> the first of
// them; else the first declared.
std::optional<core::Error> check_tool_config(const json::value* v, const std::vector<std::string>& names,
                                             std::string& tool_name) {
  tool_name = names.empty() ? std::string() : names.front();
  if (!v) return std::nullopt;
  if (auto err = expect_object(*v, "tool_config", "ToolConfig")) return err;
  if (auto err = check_names(v->get_object(), kToolConfig, "tool_config")) return err;
  const auto* fcc = field2(v->get_object(), "functionCallingConfig", "function_calling_config");
  if (!fcc) return std::nullopt;
  const std::string path = "tool_config.function_calling_config";
  if (auto err = expect_object(*fcc, path, "FunctionCallingConfig")) return err;
  const auto& f = fcc->get_object();
  if (auto err = check_names(f, kFunctionCallingConfig, path)) return err;
  std::string_view mode = "AUTO";
  if (const auto* m = field(f, "mode")) {
    static constexpr std::string_view kModes[] = {"MODE_UNSPECIFIED", "AUTO", "ANY", "NONE", "VALIDATED"};
    if (!m->is_string() || std::find(std::begin(kModes), std::end(kModes), sv(m->get_string())) == std::end(kModes))
      return bad_message(path + ".mode", "FunctionCallingConfig.Mode", *m);
    mode = sv(m->get_string());
  }
  std::vector<std::string> allowed;
  if (const auto* a = field2(f, "allowedFunctionNames", "allowed_function_names")) {
    if (!a->is_array()) return bad_value(path + ".allowed_function_names", "TYPE_STRING", *a);
    for (const auto& n : a->get_array()) {
      if (!n.is_string()) return bad_value(path + ".allowed_function_names", "TYPE_STRING", n);
      allowed.emplace_back(sv(n.get_string()));
    }
  }
  if (mode == "NONE") {
    if (!allowed.empty())
      return invalid("* GenerateContentRequest." + path +
                     ".allowed_function_names: allowed_function_names should only be set when the mode is ANY.");
    tool_name.clear();
  } else if (!allowed.empty()) {
    if (mode != "ANY" && mode != "VALIDATED")
      return invalid("* GenerateContentRequest." + path +
                     ".allowed_function_names: allowed_function_names should only be set when the mode is ANY.");
    tool_name = allowed.front();
  }
  return std::nullopt;
}

std::optional<core::Error> check_number(const json::object& g, std::string_view camel, std::string_view snake,
                                        std::string_view type, bool integer, std::optional<double>& out) {
  const auto* v = field2(g, camel, snake);
  if (!v) return std::nullopt;
  std::string path = "generation_config." + std::string(snake);
  if (integer ? !wire::as_integer(*v) : !v->is_number()) return bad_value(path, type, *v);
  out = v->to_number<double>();
  return std::nullopt;
}

std::optional<core::Error> check_generation_config(const json::value* v, GeminiPlan& plan, Reading& r) {
  if (!v) return std::nullopt;
  const std::string path = "generation_config";
  if (auto err = expect_object(*v, path, "GenerationConfig")) return err;
  const auto& g = v->get_object();
  if (auto err = check_names(g, kGenerationConfig, path)) return err;
  std::optional<double> num;
  for (auto [camel, snake] : {std::pair<std::string_view, std::string_view>{"temperature", "temperature"},
                              {"topP", "top_p"},
                              {"presencePenalty", "presence_penalty"},
                              {"frequencyPenalty", "frequency_penalty"}}) {
    if (auto err = check_number(g, camel, snake, "TYPE_FLOAT", false, num)) return err;
  }
  for (auto [camel, snake] :
       {std::pair<std::string_view, std::string_view>{"topK", "top_k"}, {"seed", "seed"}, {"logprobs", "logprobs"}}) {
    if (auto err = check_number(g, camel, snake, "TYPE_INT32", true, num)) return err;
  }
  num.reset();
  if (auto err = check_number(g, "maxOutputTokens", "max_output_tokens", "TYPE_INT32", true, num)) return err;
  if (num && *num > 0) r.conv.max_output_tokens = static_cast<std::int64_t>(*num);  // 0: unset (proto default)
  num.reset();
  if (auto err = check_number(g, "candidateCount", "candidate_count", "TYPE_INT32", true, num)) return err;
  if (num && *num != 0) {
    if (*num < 1 || *num > 8)
      return invalid("* GenerateContentRequest.generation_config.candidate_count: must be in the range [1, 8]");
    plan.candidates = static_cast<int>(*num);
  }
  if (const auto* stops = field2(g, "stopSequences", "stop_sequences")) {
    if (!stops->is_array()) return bad_value(path + ".stop_sequences", "TYPE_STRING", *stops);
    for (const auto& s : stops->get_array()) {
      if (!s.is_string()) return bad_value(path + ".stop_sequences", "TYPE_STRING", s);
      r.conv.stop_sequences.emplace_back(sv(s.get_string()));
    }
    if (r.conv.stop_sequences.size() > 5)
      return invalid("* GenerateContentRequest.generation_config.stop_sequences: at most 5 stop sequences");
  }
  std::string_view mime;
  if (const auto* m = field2(g, "responseMimeType", "response_mime_type")) {
    if (auto err = expect_string(*m, path + ".response_mime_type")) return err;
    mime = sv(m->get_string());
  }
  const auto* schema = field2(g, "responseSchema", "response_schema");
  const auto* json_schema = field2(g, "responseJsonSchema", "response_json_schema");
  if (schema)
    if (auto err = check_schema(*schema, path + ".response_schema", 0)) return err;
  if (schema && json_schema)
    return invalid(
        "* GenerateContentRequest.generation_config: response_schema and response_json_schema cannot "
        "both be set");
  if ((schema || json_schema) && mime != "application/json" && mime != "text/x.enum")
    return invalid(
        "* GenerateContentRequest.generation_config.response_mime_type: When response_schema is set, "
        "response_mime_type must be one of: application/json, text/x.enum.");
  return std::nullopt;
}

std::optional<core::Error> check_safety(const json::value* v) {
  if (!v) return std::nullopt;
  if (!v->is_array()) return bad_message("safety_settings", "SafetySetting", *v);
  const auto& list = v->get_array();
  for (std::size_t i = 0; i < list.size(); ++i) {
    std::string path = index("", "safety_settings", i);
    if (auto err = expect_object(list[i], path, "SafetySetting")) return err;
    if (auto err = check_names(list[i].get_object(), kSafetySetting, path)) return err;
  }
  return std::nullopt;
}

core::Result<json::value> parse_body(std::string_view body, json::storage_ptr sp) {
  boost::system::error_code ec;
  auto doc = json::parse(wire::js(body), ec, std::move(sp));
  if (ec) return invalid("Invalid JSON payload received. Unexpected token.");
  if (!doc.is_object())
    return invalid("Invalid JSON payload received. Unknown name \"\": Root element must be a message.");
  return doc;
}

void append_usage(std::string& out, std::int64_t prompt, std::int64_t candidates) {
  out += ",\"usageMetadata\":{\"promptTokenCount\":";
  append_int(out, prompt);
  out += ",\"candidatesTokenCount\":";
  append_int(out, candidates);
  out += ",\"totalTokenCount\":";
  append_int(out, prompt + candidates);
  out += '}';
}

void append_tail(std::string& out, const GeminiPlan& plan, std::uint64_t seq) {
  out += ",\"modelVersion\":";
  append_json_string(out, plan.model);
  out += ",\"responseId\":\"mock-";
  append_int(out, static_cast<std::int64_t>(seq));
  out += "\"}";
}

std::string_view finish_reason(const ReplyPlan& a) {
  return a.finish == FinishReason::kLength ? "MAX_TOKENS" : "STOP";
}

// One candidate: {"content":{"parts":[<part>],"role":"model"}[,"finishReason":..],"index":i}
void append_candidate(std::string& out, const ReplyPlan& a, int i, std::string_view text, bool finish) {
  out += "{\"content\":{\"parts\":[";
  if (a.tool_name.empty()) {
    out += "{\"text\":";
    append_json_string(out, text);
    out += '}';
  } else {
    out += "{\"functionCall\":{\"name\":";
    append_json_string(out, a.tool_name);
    out += ",\"args\":";
    out += kToolArguments;
    out += "}}";
  }
  out += "],\"role\":\"model\"}";
  if (finish) {
    out += ",\"finishReason\":\"";
    out += finish_reason(a);
    out += '"';
  }
  out += ",\"index\":";
  append_int(out, i);
  out += '}';
}

}  // namespace

std::optional<core::Error> gemini_check_request(std::string_view query, std::string_view api_key, bool need_sse) {
  bool sse = false;
  while (!query.empty()) {
    auto amp = query.find('&');
    std::string_view item = query.substr(0, amp);
    std::string_view name = item.substr(0, item.find('='));
    if (name == "key") return invalid("API keys in URLs are not accepted by this mock: send the x-goog-api-key header");
    if (item == "alt=sse") sse = true;
    if (amp == std::string_view::npos) break;
    query.remove_prefix(amp + 1);
  }
  if (api_key.empty())
    return core::make_error(ErrorKind::kForbidden,
                            "Method doesn't allow unregistered callers (callers without established identity). Please "
                            "use API Key or other form of API consumer identity to call this API.",
                            {}, "PERMISSION_DENIED");
  if (need_sse && !sse)
    return invalid(
        "streamGenerateContent without alt=sse is not supported by this mock (the real API would answer one JSON "
        "array): add ?alt=sse");
  return std::nullopt;
}

core::Result<GeminiPlan> plan_gemini(std::string_view model, std::string_view body) {
  unsigned char arena[16 * 1024];
  json::monotonic_resource mr(arena, sizeof arena);
  auto doc = parse_body(body, &mr);
  if (!doc) return doc.error();
  const auto& o = doc->get_object();
  if (auto err = check_names(o, kRequest, "")) return *err;
  GeminiPlan plan;
  plan.model = std::string(model);
  Reading r;
  if (const auto* m = field(o, "model"))
    if (auto err = expect_string(*m, "model")) return *err;
  if (const auto* cc = field2(o, "cachedContent", "cached_content"))
    if (auto err = expect_string(*cc, "cached_content")) return *err;
  if (const auto* sys = field2(o, "systemInstruction", "system_instruction"))
    if (auto err = check_content(*sys, "system_instruction", Slot::kSystem, r)) return *err;
  const auto* contents = field(o, "contents");
  if (!contents || (contents->is_array() && contents->get_array().empty()))
    return invalid("* GenerateContentRequest.contents: contents is not specified");
  if (!contents->is_array()) return bad_message("contents", "Content", *contents);
  const auto& list = contents->get_array();
  for (std::size_t i = 0; i < list.size(); ++i)
    if (auto err = check_content(list[i], index("", "contents", i), Slot::kTurn, r)) return *err;
  close_turn(r);
  r.conv.last_turn_is_user = r.turn_user && r.turn_has_words;
  if (!r.turn_user) r.conv.prefill = std::move(r.turn_text);
  std::vector<std::string> names;
  if (const auto* tools = field(o, "tools"))
    if (auto err = check_tools(*tools, names)) return *err;
  if (auto err = check_tool_config(field2(o, "toolConfig", "tool_config"), names, r.conv.tool_name)) return *err;
  if (auto err = check_generation_config(field2(o, "generationConfig", "generation_config"), plan, r)) return *err;
  if (auto err = check_safety(field2(o, "safetySettings", "safety_settings"))) return *err;
  r.conv.n = plan.candidates;
  plan.answer = plan_reply(r.conv);
  return plan;
}

std::string gemini_response_body(const GeminiPlan& plan, std::uint64_t seq) {
  const auto& a = plan.answer;
  std::string out;
  out.reserve(256 + plan.model.size() + static_cast<std::size_t>(plan.candidates) * (96 + a.reply.size()));
  out += "{\"candidates\":[";
  for (int i = 0; i < plan.candidates; ++i) {
    if (i) out += ',';
    append_candidate(out, a, i, a.reply, true);
  }
  out += ']';
  append_usage(out, a.prompt_tokens, a.completion_tokens);
  append_tail(out, plan, seq);
  return out;
}

SseEvents gemini_stream_events(const GeminiPlan& plan, std::uint64_t seq, const StreamShape& shape) {
  const auto& a = plan.answer;
  const bool tool = !a.tool_name.empty();
  std::vector<std::string_view> pieces;
  if (tool) {
    pieces.emplace_back();  // a function call comes whole, in one event
  } else {
    pieces = split_text(a.reply, shape.content_chunks);
    if (pieces.empty()) pieces.emplace_back();
  }
  SseEvents ev;
  auto& out = ev.buffer();
  out.reserve(pieces.size() * (300 + plan.model.size()) * static_cast<std::size_t>(plan.candidates) + a.reply.size());
  ev.begin_content();
  std::size_t chars = 0;
  for (std::size_t k = 0; k < pieces.size(); ++k) {
    const bool last = k + 1 == pieces.size();
    chars += utf8_length(pieces[k]);
    // Running total of the candidates' tokens so far; the last event carries the full count.
    std::int64_t so_far = last ? a.completion_tokens : estimate_tokens(chars) * plan.candidates;
    out += "data: {\"candidates\":[";
    for (int i = 0; i < plan.candidates; ++i) {
      if (i) out += ',';
      append_candidate(out, a, i, pieces[k], last && shape.done_event);
    }
    out += ']';
    append_usage(out, a.prompt_tokens, so_far);
    append_tail(out, plan, seq);
    out += "\r\n\r\n";
    ev.end_event();
  }
  ev.end_content();
  return ev;
}

core::Result<GeminiEmbedPlan> plan_gemini_embed(std::string_view model, std::string_view body) {
  auto doc = parse_body(body, {});
  if (!doc) return doc.error();
  const auto& o = doc->get_object();
  if (auto err = check_names(o, kEmbedBatch, "")) return *err;
  const auto* requests = field(o, "requests");
  if (!requests || (requests->is_array() && requests->get_array().empty()))
    return invalid("* BatchEmbedContentsRequest.requests: requests must not be empty");
  if (!requests->is_array()) return bad_message("requests", "EmbedContentRequest", *requests);
  GeminiEmbedPlan plan;
  plan.model = std::string(model);
  const std::string expected = "models/" + plan.model;
  const auto& list = requests->get_array();
  for (std::size_t i = 0; i < list.size(); ++i) {
    std::string path = index("", "requests", i);
    if (auto err = expect_object(list[i], path, "EmbedContentRequest")) return *err;
    const auto& req = list[i].get_object();
    if (auto err = check_names(req, kEmbedRequest, path)) return *err;
    const auto* m = field(req, "model");
    if (!m || !m->is_string() || !sv(m->get_string()).starts_with("models/"))
      return invalid("* BatchEmbedContentsRequest." + path + ".model: unexpected model name format");
    if (sv(m->get_string()) != expected)
      return invalid("* BatchEmbedContentsRequest." + path + ".model: the model in each request must match the " +
                     "model in the URL (" + expected + ")");
    const auto* content = field(req, "content");
    if (!content) return invalid("* BatchEmbedContentsRequest." + path + ".content: content must be specified");
    Reading r;
    if (auto err = check_content(*content, path + ".content", Slot::kEmbed, r)) return *err;
    std::string text;
    for (const auto& part : field(content->get_object(), "parts")->get_array()) {
      if (!text.empty()) text += ' ';
      text += sv(field(part.get_object(), "text")->get_string());
    }
    int dims = kDefaultDimensions;
    if (const auto* d = field2(req, "outputDimensionality", "output_dimensionality")) {
      auto n = wire::as_integer(*d);
      if (!n) return bad_value(path + ".output_dimensionality", "TYPE_INT32", *d);
      if (*n < 1 || *n > 4096)
        return invalid("* BatchEmbedContentsRequest." + path +
                       ".output_dimensionality: must be between 1 and 4096 in this mock");
      dims = static_cast<int>(*n);
    }
    plan.texts.push_back(std::move(text));
    plan.dimensions.push_back(dims);
  }
  return plan;
}

std::string gemini_embed_body(const GeminiEmbedPlan& plan) {
  std::string out = "{\"embeddings\":[";
  for (std::size_t i = 0; i < plan.texts.size(); ++i) {
    if (i) out += ',';
    out += "{\"values\":[";
    auto vec = embed(plan.texts[i], plan.dimensions[i]);
    for (std::size_t k = 0; k < vec.size(); ++k) {
      if (k) out += ',';
      append_double(out, static_cast<double>(vec[k]));
    }
    out += "]}";
  }
  out += "]}";
  return out;
}

std::string gemini_error_body(unsigned code, std::string_view status, std::string_view message) {
  std::string out;
  out.reserve(64 + message.size());
  out += "{\"error\":{\"code\":";
  append_int(out, code);
  out += ",\"message\":";
  append_json_string(out, message);
  out += ",\"status\":";
  append_json_string(out, status);
  out += "}}";
  return out;
}

namespace {

std::string_view google_status(unsigned code) {
  switch (code) {
    case 400: return "INVALID_ARGUMENT";
    case 401: return "UNAUTHENTICATED";
    case 403: return "PERMISSION_DENIED";
    case 404: return "NOT_FOUND";
    case 409: return "ABORTED";
    case 429: return "RESOURCE_EXHAUSTED";
    case 499: return "CANCELLED";
    case 500: return "INTERNAL";
    case 501: return "NOT_IMPLEMENTED";
    case 503: return "UNAVAILABLE";
    case 504: return "DEADLINE_EXCEEDED";
    default: break;
  }
  return code >= 500 ? "UNAVAILABLE" : "FAILED_PRECONDITION";
}

}  // namespace

std::string gemini_error_body(const core::Error& error) {
  unsigned code = core::http_status(error.kind);
  std::string_view status = error.code.empty() ? google_status(code) : std::string_view(error.code);
  return gemini_error_body(code, status, error.message);
}

std::string gemini_status_error_body(const StatusErrorOptions& o) {
  std::string_view message;
  switch (o.status) {
    case 400: message = "Mock fault: the request was rejected."; break;
    case 401: message = "API key not valid. Please pass a valid API key."; break;
    case 403: message = "The caller does not have permission"; break;
    case 404: message = {}; break;
    case 429: message = "Resource has been exhausted (e.g. check quota)."; break;
    case 500:
      message =
          "An internal error has occurred. Please retry or report in "
          "https://developers.generativeai.google/guide/troubleshooting";
      break;
    case 503: message = "The model is overloaded. Please try again later."; break;
    case 504: message = "Deadline exceeded"; break;
    default: message = o.status >= 500 ? "The service is currently unavailable." : "Mock fault: the request failed.";
  }
  std::string text(o.message.empty() ? message : o.message);
  if (text.empty()) text = "models/" + std::string(o.model) + " is not found for API version v1beta";
  return gemini_error_body(o.status, o.type.empty() ? google_status(o.status) : o.type, text);
}

}  // namespace anygpt::mock
