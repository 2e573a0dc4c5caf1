// formats/gemini/answer: canonical chat.completion -> GenerateContentResponse, and the pieces the stream shares.
#pragma once

#include <boost/json/object.hpp>
#include <cstdint>
#include <string>
#include <string_view>

#include "core/usage.hpp"
#include "formats/codec.hpp"

namespace anygpt::formats::gemini {

// Gemini's finishReason for an OpenAI finish_reason: stop/tool_calls/function_call -> STOP, length ->
// MAX_TOKENS, content_filter -> SAFETY, "" (none given: the upstream ended cleanly) -> STOP, else OTHER.
std::string_view finish_reason(std::string_view openai_reason);

// {"promptTokenCount","candidatesTokenCount","totalTokenCount"} plus "cachedContentTokenCount" when > 0.
boost::json::object usage_metadata(const core::Usage& usage, std::int64_t cached_tokens);

// {"functionCall":{"id"?,"name","args"}}: the arguments text parsed by common::parse_arguments.
boost::json::object function_call_part(std::string_view id, std::string_view name, std::string_view arguments);

// The GenerateContentResponse of a chat.completion: one candidate per choice.
std::string encode_answer(const boost::json::object& answer, const AnswerContext& ctx);

}  // namespace anygpt::formats::gemini
