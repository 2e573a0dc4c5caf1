// formats/ollama/answer: canonical chat.completion answers as Ollama chat/generate bodies, and the
// pieces every Ollama answer line shares (timestamps, done_reason, timing metrics, tool calls).
#pragma once

#include <boost/json/object.hpp>
#include <cstdint>
#include <string>
#include <string_view>

#include "core/usage.hpp"
#include "formats/codec.hpp"

namespace anygpt::formats::ollama {

// Which Ollama endpoint an answer is for: /api/chat carries "message", /api/generate "response".
enum class Endpoint { kChat, kGenerate };

// RFC 3339 UTC time of `wall_ms` (ms since the Unix epoch; negative is clamped to 0), e.g.
// "2024-01-01T00:00:00.123Z" with `millis`, "2024-01-01T00:00:00Z" without.
std::string rfc3339(std::int64_t wall_ms, bool millis);

// OpenAI finish_reason -> Ollama done_reason: "length" stays, everything else is "stop".
std::string_view done_reason(std::string_view finish_reason);

// {"model", "created_at"}: how every answer line starts.
boost::json::object line_head(std::string_view model, const Moment& now);

// The final-line metrics: the whole call as total and eval duration, no load or prompt time.
void add_metrics(boost::json::object& line, const core::Usage& usage, const Moment& now);

// An Ollama tool call {"function":{"name","arguments": object}} from OpenAI's name/arguments text.
boost::json::object tool_call(std::string_view name, std::string_view arguments);

// The reasoning text of an OpenAI message or delta ("reasoning_content", else "reasoning").
std::string_view reasoning(const boost::json::object& message);

// A chat.completion as the Ollama body of `endpoint` ("done": true, metrics from its usage).
std::string encode_answer(Endpoint endpoint, const boost::json::object& answer, const AnswerContext& ctx,
                          const Moment& now);

}  // namespace anygpt::formats::ollama
