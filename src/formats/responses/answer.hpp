// formats/responses/answer: Response objects (https://platform.openai.com/docs/api-reference/responses/object)
// built from canonical chat answers; the parts the stream encoder shares.
#pragma once

#include <boost/json/object.hpp>
#include <cstddef>
#include <cstdint>
#include <string>
#include <string_view>

#include "core/usage.hpp"
#include "formats/codec.hpp"

namespace anygpt::formats::responses {

// The ids of one answer, all derived from anygpt's request id (reduced to [A-Za-z0-9_]):
// "resp_<id>", its message "msg_<id>", function call items "fc_<id>_<n>", and "call_<id>_<n>"
// for a tool call the upstream gave no id.
struct Ids {
  explicit Ids(std::string_view request_id);
  std::string response() const { return "resp_" + suffix; }
  std::string message(std::size_t n) const;
  std::string function_call(std::size_t n) const;
  std::string call(std::size_t n) const;
  std::string suffix;
};

// The token counts of a canonical answer or chunk beyond core::Usage.
struct UsageDetails {
  std::int64_t cached_tokens = 0;     // usage.prompt_tokens_details.cached_tokens
  std::int64_t reasoning_tokens = 0;  // usage.completion_tokens_details.reasoning_tokens
};
UsageDetails usage_details(const boost::json::object& answer);

// {"input_tokens","input_tokens_details":{"cached_tokens"},"output_tokens",
// "output_tokens_details":{"reasoning_tokens"},"total_tokens"}.
boost::json::object usage_object(const core::Usage& usage, const UsageDetails& details);

// A Response without its outcome: id, object, created_at, model, and the request's settings
// echoed from ctx.request (instructions, max_output_tokens, metadata, parallel_tool_calls,
// reasoning, temperature, text, tool_choice, tools, top_p, truncation, user; when absent OpenAI's
// defaults, but null for temperature and top_p, whose value is the upstream's), store false
// (translated responses are not kept). status "in_progress", output [], usage, error and
// incomplete_details null. Has its own storage.
boost::json::object response_shell(const AnswerContext& ctx, std::int64_t created_at);

// The outcome of a finish_reason: "completed", or "incomplete" with the reason
// (length -> max_output_tokens, content_filter -> content_filter).
struct Outcome {
  std::string_view status = "completed";
  std::string_view incomplete_reason;  // "" when complete
};
Outcome outcome_of(std::string_view finish_reason);

// Sets status and incomplete_details of a shell.
void set_outcome(boost::json::object& response, const Outcome& outcome);

// {"type":"output_text","text","annotations":[],"logprobs":[]}
boost::json::object output_text(std::string_view text);
// {"type":"function_call","id","call_id","name","arguments","status"}
boost::json::object function_call_item(std::string_view id, std::string_view call_id, std::string_view name,
                                       std::string_view arguments, std::string_view status);

// The Response body for a canonical chat.completion.
std::string encode_response(const boost::json::object& answer, const AnswerContext& ctx, const Moment& now);

}  // namespace anygpt::formats::responses
