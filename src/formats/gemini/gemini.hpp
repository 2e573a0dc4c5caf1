// formats/gemini: the Gemini API as clients send it to anygpt at /v2 (@google/genai): generateContent
// and streamGenerateContent, embedContent, batchEmbedContents, countTokens, models and errors.
#pragma once

#include <boost/json/value.hpp>
#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

#include "core/error.hpp"
#include "formats/codec.hpp"
#include "formats/common/chunks.hpp"

namespace anygpt::formats::gemini {

// Keys from "Authorization: Bearer", "x-goog-api-key" or ?key=; errors as {"error":{code,message,status}}.
const Protocol& protocol();

// {"error":{"code":<http status>,"message","status":<google.rpc code name>}}
std::string error_body(const core::Error& error);

// POST models/{model}:generateContent and :streamGenerateContent (RouteParams.stream says which).
const Codec& generate_codec();
// POST models/{model}:embedContent -> one OpenAI embeddings input; answers {"embedding":{"values"}}.
const Codec& embed_codec();
// POST models/{model}:batchEmbedContents -> one OpenAI embeddings request with an input per request;
// answers {"embeddings":[{"values"}...]} in request order.
const Codec& batch_embed_codec();

// POST models/{model}:countTokens: body {contents,...} or {generateContentRequest:{...}}, decoded like
// generateContent and estimated with common::estimate_prompt_tokens.
core::Result<std::int64_t> count_tokens(const boost::json::value& body, std::string_view model);
// {"totalTokens":N}
std::string count_tokens_body(std::int64_t total_tokens);

// GET models: {"models":[Model...]}; GET models/{model}: one Model.
std::string models_body(const std::vector<common::ModelInfo>& models);
std::string model_body(const common::ModelInfo& model);

// "models/x" -> "x"; any other name is returned as it is.
std::string_view strip_model_prefix(std::string_view model);

}  // namespace anygpt::formats::gemini
