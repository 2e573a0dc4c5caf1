// formats/anthropic: the Anthropic Messages API (/v3, @anthropic-ai/sdk) as codecs to and from canonical OpenAI chat.
#pragma once

#include <boost/json/value.hpp>
#include <cstdint>
#include <string>
#include <vector>

#include "core/error.hpp"
#include "formats/codec.hpp"
#include "formats/common/chunks.hpp"

namespace anygpt::formats::anthropic {

// Keys from "Authorization: Bearer" or "x-api-key"; errors as error_body() with
// core::http_status (kUpstreamUnavailable is 503, which the SDK retries, never 529).
const Protocol& protocol();

// {"type":"error","error":{"type","message"}}; type by kind: invalid_request_error (400, 405),
// authentication_error, permission_error, not_found_error, conflict_error (409),
// request_too_large (413), rate_limit_error (rate and quota), overloaded_error
// (kUpstreamUnavailable), timeout_error (kUpstreamTimeout), api_error (the rest).
std::string error_body(const core::Error& error);

// POST /v1/messages: Anthropic requests to canonical chat, answers to Message bodies and
// Messages SSE streams.
const Codec& messages_codec();

// POST /v1/messages/count_tokens: the body decoded like /v1/messages (max_tokens not needed)
// and sized with common::estimate_prompt_tokens.
core::Result<std::int64_t> count_tokens(const boost::json::value& body);
// {"input_tokens":N}
std::string count_tokens_body(std::int64_t input_tokens);

// GET /v1/models: {"data":[model_body...],"has_more":false,"first_id","last_id"}.
std::string models_body(const std::vector<common::ModelInfo>& models);
// GET /v1/models/{id}: {"type":"model","id","display_name","created_at":RFC 3339 UTC}.
std::string model_body(const common::ModelInfo& model);

}  // namespace anygpt::formats::anthropic
