// formats/openai: pure codecs for the OpenAI wire format (chat completions, errors, models,
// SSE streams). No sockets, clocks or configuration in here.
#pragma once

#include <boost/json/value.hpp>
#include <optional>
#include <string>
#include <string_view>

#include "core/error.hpp"
#include "core/usage.hpp"

namespace anygpt::formats::openai {

// {"error":{"message","type","param","code"}}
std::string error_body(const core::Error& error);

// The fields of a chat request the gateway acts on. The request body itself is forwarded whole.
struct ChatRequestInfo {
  std::string model;
  bool stream = false;
  bool include_usage = false;  // stream_options.include_usage
};

// Validates a parsed /v1/chat/completions body (REQUIRES: body came from the client).
// Checks shape only; unknown fields are allowed and forwarded untouched. `model_optional`: a
// missing or null "model" is accepted (model then empty: the route names it).
core::Result<ChatRequestInfo> inspect_chat_request(const boost::json::value& body, bool model_optional = false);

// Reads "usage" of a chat.completion (or of a stream chunk); present=false when absent/null.
core::Usage usage_from(const boost::json::object& obj);

// Usage of a whole chat.completion body without building its DOM: only the "usage" object is
// parsed. nullopt when the body is not a JSON object (present=false when it has no usage).
std::optional<core::Usage> usage_from_body(std::string_view body);

// The object value of the top-level member `key` of a JSON object body, parsed alone (the rest
// is only scanned; the member is searched from the end, where usage objects sit). An empty
// object when the member is absent or not an object; nullopt when the body is not an object.
std::optional<boost::json::object> top_level_object(std::string_view body, std::string_view key);

// The SSE error event that ends a failed stream (no [DONE] follows it).
std::string stream_error_event(const core::Error& error);

// Splits an SSE byte stream into events (blocks ending in a blank line). Feed bytes with
// append(); next_event() returns complete events (without the terminating blank line) until
// none is left. Handles \n and \r\n line ends and events split across reads.
class SseSplitter {
 public:
  void append(std::string_view bytes);
  // A complete event, valid until the next call to append()/next_event(); nullopt when none.
  std::optional<std::string_view> next_event();
  // No buffered bytes (no partial event waiting for the rest).
  bool empty() const { return pos_ == buf_.size(); }

 private:
  std::string buf_;
  std::size_t pos_ = 0;
};

// True when `text` has a "usage" key whose value is an object (not null): the only chunks a
// stream relay must parse. Streams with include_usage carry "usage":null on every other chunk.
bool has_usage_object(std::string_view text);

// The "data:" payload of an SSE event (joined data lines), or nullopt when it has none.
std::optional<std::string> event_data(std::string_view event);
// The same without a copy for the usual single data line: `data` views into `event`, or into
// `joined` when several data lines had to be joined. False when the event has no data.
bool event_payload(std::string_view event, std::string_view& data, std::string& joined);

}  // namespace anygpt::formats::openai
