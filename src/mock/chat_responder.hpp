// mock: the chat completions answer as pure functions - request body in, response text out
// (https://platform.openai.com/docs/api-reference/chat). No sockets, clocks or config here.
// Also the protocol-neutral step every wire format shares: a conversation reduced to what the
// answer depends on (Conversation) -> the answer (ReplyPlan).
#pragma once

#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

#include "core/error.hpp"

namespace anygpt::mock {

// Arguments of every mock tool call.
inline constexpr std::string_view kToolArguments = R"({"location":"Paris"})";

// A conversation in any wire format, reduced to what the mock's answer depends on.
struct Conversation {
  std::size_t prompt_chars = 0;             // characters of all message text (system prompt included)
  std::string last_user_text;               // text of the last user turn that has text
  std::string prefill;                      // text of a final assistant turn: the answer continues it
  bool last_turn_is_user = false;           // the last turn is the user's (and not only tool results)
  std::string tool_name;                    // the function a tool call would name; empty: no tool call possible
  int n = 1;                                // answers (choices / candidates)
  std::int64_t max_output_tokens = -1;      // -1: no limit
  std::vector<std::string> stop_sequences;  // the reply is cut before the first one it contains
};

enum class FinishReason { kStop, kStopSequence, kLength, kToolCall };

// The answer to a Conversation, whatever the wire format.
struct ReplyPlan {
  std::string reply;      // assistant text, when tool_name is empty
  std::string tool_name;  // non-empty: a call to this function with kToolArguments
  FinishReason finish = FinishReason::kStop;
  std::string stop_sequence;           // kStopSequence: the sequence that cut the reply
  std::int64_t prompt_tokens = 0;      // ceil(prompt_chars / 4)
  std::int64_t completion_tokens = 0;  // ceil(characters of one answer / 4) * n
};

// A tool call when tool_name is set and the last turn is the user's; else reply_text() of the
// last user text, without the prefill when it starts with it (the answer continues the prefill),
// cut before the first stop sequence, then to max_output_tokens * 4 characters.
ReplyPlan plan_reply(const Conversation& conversation);

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

// Splits `text` into `chunks` pieces of about equal length, on code point boundaries
// (chunks 0: one piece per ~3 characters).
std::vector<std::string_view> split_text(std::string_view text, std::int64_t chunks);

// Identity of one answer: id "chatcmpl-mock-<seq>", tool call ids "call_mock_<seq>[_<choice>]".
struct AnswerIds {
  std::uint64_t seq = 0;
  std::int64_t created = 0;  // unix seconds
};

// The chat.completion object (non-streamed answer).
std::string chat_completion_body(const ChatPlan& plan, const AnswerIds& ids);

struct StreamShape {
  std::int64_t content_chunks = 0;  // per choice; 0 = one per ~3 characters
  bool done_event = true;           // end with the protocol's end event (`data: [DONE]` here)
};

// Stream events (SSE blocks, or NDJSON lines), each written as one chunk, stored back to back
// in one buffer.
class SseEvents {
 public:
  std::size_t size() const { return ends_.size(); }
  std::string_view operator[](std::size_t i) const {
    std::size_t begin = i == 0 ? 0 : ends_[i - 1];
    return std::string_view(data_).substr(begin, ends_[i] - begin);
  }
  // True for the content events (the ones a chunk interval spaces out).
  bool is_content(std::size_t i) const { return i >= first_content_ && i < end_content_; }

  // Building: append an event's text to buffer(), then end_event(). The content events are
  // those ended between begin_content() and end_content().
  std::string& buffer() { return data_; }
  void end_event() { ends_.push_back(data_.size()); }
  void begin_content() { first_content_ = ends_.size(); }
  void end_content() { end_content_ = ends_.size(); }

 private:
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
