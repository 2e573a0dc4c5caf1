#include "mock/anthropic_responder.hpp"

#include <algorithm>
#include <array>
#include <boost/json/monotonic_resource.hpp>
#include <boost/json/parse.hpp>
#include <cctype>
#include <optional>
#include <vector>

#include "mock/json_text.hpp"
#include "mock/wire_util.hpp"

namespace anygpt::mock {
namespace json = boost::json;
using core::ErrorKind;
using wire::field;
using wire::sv;

namespace {

// API versions the real API accepts (https://docs.anthropic.com/en/api/versioning; 2026-10-21 is
// what @anthropic-ai/sdk 1.x sends).
constexpr std::array<std::string_view, 3> kVersions = {"2023-06-01", "2023-01-01", "2026-10-21"};

// Top-level request fields of POST /v1/messages; anything else is "Extra inputs are not permitted".
constexpr std::array<std::string_view, 21> kTopLevel = {"model",
                                                        "messages",
                                                        "max_tokens",
                                                        "system",
                                                        "metadata",
                                                        "stop_sequences",
                                                        "stream",
                                                        "temperature",
                                                        "top_k",
                                                        "top_p",
                                                        "tools",
                                                        "tool_choice",
                                                        "thinking",
                                                        "service_tier",
                                                        "container",
                                                        "cache_control",
                                                        "context_management",
                                                        "diagnostics",
                                                        "inference_geo",
                                                        "mcp_servers",
                                                        "output_config"};

constexpr std::array<std::string_view, 8> kToolFields = {"name", "description", "input_schema",   "cache_control",
                                                         "type", "strict",      "input_examples", "defer_loading"};

constexpr std::array<std::string_view, 4> kImageTypes = {"image/jpeg", "image/png", "image/gif", "image/webp"};

// Block types accepted without a closer look (documents, thinking, server tools...).
constexpr std::array<std::string_view, 12> kOtherBlocks = {"document",
                                                           "search_result",
                                                           "thinking",
                                                           "redacted_thinking",
                                                           "server_tool_use",
                                                           "web_search_tool_result",
                                                           "web_fetch_tool_result",
                                                           "code_execution_tool_result",
                                                           "bash_code_execution_tool_result",
                                                           "text_editor_code_execution_tool_result",
                                                           "tool_search_tool_result",
                                                           "container_upload"};

template <std::size_t N>
bool one_of(const std::array<std::string_view, N>& set, std::string_view s) {
  return std::find(set.begin(), set.end(), s) != set.end();
}

core::Error invalid(std::string message) {
  return core::make_error(ErrorKind::kInvalidRequest, std::move(message), {}, "invalid_request_error");
}

std::string at(std::string_view base, std::size_t i) {
  return std::string(base) + "." + std::to_string(i);
}

std::string join_ids(const std::vector<std::string>& ids) {
  std::string out;
  for (const auto& id : ids) {
    if (!out.empty()) out += ", ";
    out += id;
  }
  return out;
}

// One tool_use / tool_result bookkeeping entry per message.
struct MessageTools {
  std::vector<std::string> uses;           // tool_use ids (assistant)
  std::vector<std::string> results;        // tool_result ids (user), in order
  std::size_t leading_results = 0;         // tool_result blocks before any other block
  std::vector<std::size_t> result_blocks;  // block index of each tool_result
};

// What reading the messages collects for the plan.
struct Reading {
  Conversation conv;
  std::string turn_text;  // the current (merged) turn's text: user parts joined by a space, assistant as is
  bool turn_user = false;
  bool turn_has_words = false;  // the current user turn has a block that is not a tool_result
  bool started = false;
};

void add_text(Reading& r, std::string_view text, bool counts_for_turn) {
  r.conv.prompt_chars += utf8_length(text);
  if (!counts_for_turn) return;
  if (r.turn_user && !r.turn_text.empty()) r.turn_text += ' ';  // an assistant turn's text is a prefill
  r.turn_text.append(text.data(), text.size());
}

void close_turn(Reading& r) {
  if (r.started && r.turn_user && !r.turn_text.empty()) r.conv.last_user_text = r.turn_text;
}

std::optional<core::Error> check_image(const json::object& block, const std::string& where) {
  const auto* source = field(block, "source");
  if (!source) return invalid(where + ".image.source: Field required");
  if (!source->is_object()) return invalid(where + ".image.source: Input should be a valid dictionary");
  const auto& s = source->get_object();
  const auto* type = field(s, "type");
  std::string_view t = type && type->is_string() ? sv(type->get_string()) : std::string_view{};
  if (t == "base64") {
    const auto* media = field(s, "media_type");
    if (!media || !media->is_string() || !one_of(kImageTypes, sv(media->get_string())))
      return invalid(where +
                     ".image.source.base64.media_type: Input should be 'image/jpeg', 'image/png', 'image/gif' or "
                     "'image/webp'");
    const auto* data = field(s, "data");
    if (!data || !data->is_string()) return invalid(where + ".image.source.base64.data: Field required");
    if (data->get_string().empty() || !wire::valid_base64(sv(data->get_string())))
      return invalid(where + ".image.source.base64.data: invalid base64 data");
    return std::nullopt;
  }
  if (t == "url") {
    const auto* url = field(s, "url");
    if (!url || !url->is_string()) return invalid(where + ".image.source.url.url: Field required");
    return std::nullopt;
  }
  if (t == "file") {
    const auto* id = field(s, "file_id");
    if (!id || !id->is_string()) return invalid(where + ".image.source.file.file_id: Field required");
    return std::nullopt;
  }
  return invalid(where + ".image.source: Input tag '" + std::string(t) +
                 "' found using 'type' does not match any of the expected tags: 'base64', 'url', 'file'");
}

// The text of a tool_result's content (a string, or text blocks); checks its shape.
std::optional<core::Error> read_tool_result(const json::object& block, const std::string& where, Reading& r) {
  const auto* id = field(block, "tool_use_id");
  if (!id || !id->is_string()) return invalid(where + ".tool_result.tool_use_id: Field required");
  if (const auto* is_error = field(block, "is_error"); is_error && !is_error->is_bool() && !is_error->is_null())
    return invalid(where + ".tool_result.is_error: Input should be a valid boolean");
  const auto* content = field(block, "content");
  if (!content || content->is_null()) return std::nullopt;
  if (content->is_string()) {
    add_text(r, sv(content->get_string()), false);
    return std::nullopt;
  }
  if (!content->is_array()) return invalid(where + ".tool_result.content: Input should be a valid list");
  const auto& parts = content->get_array();
  for (std::size_t k = 0; k < parts.size(); ++k) {
    std::string pw = at(where + ".tool_result.content", k);
    if (!parts[k].is_object()) return invalid(pw + ": Input should be a valid dictionary");
    const auto& p = parts[k].get_object();
    const auto* type = field(p, "type");
    std::string_view t = type && type->is_string() ? sv(type->get_string()) : std::string_view{};
    if (t == "text") {
      const auto* text = field(p, "text");
      if (!text || !text->is_string()) return invalid(pw + ".text.text: Field required");
      if (text->get_string().empty()) return invalid("messages: text content blocks must be non-empty");
      add_text(r, sv(text->get_string()), false);
    } else if (t == "image") {
      if (auto err = check_image(p, pw)) return err;
    } else if (t != "document" && t != "search_result") {
      return invalid(pw + ": Input tag '" + std::string(t) +
                     "' found using 'type' does not match any of the expected tags: 'text', 'image', 'document', "
                     "'search_result'");
    }
  }
  return std::nullopt;
}

std::optional<core::Error> read_blocks(const json::array& blocks, bool user, const std::string& where, Reading& r,
                                       MessageTools& tools) {
  bool only_results_so_far = true;
  for (std::size_t j = 0; j < blocks.size(); ++j) {
    std::string bw = at(where + ".content", j);
    if (!blocks[j].is_object()) return invalid(bw + ": Input should be a valid dictionary");
    const auto& b = blocks[j].get_object();
    const auto* type = field(b, "type");
    if (!type || !type->is_string()) return invalid(bw + ".type: Field required");
    std::string_view t = sv(type->get_string());
    if (t != "tool_result") only_results_so_far = false;
    if (t == "text") {
      const auto* text = field(b, "text");
      if (!text || !text->is_string()) return invalid(bw + ".text.text: Field required");
      if (text->get_string().empty()) return invalid("messages: text content blocks must be non-empty");
      add_text(r, sv(text->get_string()), true);
      r.turn_has_words = true;
    } else if (t == "image") {
      if (auto err = check_image(b, bw)) return err;
      r.turn_has_words = true;
    } else if (t == "tool_use") {
      if (user) return invalid(bw + ": `tool_use` blocks can only be in `assistant` messages");
      const auto* id = field(b, "id");
      const auto* name = field(b, "name");
      const auto* input = field(b, "input");
      if (!id || !id->is_string()) return invalid(bw + ".tool_use.id: Field required");
      if (!name || !name->is_string()) return invalid(bw + ".tool_use.name: Field required");
      if (!input) return invalid(bw + ".tool_use.input: Field required");
      if (!input->is_object()) return invalid(bw + ".tool_use.input: Input should be a valid dictionary");
      tools.uses.emplace_back(sv(id->get_string()));
    } else if (t == "tool_result") {
      if (!user) return invalid(bw + ": `tool_result` blocks can only be in `user` messages");
      if (auto err = read_tool_result(b, bw, r)) return err;
      tools.results.emplace_back(sv(field(b, "tool_use_id")->get_string()));
      tools.result_blocks.push_back(j);
      if (only_results_so_far) ++tools.leading_results;
    } else if (one_of(kOtherBlocks, t)) {
      r.turn_has_words = true;
    } else {
      return invalid(bw + ": Input tag '" + std::string(t) +
                     "' found using 'type' does not match any of the expected tags: 'text', 'image', 'document', "
                     "'search_result', 'thinking', 'redacted_thinking', 'tool_use', 'tool_result', 'server_tool_use'");
    }
  }
  return std::nullopt;
}

// Every tool_use of message i is answered by a tool_result at the start of message i + 1, and
// every tool_result answers a tool_use of the message before it.
std::optional<core::Error> check_tool_pairs(const std::vector<MessageTools>& msgs) {
  for (std::size_t i = 0; i < msgs.size(); ++i) {
    const auto& m = msgs[i];
    const MessageTools* prev = i > 0 ? &msgs[i - 1] : nullptr;
    for (std::size_t k = 0; k < m.results.size(); ++k) {
      if (!prev || std::find(prev->uses.begin(), prev->uses.end(), m.results[k]) == prev->uses.end())
        return invalid(
            "messages." + std::to_string(i) + ".content." + std::to_string(m.result_blocks[k]) +
            ": unexpected `tool_use_id` found in `tool_result` blocks: " + m.results[k] +
            ". Each `tool_result` block must have a corresponding `tool_use` block in the previous message.");
    }
    if (m.uses.empty()) continue;
    std::vector<std::string> missing;
    const MessageTools* next = i + 1 < msgs.size() ? &msgs[i + 1] : nullptr;
    for (const auto& id : m.uses) {
      if (!next || std::find(next->results.begin(), next->results.end(), id) == next->results.end())
        missing.push_back(id);
    }
    if (!missing.empty())
      return invalid(
          "messages." + std::to_string(i) +
          ": `tool_use` ids were found without `tool_result` blocks immediately after: " + join_ids(missing) +
          ". Each `tool_use` block must have a corresponding `tool_result` block in the next message.");
    if (next->leading_results < m.uses.size())
      return invalid("messages." + std::to_string(i + 1) + ": Did not find " + std::to_string(m.uses.size()) +
                     " `tool_result` block(s) at the beginning of this message. Messages following `tool_use` blocks "
                     "must begin with a matching number of `tool_result` blocks.");
  }
  return std::nullopt;
}

std::optional<core::Error> read_messages(const json::value* messages, Reading& r) {
  if (!messages) return invalid("messages: Field required");
  if (!messages->is_array()) return invalid("messages: Input should be a valid list");
  const auto& list = messages->get_array();
  if (list.empty()) return invalid("messages: at least one message is required");
  std::vector<MessageTools> tools(list.size());
  std::string_view prev_role;
  for (std::size_t i = 0; i < list.size(); ++i) {
    std::string where = at("messages", i);
    if (!list[i].is_object()) return invalid(where + ": Input should be a valid dictionary");
    const auto& m = list[i].get_object();
    for (const auto& kv : m) {
      if (kv.key() != "role" && kv.key() != "content")
        return invalid(where + "." + std::string(kv.key().data(), kv.key().size()) +
                       ": Extra inputs are not permitted");
    }
    const auto* role = field(m, "role");
    if (!role) return invalid(where + ".role: Field required");
    std::string_view rs = role->is_string() ? sv(role->get_string()) : std::string_view{};
    if (rs == "system")
      return invalid(
          "messages: Unexpected role \"system\". The Messages API accepts a top-level `system` parameter, not "
          "\"system\" as an input message role.");
    if (rs != "user" && rs != "assistant") return invalid(where + ".role: Input should be 'user' or 'assistant'");
    if (i == 0 && rs != "user") return invalid("messages: first message must use the \"user\" role");
    const bool user = rs == "user";
    if (!r.started || rs != prev_role) {  // consecutive same-role messages form one turn
      close_turn(r);
      r.turn_text.clear();
      r.turn_has_words = false;
      r.turn_user = user;
      r.started = true;
    }
    prev_role = rs;
    const auto* content = field(m, "content");
    if (!content) return invalid(where + ".content: Field required");
    const bool last = i + 1 == list.size();
    const std::string empty_msg =
        where + ": all messages must have non-empty content except for the optional final assistant message";
    if (content->is_string()) {
      if (content->get_string().empty() && !(last && !user)) return invalid(empty_msg);
      add_text(r, sv(content->get_string()), true);
      r.turn_has_words = r.turn_has_words || !content->get_string().empty();
    } else if (content->is_array()) {
      if (content->get_array().empty() && !(last && !user)) return invalid(empty_msg);
      if (auto err = read_blocks(content->get_array(), user, where, r, tools[i])) return err;
    } else {
      return invalid(where + ".content: Input should be a valid string or a valid list");
    }
  }
  close_turn(r);
  r.conv.last_turn_is_user = r.turn_user && r.turn_has_words;
  if (auto err = check_tool_pairs(tools)) return err;
  if (r.turn_user) return std::nullopt;
  // A final assistant turn is a prefill; the real API refuses one that ends with whitespace.
  if (!r.turn_text.empty() && std::isspace(static_cast<unsigned char>(r.turn_text.back())))
    return invalid("messages: final assistant content cannot end with trailing whitespace");
  r.conv.prefill = std::move(r.turn_text);
  return std::nullopt;
}

std::optional<core::Error> read_system(const json::value* system, Reading& r) {
  if (!system || system->is_null()) return std::nullopt;
  if (system->is_string()) {
    add_text(r, sv(system->get_string()), false);
    return std::nullopt;
  }
  if (!system->is_array()) return invalid("system: Input should be a valid string or a valid list");
  const auto& blocks = system->get_array();
  for (std::size_t i = 0; i < blocks.size(); ++i) {
    std::string where = at("system", i);
    if (!blocks[i].is_object()) return invalid(where + ": Input should be a valid dictionary");
    const auto& b = blocks[i].get_object();
    const auto* type = field(b, "type");
    if (!type || !type->is_string() || type->get_string() != "text")
      return invalid(where + ".type: Input should be 'text'");
    const auto* text = field(b, "text");
    if (!text || !text->is_string()) return invalid(where + ".text: Field required");
    if (text->get_string().empty()) return invalid("system: text content blocks must be non-empty");
    add_text(r, sv(text->get_string()), false);
  }
  return std::nullopt;
}

// A versioned server tool type ("web_search_20250305", "bash_20250124", ...) or a toolset.
bool server_tool_type(std::string_view type) {
  if (type == "mcp_toolset") return true;
  if (type.size() < 10 || type[type.size() - 9] != '_') return false;
  return std::all_of(type.end() - 8, type.end(), [](char c) { return c >= '0' && c <= '9'; });
}

bool valid_tool_name(std::string_view name) {
  if (name.empty() || name.size() > 128) return false;
  return std::all_of(name.begin(), name.end(), [](char c) {
    return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') || c == '_' || c == '-';
  });
}

// Validates `tools` and `tool_choice`; sets the function a tool call names.
std::optional<core::Error> read_tools(const json::object& o, Reading& r) {
  const auto* tools = field(o, "tools");
  const auto* choice = field(o, "tool_choice");
  if (tools && tools->is_null()) tools = nullptr;
  if (choice && choice->is_null()) choice = nullptr;
  std::vector<std::string> names;
  if (tools) {
    if (!tools->is_array()) return invalid("tools: Input should be a valid list");
    const auto& list = tools->get_array();
    for (std::size_t i = 0; i < list.size(); ++i) {
      std::string where = at("tools", i);
      if (!list[i].is_object()) return invalid(where + ": Input should be a valid dictionary");
      const auto& t = list[i].get_object();
      const auto* type = field(t, "type");
      const auto* name = field(t, "name");
      if (type && type->is_string() && type->get_string() != "custom") {
        if (!server_tool_type(sv(type->get_string())))
          return invalid(where + ": Input tag '" + std::string(sv(type->get_string())) +
                         "' found using 'type' does not match any of the expected tags: 'custom', or a server tool "
                         "type such as 'web_search_20250305'");
        if (name && name->is_string()) names.emplace_back(sv(name->get_string()));
        continue;  // a server tool: its own schema, not checked here
      }
      where += ".custom";
      for (const auto& kv : t) {
        std::string_view key(kv.key().data(), kv.key().size());
        if (!one_of(kToolFields, key))
          return invalid(where + "." + std::string(key) + ": Extra inputs are not permitted");
      }
      if (!name) return invalid(where + ".name: Field required");
      if (!name->is_string() || !valid_tool_name(sv(name->get_string())))
        return invalid(where + ".name: String should match pattern '^[a-zA-Z0-9_-]{1,128}$'");
      if (const auto* d = field(t, "description"); d && !d->is_string())
        return invalid(where + ".description: Input should be a valid string");
      const auto* schema = field(t, "input_schema");
      if (!schema) return invalid(where + ".input_schema: Field required");
      if (!schema->is_object()) return invalid(where + ".input_schema: Input should be a valid dictionary");
      const auto& s = schema->get_object();
      if (field(s, "oneOf") || field(s, "allOf") || field(s, "anyOf"))
        return invalid(where + ".input_schema: input_schema does not support oneOf, allOf, or anyOf at the top level");
      const auto* stype = field(s, "type");
      if (!stype) return invalid(where + ".input_schema.type: Field required");
      if (!stype->is_string() || stype->get_string() != "object")
        return invalid(where + ".input_schema.type: Input should be 'object'");
      std::string n(sv(name->get_string()));
      if (std::find(names.begin(), names.end(), n) != names.end()) return invalid("tools: Tool names must be unique.");
      names.push_back(std::move(n));
    }
  }
  std::string_view mode = "auto";
  if (choice) {
    if (!choice->is_object()) return invalid("tool_choice: Input should be a valid dictionary");
    const auto& c = choice->get_object();
    const auto* type = field(c, "type");
    mode = type && type->is_string() ? sv(type->get_string()) : std::string_view{};
    if (mode != "auto" && mode != "any" && mode != "tool" && mode != "none")
      return invalid("tool_choice: Input tag '" + std::string(mode) +
                     "' found using 'type' does not match any of the expected tags: 'auto', 'any', 'tool', 'none'");
    if (const auto* d = field(c, "disable_parallel_tool_use"); d && !d->is_bool())
      return invalid("tool_choice." + std::string(mode) +
                     ".disable_parallel_tool_use: Input should be a valid boolean");
    if (!tools) return invalid("tool_choice: tool_choice may only be specified while providing tools.");
    if (mode == "tool") {
      const auto* name = field(c, "name");
      if (!name || !name->is_string()) return invalid("tool_choice.tool.name: Field required");
      r.conv.tool_name = std::string(sv(name->get_string()));
      return std::nullopt;
    }
  }
  if (mode != "none" && !names.empty()) r.conv.tool_name = names.front();
  return std::nullopt;
}

std::optional<core::Error> read_sampling(const json::object& o, Reading& r) {
  if (const auto* v = field(o, "temperature"); v && !v->is_null()) {
    auto d = wire::as_number(*v);
    if (!d) return invalid("temperature: Input should be a valid number");
    if (*d < 0 || *d > 1) return invalid("temperature: range: 0..1");
  }
  if (const auto* v = field(o, "top_p"); v && !v->is_null()) {
    auto d = wire::as_number(*v);
    if (!d) return invalid("top_p: Input should be a valid number");
    if (*d < 0 || *d > 1) return invalid("top_p: range: 0..1");
  }
  if (const auto* v = field(o, "top_k"); v && !v->is_null()) {
    auto k = wire::as_integer(*v);
    if (!k) return invalid("top_k: Input should be a valid integer");
    if (*k < 0) return invalid("top_k: Input should be greater than or equal to 0");
  }
  if (const auto* v = field(o, "stop_sequences"); v && !v->is_null()) {
    if (!v->is_array()) return invalid("stop_sequences: Input should be a valid list");
    const auto& list = v->get_array();
    for (std::size_t i = 0; i < list.size(); ++i) {
      if (!list[i].is_string()) return invalid(at("stop_sequences", i) + ": Input should be a valid string");
      r.conv.stop_sequences.emplace_back(sv(list[i].get_string()));
    }
  }
  if (const auto* v = field(o, "metadata"); v && !v->is_null() && !v->is_object())
    return invalid("metadata: Input should be a valid dictionary");
  return std::nullopt;
}

void append_usage(std::string& out, std::int64_t input, std::int64_t output) {
  out += "{\"input_tokens\":";
  append_int(out, input);
  out += ",\"cache_creation_input_tokens\":0,\"cache_read_input_tokens\":0,\"output_tokens\":";
  append_int(out, output);
  out += '}';
}

std::string_view stop_reason(const ReplyPlan& a) {
  switch (a.finish) {
    case FinishReason::kToolCall: return "tool_use";
    case FinishReason::kLength: return "max_tokens";
    case FinishReason::kStopSequence: return "stop_sequence";
    case FinishReason::kStop: break;
  }
  return "end_turn";
}

void append_stop(std::string& out, const ReplyPlan& a) {
  out += "\"stop_reason\":\"";
  out += stop_reason(a);
  out += "\",\"stop_sequence\":";
  if (a.finish == FinishReason::kStopSequence) {
    append_json_string(out, a.stop_sequence);
  } else {
    out += "null";
  }
}

void append_seq_id(std::string& out, std::string_view prefix, std::uint64_t seq) {
  out += '"';
  out += prefix;
  append_int(out, static_cast<std::int64_t>(seq));
  out += '"';
}

}  // namespace

core::Result<AnthropicPlan> plan_anthropic(const AnthropicHeaders& headers, std::string_view body) {
  if (headers.api_key.empty())
    return core::make_error(ErrorKind::kUnauthorized, "x-api-key header is required", {}, "authentication_error");
  if (headers.version.empty()) return invalid("anthropic-version: header is required");
  if (!one_of(kVersions, headers.version))
    return invalid("anthropic-version: \"" + std::string(headers.version) + "\" is not a valid version");

  unsigned char arena[16 * 1024];
  json::monotonic_resource mr(arena, sizeof arena);
  boost::system::error_code ec;
  auto doc = json::parse(wire::js(body), ec, &mr);
  if (ec) return invalid("There was an error parsing the body of your request: invalid JSON");
  if (!doc.is_object()) return invalid("Input should be a valid dictionary");
  const auto& o = doc.get_object();
  for (const auto& kv : o) {
    std::string_view key(kv.key().data(), kv.key().size());
    if (!one_of(kTopLevel, key)) return invalid(std::string(key) + ": Extra inputs are not permitted");
  }
  AnthropicPlan plan;
  const auto* model = field(o, "model");
  if (!model) return invalid("model: Field required");
  if (!model->is_string()) return invalid("model: Input should be a valid string");
  plan.model = std::string(sv(model->get_string()));
  const auto* max_tokens = field(o, "max_tokens");
  if (!max_tokens) return invalid("max_tokens: Field required");
  auto max = wire::as_integer(*max_tokens);
  if (!max) return invalid("max_tokens: Input should be a valid integer");
  if (*max < 1) return invalid("max_tokens: Input should be greater than or equal to 1");
  if (const auto* stream = field(o, "stream"); stream && !stream->is_null()) {
    if (!stream->is_bool()) return invalid("stream: Input should be a valid boolean");
    plan.stream = stream->get_bool();
  }
  Reading r;
  r.conv.max_output_tokens = *max;
  if (auto err = read_system(field(o, "system"), r)) return *err;
  if (auto err = read_messages(field(o, "messages"), r)) return *err;
  if (auto err = read_tools(o, r)) return *err;
  if (auto err = read_sampling(o, r)) return *err;
  plan.answer = plan_reply(r.conv);
  return plan;
}

std::string anthropic_message_body(const AnthropicPlan& plan, std::uint64_t seq) {
  const auto& a = plan.answer;
  std::string out;
  out.reserve(320 + plan.model.size() + a.reply.size());
  out += "{\"id\":";
  append_seq_id(out, "msg_mock_", seq);
  out += ",\"type\":\"message\",\"role\":\"assistant\",\"model\":";
  append_json_string(out, plan.model);
  out += ",\"content\":[";
  if (a.tool_name.empty()) {
    out += "{\"type\":\"text\",\"text\":";
    append_json_string(out, a.reply);
    out += '}';
  } else {
    out += "{\"type\":\"tool_use\",\"id\":";
    append_seq_id(out, "toolu_mock_", seq);
    out += ",\"name\":";
    append_json_string(out, a.tool_name);
    out += ",\"input\":";
    out += kToolArguments;
    out += '}';
  }
  out += "],";
  append_stop(out, a);
  out += ",\"usage\":";
  append_usage(out, a.prompt_tokens, a.completion_tokens);
  out += '}';
  return out;
}

SseEvents anthropic_stream_events(const AnthropicPlan& plan, std::uint64_t seq, const StreamShape& shape) {
  const auto& a = plan.answer;
  const bool tool = !a.tool_name.empty();
  auto pieces = split_text(tool ? kToolArguments : std::string_view(a.reply), shape.content_chunks);
  SseEvents ev;
  auto& out = ev.buffer();
  out.reserve(900 + plan.model.size() + a.reply.size() * 2 + pieces.size() * 96);
  out += "event: message_start\ndata: {\"type\":\"message_start\",\"message\":{\"id\":";
  append_seq_id(out, "msg_mock_", seq);
  out += ",\"type\":\"message\",\"role\":\"assistant\",\"model\":";
  append_json_string(out, plan.model);
  out += ",\"content\":[],\"stop_reason\":null,\"stop_sequence\":null,\"usage\":";
  append_usage(out, a.prompt_tokens, 1);
  out += "}}\n\n";
  ev.end_event();
  out += "event: content_block_start\ndata: {\"type\":\"content_block_start\",\"index\":0,\"content_block\":";
  if (tool) {
    out += "{\"type\":\"tool_use\",\"id\":";
    append_seq_id(out, "toolu_mock_", seq);
    out += ",\"name\":";
    append_json_string(out, a.tool_name);
    out += ",\"input\":{}}}\n\n";
  } else {
    out += "{\"type\":\"text\",\"text\":\"\"}}\n\n";
  }
  ev.end_event();
  out += "event: ping\ndata: {\"type\": \"ping\"}\n\n";
  ev.end_event();
  ev.begin_content();
  for (auto piece : pieces) {
    out += "event: content_block_delta\ndata: {\"type\":\"content_block_delta\",\"index\":0,\"delta\":";
    out += tool ? "{\"type\":\"input_json_delta\",\"partial_json\":" : "{\"type\":\"text_delta\",\"text\":";
    append_json_string(out, piece);
    out += "}}\n\n";
    ev.end_event();
  }
  ev.end_content();
  out += "event: content_block_stop\ndata: {\"type\":\"content_block_stop\",\"index\":0}\n\n";
  ev.end_event();
  out += "event: message_delta\ndata: {\"type\":\"message_delta\",\"delta\":{";
  append_stop(out, a);
  out += "},\"usage\":{\"output_tokens\":";
  append_int(out, a.completion_tokens);
  out += "}}\n\n";
  ev.end_event();
  if (shape.done_event) {
    out += "event: message_stop\ndata: {\"type\":\"message_stop\"}\n\n";
    ev.end_event();
  }
  return ev;
}

std::string anthropic_error_body(std::string_view type, std::string_view message) {
  std::string out;
  out.reserve(64 + message.size());
  out += "{\"type\":\"error\",\"error\":{\"type\":";
  append_json_string(out, type);
  out += ",\"message\":";
  append_json_string(out, message);
  out += "}}";
  return out;
}

std::string anthropic_error_body(const core::Error& error) {
  std::string_view type = error.code;
  if (type.empty()) {
    switch (error.kind) {
      case ErrorKind::kUnauthorized: type = "authentication_error"; break;
      case ErrorKind::kForbidden: type = "permission_error"; break;
      case ErrorKind::kNotFound: type = "not_found_error"; break;
      case ErrorKind::kPayloadTooLarge: type = "request_too_large"; break;
      case ErrorKind::kRateLimited: type = "rate_limit_error"; break;
      case ErrorKind::kInternal: type = "api_error"; break;
      default: type = "invalid_request_error"; break;
    }
  }
  return anthropic_error_body(type, error.message);
}

std::string anthropic_status_error_body(const StatusErrorOptions& o) {
  std::string_view type;
  std::string_view message;
  switch (o.status) {
    case 400: type = "invalid_request_error", message = "Mock fault: the request was rejected."; break;
    case 401: type = "authentication_error", message = "invalid x-api-key"; break;
    case 402: type = "billing_error", message = "Your credit balance is too low to access the Anthropic API."; break;
    case 403:
      type = "permission_error", message = "Your API key does not have permission to use the specified resource.";
      break;
    case 404: type = "not_found_error", message = {}; break;
    case 413: type = "request_too_large", message = "Request exceeds the maximum allowed number of bytes."; break;
    case 429:
      type = "rate_limit_error", message = "Number of requests has exceeded your rate limit. Please try again later.";
      break;
    case 504: type = "timeout_error", message = "Request timed out."; break;
    case 529: type = "overloaded_error", message = "Overloaded"; break;
    default:
      if (o.status >= 500) {
        type = "api_error", message = "Internal server error";
      } else {
        type = "invalid_request_error", message = "Mock fault: the request failed.";
      }
  }
  std::string text(o.message.empty() ? message : o.message);
  if (text.empty()) text = "model: " + std::string(o.model);
  return anthropic_error_body(o.type.empty() ? type : o.type, text);
}

}  // namespace anygpt::mock
