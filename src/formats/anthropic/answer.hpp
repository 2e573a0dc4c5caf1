// formats/anthropic/answer: canonical chat.completion answers as Anthropic Message objects.
#pragma once

#include <boost/json/object.hpp>
#include <cstddef>
#include <cstdint>
#include <string>
#include <string_view>

#include "core/usage.hpp"
#include "formats/codec.hpp"

namespace anygpt::formats::anthropic {

// "msg_" + the upstream id reduced to [A-Za-z0-9_], or "msg_" + request_id when that leaves nothing.
std::string message_id(std::string_view upstream_id, std::string_view request_id);

// The upstream's tool-call id, or "toolu_<request_id>_<n>" when it sent none.
std::string tool_use_id(std::string_view upstream_id, std::string_view request_id, std::size_t n);

// Anthropic's stop_reason for an OpenAI finish_reason: length -> max_tokens, content_filter ->
// refusal, tool_calls/function_call -> tool_use; anything else -> end_turn, or tool_use when the
// answer called tools (some hosts end tool calls with "stop").
std::string_view stop_reason(std::string_view finish_reason, bool called_tools);

// {"input_tokens","output_tokens"} plus "cache_read_input_tokens" when cached > 0; input_tokens
// excludes the cached part (Anthropic reports them apart).
boost::json::object usage_object(const core::Usage& usage, std::int64_t cached_tokens);

// The Message body ({"id","type":"message","role","model","content","stop_reason",...}) for a
// canonical chat.completion.
std::string encode_message(const boost::json::object& answer, const AnswerContext& ctx);

}  // namespace anygpt::formats::anthropic
