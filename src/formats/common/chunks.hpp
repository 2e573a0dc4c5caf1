// formats/common: helpers every translating codec shares for reading canonical (OpenAI) answers
// and stream chunks. Pure.
#pragma once

#include <boost/json/object.hpp>
#include <boost/json/value.hpp>
#include <cstddef>
#include <string>
#include <string_view>
#include <vector>

#include "core/usage.hpp"
#include "formats/codec.hpp"

namespace anygpt::formats::common {

// choices[0] of a chat.completion or chunk, or nullptr (missing, empty or not objects).
const boost::json::object* first_choice(const boost::json::object& answer);

// The value at `key`, or nullptr when absent or null (null means "not set" in OpenAI requests).
const boost::json::value* field(const boost::json::object& o, std::string_view key);

// A string field of `o`, or "" when absent, null or not a string.
std::string_view str(const boost::json::object& o, std::string_view key);

// The text of an OpenAI message (or delta): string content, or the text parts of array content
// joined; its refusal when that is empty.
std::string message_text(const boost::json::object& message);

// UTF-8 code points of `s` (continuation bytes not counted).
std::size_t code_points(std::string_view s);

// Code points of the text a canonical chunk delivers (content, refusal, reasoning, tool-call
// arguments): what a broken stream is billed by when the provider reported no usage.
std::size_t delivered_chars(const boost::json::object& chunk);

// True when a canonical chunk carries text, a tool call or a finish reason: what commits a
// stream to the client (a role-only or empty first chunk does not).
bool is_content_chunk(const boost::json::object& chunk);

// What one canonical chunk adds to a stream's answer: its choices[0].delta.content is appended to
// `text`; whether any choice carries a tool call or a finish reason.
struct DeltaMarks {
  bool tool_call = false;
  bool finish = false;
};
DeltaMarks append_delta_text(const boost::json::object& chunk, std::string& text);

// Drops from the start of choices[0].delta.content the longest prefix it shares with `overlap`
// (text a continuation repeats at the seam); returns the bytes dropped. REQUIRES: `chunk` has
// its own storage (it is modified).
std::size_t drop_leading(boost::json::object& chunk, std::string_view overlap);

// The tool-call arguments string parsed into an object. An empty string is {}; text that is
// not a JSON object is kept, as {"_raw": text}, so nothing the model said is lost.
boost::json::object parse_arguments(std::string_view arguments);

// Tool calls assembled from streamed deltas: chunks carry fragments keyed by "index"; id, type
// and name arrive on the first fragment of each call. For targets that need whole calls
// (Gemini functionCall, Ollama tool_calls).
class ToolCallAccumulator {
 public:
  struct Call {
    std::string id;
    std::string name;
    std::string arguments;
  };
  // Adds the fragments of one delta's "tool_calls" array (other values are ignored).
  void add(const boost::json::value& tool_calls);
  bool empty() const { return calls_.empty(); }
  const std::vector<Call>& calls() const { return calls_; }
  void clear() {
    calls_.clear();
    slots_.clear();
  }

 private:
  std::vector<Call> calls_;
  std::vector<long long> slots_;  // the OpenAI "index" of calls_[i]
};

// The usage of a canonical answer, with prompt tokens split into cached and uncached parts
// (prompt_tokens_details.cached_tokens), for protocols that report them apart.
struct UsageParts {
  core::Usage usage;
  std::int64_t cached_tokens = 0;
};
UsageParts usage_parts(const boost::json::object& answer);

// Asks the upstream of a streamed canonical chat request for a stream with its usage at the end
// ("stream":true, stream_options.include_usage), as translating codecs do.
void ask_stream(boost::json::object& chat);

// The canonical form of a chat request a translating codec built: `chat` for `model`, streamed
// (ask_stream) when `stream`.
Canonical chat_canonical(boost::json::object chat, std::string model, bool stream);

// The peek of a body-named model (`"model"`, a non-empty string, else kInvalidRequest naming it)
// whose stream flag is `"stream"` (a bool; `stream_default` when absent or null).
core::Result<Canonical> peek_model_and_stream(const boost::json::value& body, bool stream_default);

// A rough prompt size of a canonical chat request for count-tokens routes: ceil(chars / 4) of
// every text the model reads (message text, tool names/descriptions/schemas), plus 4 per message.
std::int64_t estimate_prompt_tokens(const boost::json::object& chat_request);

// A model as the catalogue lists it, for the protocols' model-list bodies.
struct ModelInfo {
  std::string_view id;
  std::int64_t created_s = 0;  // Unix seconds
  std::string_view owned_by;
};

}  // namespace anygpt::formats::common
