// formats/gemini/interactions: Gemini's Interactions API (POST /v1/interactions, /v2/interactions)
// served as one chat completion. The request {model, input, system_instruction?, tools?,
// response_format?, generation_config?} becomes a canonical chat request; the chat.completion
// answer becomes a completed Interaction object. Pure; the id comes from the caller.
#pragma once

#include <string>
#include <string_view>

#include "formats/codec.hpp"

namespace anygpt::formats::gemini {

// decode(): `model` and `input` required (400 naming them). `input` a non-empty string, one
// content item, or a list of content items, steps (user_input, model_output, function_call,
// function_result) or turns ({role: user|model, content}). Function tools, tool_choice and the
// generation settings are mapped; `stream`, `previous_interaction_id`, `agent`, `agent_config`,
// built-in tools and non-text response formats are a 400 naming the field. Never a stream.
// encode(): {"id":"int_<request id>","object":"interaction","status":"completed"|"requires_action"|
// "incomplete","model","role":"model","created","updated","outputs":[...],"steps":[...],
// "output_text","usage":{total_input_tokens,total_output_tokens,total_tokens}}: `outputs` (text
// and function_call items, the original's shape) and `steps` (a model_output step, then one
// function_call step per call: what @google/genai reads) carry the same content.
const Codec& interactions_codec();

// Gemini's keys (x-goog-api-key, ?key=, Bearer) and error shape under a name of its own, for
// /v2/interactions: an interaction is never the generateContent request a gemini provider would
// take as it is (no same-protocol passthrough).
const Protocol& interactions_protocol();

// The Interaction `body` (as encode() wrote it) with its "id" set to `id`.
std::string with_interaction_id(std::string_view body, std::string_view id);

}  // namespace anygpt::formats::gemini
