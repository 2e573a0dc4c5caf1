// formats/ws: the /ws message protocol (the original AnyGPT's, plus streaming), pure: client
// messages decoded, server messages encoded, and an OpenAI chat answer (whole or streamed)
// turned into chat.delta / chat.complete messages. docs/WEBSOCKET.md is the reference.
#pragma once

#include <boost/json/object.hpp>
#include <boost/json/value.hpp>
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <variant>
#include <vector>

#include "formats/common/chunks.hpp"
#include "formats/openai/openai.hpp"

namespace anygpt::formats::ws {

// A client message. `type` says which fields are set.
struct Inbound {
  enum class Type { kAuth, kPing, kChat, kCancel, kUnknown };
  Type type = Type::kUnknown;
  std::string type_name;    // as sent (for unknown_type)
  std::string request_id;   // chat.completions / chat.cancel (may be empty: see decode())
  std::string api_key;      // auth
  bool push_usage = false;  // auth: "pushUsage": a usage message after each request
  bool stream = false;      // chat.completions
  std::string chat_body;    // chat.completions: the OpenAI request body (without type/requestId)
};

// An error message's code and text.
struct Problem {
  std::string code;  // auth, auth_required, bad_json, bad_request, model_not_found, rate_limited,
                     // quota_exhausted, upstream_error, unknown_type, too_many_in_flight
  std::string message;
  std::string request_id;
  std::int64_t retry_after_ms = 0;  // rate_limited only (0: not said)
};

// Decodes one text message. Errors: bad_json (not a JSON object), bad_request (a field of the
// wrong type, a chat.completions without model or messages, a chat.cancel without requestId).
// A chat.completions asking to stream gets stream_options.include_usage (the usage of the
// final chat.complete); its other fields go to the upstream request as they are.
std::variant<Inbound, Problem> decode(std::string_view text);

std::string auth_ok(std::string_view tier, std::string_view role, bool already);
std::string pong();
std::string chat_start(std::string_view request_id);
std::string chat_cancelled(std::string_view request_id);
std::string error(const Problem& p);
// {"type":"usage","requestId","tokenUsage","requestCount"}: the key's totals after a request.
std::string usage(std::string_view request_id, std::int64_t token_usage, std::int64_t request_count);

// The error an HTTP answer of the chat route means on the socket: `status` and the OpenAI error
// body; `retry_after_s` from its Retry-After header (0: none).
Problem problem_of(unsigned status, std::string_view body, std::int64_t retry_after_s, std::string request_id);

// An OpenAI chat answer becoming messages: feed it a whole chat.completion (complete()) or the
// bytes of its SSE stream (feed() then finish()). Streamed deltas come out as chat.delta
// messages; the end as chat.complete with the whole text, the usage and the full
// chat.completion (assembled from the stream when streamed).
class AnswerAssembler {
 public:
  explicit AnswerAssembler(std::string request_id) : request_id_(std::move(request_id)) {}

  // The chat.delta messages of `bytes` (a piece of the SSE stream), appended to `out` one per
  // element; a problem when the stream carried an in-band error.
  std::optional<Problem> feed(std::string_view bytes, std::vector<std::string>& out);
  // The chat.complete of the stream fed so far.
  std::string finish(std::int64_t latency_ms, std::string_view provider);
  // The chat.complete of a whole chat.completion body (or a problem when it is not one).
  std::variant<std::string, Problem> complete(std::string_view body, std::int64_t latency_ms,
                                              std::string_view provider);

 private:
  std::string request_id_;
  openai::SseSplitter splitter_;
  std::string text_;
  common::ToolCallAccumulator tools_;
  boost::json::value usage_;
  std::string id_, model_, finish_reason_;
  std::int64_t created_ = 0;
};

}  // namespace anygpt::formats::ws
