// formats/ollama/provider_answer: Ollama's answers as an upstream (/api/chat bodies and stream
// lines, /api/embed bodies) read back into canonical OpenAI objects, and the pieces of a line the
// answer and the NDJSON stream decoder share. Pure: no clock (created comes from created_at).
#pragma once

#include <boost/json/object.hpp>
#include <cstddef>
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "core/error.hpp"

namespace anygpt::formats::ollama {

// The id of every canonical answer and chunk made from an Ollama answer (Ollama has none).
inline constexpr std::string_view kAnswerId = "chatcmpl-ollama";

// kUpstreamError with `message`.
core::Error upstream_error(std::string message);

// The in-band error of an Ollama body or line ({"error": "..."}), if it carries one.
std::optional<core::Error> line_error(const boost::json::object& line);

// Unix seconds of an RFC 3339 time ("2023-08-04T08:52:19.385406455-07:00", "...Z"); 0 when it
// does not parse.
std::int64_t created_seconds(std::string_view created_at);

// The ids given to the tool calls of one answer or stream: a call's own "id" when it has one not
// given yet, else "call_<index>" (or the next free "call_<n>" after it). Never the same id twice.
class CallIds {
 public:
  std::string next(std::string_view own, std::size_t index);

 private:
  bool used(std::string_view id) const;
  std::vector<std::string> used_;
};

// One tool call of an Ollama message, its arguments as JSON text.
struct ToolCall {
  std::string id;
  std::string name;
  std::string arguments;
};

// The message's "tool_calls" ([] when absent or null), numbered from `first_index`.
// kUpstreamError for a call without a function name or with arguments that are not an object.
core::Result<std::vector<ToolCall>> read_tool_calls(const boost::json::object& message, std::size_t first_index,
                                                    CallIds& ids);

// Ollama done_reason -> OpenAI finish_reason: "tool_calls" when the answer made calls, "length"
// for "length", else "stop".
std::string_view finish_reason(std::string_view done_reason, bool made_tool_calls);

// done_reason "load" / "unload": a model (un)load, which is not an answer.
bool load_only(std::string_view done_reason);

// {"prompt_tokens","completion_tokens","total_tokens"} from prompt_eval_count and eval_count (0 when absent).
boost::json::object usage_of(const boost::json::object& line);

// The canonical model name: the line's "model" when it has one, else `fallback`.
std::string_view model_of(const boost::json::object& line, std::string_view fallback);

// A non-stream /api/chat body (done:true) as a canonical chat.completion.
core::Result<boost::json::object> decode_chat_answer(std::string_view body, std::string_view model);

// An /api/embed body {model, embeddings:[[...]], prompt_eval_count} as an OpenAI embeddings list.
core::Result<boost::json::object> decode_embed_answer(std::string_view body, std::string_view model);

}  // namespace anygpt::formats::ollama
