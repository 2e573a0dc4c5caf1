// mock: the Anthropic Messages API (POST /v1/messages) as pure functions - headers and body in,
// plan and answer text out, validated as strictly as api.anthropic.com
// (https://docs.anthropic.com/en/api/messages, /en/api/messages-streaming, /en/api/errors).
#pragma once

#include <cstdint>
#include <string>
#include <string_view>

#include "core/error.hpp"
#include "mock/chat_responder.hpp"
#include "mock/openai_errors.hpp"

namespace anygpt::mock {

struct AnthropicPlan {
  std::string model;
  bool stream = false;  // `stream` defaults to false
  ReplyPlan answer;
};

// The headers the API checks; an empty view is an absent header.
struct AnthropicHeaders {
  std::string_view api_key;  // x-api-key
  std::string_view version;  // anthropic-version
};

// Checks the headers (no x-api-key: 401 authentication_error; no or unknown anthropic-version:
// 400) and the body. Errors carry the Anthropic error type in `code`; their kind maps to the
// status (kUnauthorized 401, kInvalidRequest 400).
core::Result<AnthropicPlan> plan_anthropic(const AnthropicHeaders& headers, std::string_view body);

// The Message object: id "msg_mock_<seq>", one text block or one tool_use block
// (id "toolu_mock_<seq>"), stop_reason, usage.
std::string anthropic_message_body(const AnthropicPlan& plan, std::uint64_t seq);

// The SSE stream (`event: <type>\ndata: <json>\n\n` each): message_start, content_block_start,
// ping, content_block_delta (text_delta or input_json_delta) x pieces, content_block_stop,
// message_delta, message_stop (left out when !shape.done_event).
SseEvents anthropic_stream_events(const AnthropicPlan& plan, std::uint64_t seq, const StreamShape& shape);

// {"type":"error","error":{"type":..,"message":..}}
std::string anthropic_error_body(std::string_view type, std::string_view message);
std::string anthropic_error_body(const core::Error& error);  // type from error.code
// What api.anthropic.com sends for `status` (529 overloaded_error, 429 rate_limit_error, ...);
// options.type and options.message override the defaults. options.code is not used.
std::string anthropic_status_error_body(const StatusErrorOptions& options);

inline constexpr std::string_view kAnthropicMalformedEvent = "event: content_block_delta\ndata: {this is not json\n\n";

}  // namespace anygpt::mock
