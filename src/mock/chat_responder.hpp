// mock: the chat completions answer as pure functions - request body in, response text out
// (https://platform.openai.com/docs/api-reference/chat). No sockets, clocks or config here.
#pragma once

#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

#include "core/error.hpp"

namespace anygpt::mock {

// Arguments of every mock tool call.
inline constexpr std::string_view kToolArguments = R"({"location":"Paris"})";

// What to answer to one /v1/chat/completions request.
struct ChatPlan {
  std::string model;
  bool stream = false;                 // `stream` defaults to false, as on OpenAI
  bool include_usage = false;          // stream_options.include_usage
  int n = 1;                           // choices
  std::string reply;                   // assistant text, when tool_name is empty
  std::string tool_name;               // non-empty: answer with a call to this function instead
  std::int64_t prompt_tokens = 0;      // ceil(characters of all message text / 4)
  std::int64_t completion_tokens = 0;  // ceil(characters of one answer / 4) * n
};

// Validates a request body and decides the answer. Invalid JSON or a missing/ill-typed field is
// an invalid_request error naming the field (as OpenAI's 400 does).
core::Result<ChatPlan> plan_chat(std::string_view body);

// The deterministic reply to the last user message's text: a haiku when it contains "haiku",
// a greeting when it contains "hello" (any case), else "Mock reply to: <text>" (truncated).
std::string reply_text(std::string_view last_user_text);

// Identity of one answer: id "chatcmpl-mock-<seq>", tool call ids "call_mock_<seq>[_<choice>]".
struct AnswerIds {
  std::uint64_t seq = 0;
  std::int64_t created = 0;  // unix seconds
};

// The chat.completion object (non-streamed answer).
std::string chat_completion_body(const ChatPlan& plan, const AnswerIds& ids);

struct StreamShape {
  std::int64_t content_chunks = 0;  // per choice; 0 = one per ~3 characters
  bool done_event = true;           // end with `data: [DONE]`
};

// SSE events, each a complete `data: ...\n\n` block, stored back to back in one buffer.
class SseEvents {
 public:
  std::size_t size() const { return ends_.size(); }
  std::string_view operator[](std::size_t i) const {
    std::size_t begin = i == 0 ? 0 : ends_[i - 1];
    return std::string_view(data_).substr(begin, ends_[i] - begin);
  }
  // True for the content events (the ones a chunk interval spaces out).
  bool is_content(std::size_t i) const { return i >= first_content_ && i < end_content_; }

 private:
  friend SseEvents chat_stream_events(const ChatPlan&, const AnswerIds&, const StreamShape&);
  std::string data_;
  std::vector<std::size_t> ends_;
  std::size_t first_content_ = 0;
  std::size_t end_content_ = 0;
};

// The chat.completion.chunk stream: per choice a role chunk ({"role":"assistant","content":""}
// or, for a tool call, role + id + type + function name), then content (or arguments) chunks,
// then an empty delta with finish_reason; then, with include_usage, a chunk with "choices":[]
// and the usage (earlier chunks then carry "usage":null); then `data: [DONE]`.
SseEvents chat_stream_events(const ChatPlan& plan, const AnswerIds& ids, const StreamShape& shape);

}  // namespace anygpt::mock
