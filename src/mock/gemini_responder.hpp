// mock: the Gemini API (generativelanguage v1beta: models.generateContent,
// models.streamGenerateContent, models.batchEmbedContents) as pure functions - URL, headers and
// body in, plan and answer text out, validated as strictly as the real API's proto parsing
// (https://ai.google.dev/api/generate-content, /api/embeddings, /api/caching#Content).
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "core/error.hpp"
#include "mock/chat_responder.hpp"
#include "mock/openai_errors.hpp"

namespace anygpt::mock {

// Errors carry the google.rpc status ("INVALID_ARGUMENT", ...) in `code`; their kind maps to
// the HTTP status.

// The key and query checks every Gemini route makes: a `key` query parameter is 400 (keys never
// go in URLs), a missing x-goog-api-key header 403 PERMISSION_DENIED, and with `need_sse` a
// query without alt=sse 400 (the real API would answer a JSON array; this mock does not).
std::optional<core::Error> gemini_check_request(std::string_view query, std::string_view api_key, bool need_sse);

struct GeminiPlan {
  std::string model;  // from the URL
  ReplyPlan answer;
  int candidates = 1;  // generationConfig.candidateCount
};

// Validates a GenerateContentRequest body for `model` (the URL's {model}).
core::Result<GeminiPlan> plan_gemini(std::string_view model, std::string_view body);

// GenerateContentResponse: candidates (text or functionCall parts, finishReason, index),
// usageMetadata, modelVersion, responseId "mock-<seq>".
std::string gemini_response_body(const GeminiPlan& plan, std::uint64_t seq);

// The alt=sse stream: `data: <GenerateContentResponse>\r\n\r\n` per text piece (a function
// call is one event); usageMetadata running totals on each; finishReason on the last
// (left out when !shape.done_event).
SseEvents gemini_stream_events(const GeminiPlan& plan, std::uint64_t seq, const StreamShape& shape);

struct GeminiEmbedPlan {
  std::string model;
  std::vector<std::string> texts;  // per request: its text parts joined by a space
  std::vector<int> dimensions;     // per request: outputDimensionality, default 8
};

// Validates a BatchEmbedContentsRequest for `model`: each request names "models/<model>".
core::Result<GeminiEmbedPlan> plan_gemini_embed(std::string_view model, std::string_view body);

// {"embeddings":[{"values":[...]}]}: the same deterministic vectors as /v1/embeddings.
std::string gemini_embed_body(const GeminiEmbedPlan& plan);

// {"error":{"code":..,"message":..,"status":..}}
std::string gemini_error_body(unsigned code, std::string_view status, std::string_view message);
std::string gemini_error_body(const core::Error& error);
// What the real API sends for `status` (429 RESOURCE_EXHAUSTED, 503 UNAVAILABLE, ...);
// options.type overrides the status string, options.message the message.
std::string gemini_status_error_body(const StatusErrorOptions& options);

inline constexpr std::string_view kGeminiMalformedEvent = "data: {this is not json\r\n\r\n";

}  // namespace anygpt::mock
