// mock: the OpenAI Responses API (POST /v1/responses) as pure functions - request body in,
// Response object or Responses SSE events out (https://platform.openai.com/docs/api-reference/responses).
// The answer comes from the protocol-neutral plan_reply (chat_responder.hpp).
#pragma once

#include <cstdint>
#include <string>
#include <string_view>

#include "core/error.hpp"
#include "mock/chat_responder.hpp"

namespace anygpt::mock {

struct ResponsesPlan {
  std::string model;
  bool stream = false;
  std::string instructions;          // echoed ("" -> null)
  std::string previous_response_id;  // echoed ("" -> null); not resolved
  std::int64_t max_output_tokens = -1;
  ReplyPlan reply;
};

// Validates like the real API: a JSON object with `model` (string), `input` (a string or an
// array of items; optional with previous_response_id), `max_output_tokens` an integer >= 16,
// `stream` a boolean, `tools` an array, no Chat Completions `messages`. Invalid: an
// invalid_request error naming the field.
core::Result<ResponsesPlan> plan_responses(std::string_view body);

// The Response object "resp_mock_<seq>" (status completed, or incomplete for a cut reply).
std::string responses_body(const ResponsesPlan& plan, std::uint64_t seq, std::int64_t created);

// response.created, response.in_progress, the item's events (text deltas or argument deltas, the
// content events), its done events, then response.completed / response.incomplete (left out
// without shape.done_event). Each event "event: <type>\ndata: <json>\n\n" with sequence_number.
SseEvents responses_stream_events(const ResponsesPlan& plan, std::uint64_t seq, std::int64_t created,
                                  const StreamShape& shape);

// The non-JSON event of the malformed_chunk fault.
inline constexpr std::string_view kResponsesMalformedEvent =
    "event: response.output_text.delta\ndata: {this is not json\n\n";

}  // namespace anygpt::mock
