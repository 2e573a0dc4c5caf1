// mock: the Ollama API (POST /api/chat, POST /api/embed) as pure functions - body in, plan and
// answer text out, rejecting what Ollama's JSON decoding rejects
// (https://github.com/ollama/ollama/blob/main/docs/api.md).
#pragma once

#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

#include "core/error.hpp"
#include "mock/chat_responder.hpp"
#include "mock/openai_errors.hpp"

namespace anygpt::mock {

struct OllamaPlan {
  std::string model;
  bool stream = true;      // /api/chat streams unless "stream": false
  bool load_only = false;  // no messages: Ollama only loads the model (done_reason "load")
  ReplyPlan answer;
};

core::Result<OllamaPlan> plan_ollama_chat(std::string_view body);

// The non-stream answer: {model, created_at, message, done:true, done_reason, durations, counts}.
std::string ollama_chat_body(const OllamaPlan& plan, std::string_view created_at);

// The NDJSON stream: one `{..., "message":{"role":"assistant","content":piece}, "done":false}`
// line per piece (a tool call is one line with tool_calls), then the done:true line with the
// counts (left out when !shape.done_event).
SseEvents ollama_chat_lines(const OllamaPlan& plan, std::string_view created_at, const StreamShape& shape);

struct OllamaEmbedPlan {
  std::string model;
  std::vector<std::string> inputs;
  int dimensions = 8;
  std::int64_t prompt_tokens = 0;
};

// {model, input: string | [string], truncate?, options?, keep_alive?, dimensions?}
core::Result<OllamaEmbedPlan> plan_ollama_embed(std::string_view body);

// {model, embeddings:[[...]], total_duration, load_duration, prompt_eval_count}
std::string ollama_embed_body(const OllamaEmbedPlan& plan);

// {"error":"..."}
std::string ollama_error_body(std::string_view message);
std::string ollama_status_error_body(const StatusErrorOptions& options);

// RFC 3339 UTC time with nanoseconds, as Ollama's created_at ("2024-07-01T12:00:00.123456789Z").
std::string ollama_timestamp(std::int64_t unix_nanos);

inline constexpr std::string_view kOllamaMalformedLine = "{this is not json\n";

}  // namespace anygpt::mock
