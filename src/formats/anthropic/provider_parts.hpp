// formats/anthropic/provider_parts: the pieces of the Anthropic provider codec (request
// encoding, answer decoding, stream decoding) and the mappings they share.
#pragma once

#include <boost/json/array.hpp>
#include <boost/json/object.hpp>
#include <boost/json/value.hpp>
#include <cstdint>
#include <memory>
#include <string>
#include <string_view>

#include "core/error.hpp"
#include "formats/provider.hpp"

namespace anygpt::formats::anthropic {

// A kUpstreamError: the provider's answer is not what the protocol promises.
core::Error upstream_error(std::string message);

// The canonical messages as Anthropic's top-level system prompt and user/assistant turns.
struct Conversation {
  std::string system;  // every system/developer text, joined with "\n\n"
  boost::json::array messages;
};
// REQUIRES: `chat` is a canonical chat request. kInvalidRequest names the canonical field.
core::Result<Conversation> encode_conversation(const boost::json::object& chat);

// The /v1/messages body for a canonical chat request (see provider.hpp and docs/PROTOCOLS.md).
core::Result<std::string> encode_messages_request(const boost::json::object& chat, const UpstreamCall& call);

// A Message body as a canonical chat.completion; kUpstreamError when it is not one.
core::Result<boost::json::object> decode_message(std::string_view body, const UpstreamCall& call);

std::unique_ptr<StreamDecoder> make_messages_stream_decoder(const UpstreamCall& call);
std::unique_ptr<StreamWatcher> make_messages_stream_watcher();

// The failure an `event: error` carries (overloaded_error: kUpstreamUnavailable, else kUpstreamError).
core::Error stream_error(const boost::json::object& event);

// OpenAI's finish_reason for an Anthropic stop_reason: max_tokens and
// model_context_window_exceeded -> length, tool_use -> tool_calls, refusal -> content_filter,
// anything else (end_turn, stop_sequence, pause_turn, newer values) -> stop.
std::string_view finish_reason(std::string_view stop_reason);

// Anthropic's token counts. update() takes every count an Anthropic usage object carries
// (a later non-null value replaces an earlier one; counts are never summed).
struct UsageCounts {
  std::int64_t input = 0;
  std::int64_t cache_creation = 0;
  std::int64_t cache_read = 0;
  std::int64_t output = 0;
  bool present = false;  // some usage object was seen

  void update(const boost::json::value* usage);
  // {"prompt_tokens": input + cache_creation + cache_read, "completion_tokens": output,
  // "total_tokens"} plus "prompt_tokens_details":{"cached_tokens": cache_read} when it is > 0.
  boost::json::object canonical() const;
};

}  // namespace anygpt::formats::anthropic
