// formats/openai/stream_inspect: one pass over a chat-completion SSE event that tells a relay
// what it holds (data, [DONE], malformed JSON), whether it carries usage and how much text it
// delivers. No DOM is built; nothing is allocated for ordinary chunks.
#pragma once

#include <cstddef>
#include <string>
#include <string_view>

namespace anygpt::formats::openai {

struct EventInfo {
  enum class Kind {
    kChunk,      // data: a JSON object
    kDone,       // data: [DONE]
    kMalformed,  // data that is not a JSON object
    kNoData,     // comment or field-only event (": keep-alive", "event: x")
  };
  Kind kind = Kind::kNoData;
  bool has_usage = false;           // a top-level "usage" object (not null)
  std::size_t delivered_chars = 0;  // code points of delta text: content, refusal, reasoning, tool arguments
  bool content = false;             // the chunk carries text, a tool call or a finish (not just a role)
  bool tool_call = false;           // it carries a tool call (or a fragment of one)
  bool finish = false;              // it carries a finish_reason
};

// REQUIRES: `event` is one complete event without its terminating blank line. `text` (optional)
// gets the chunk's delta content appended, decoded (only for a valid chunk).
EventInfo inspect_event(std::string_view event, std::string* text = nullptr);

// Completion tokens for text the client received when the provider reported none:
// ceil(chars / 4), the usual rule of thumb (the original's estimate too).
inline long long estimate_tokens(std::size_t chars) {
  return static_cast<long long>((chars + 3) / 4);
}

}  // namespace anygpt::formats::openai
