// formats/ollama/provider_request: canonical OpenAI requests (chat completions, embeddings) as
// Ollama /api/chat and /api/embed bodies, for Ollama as an upstream. Pure.
#pragma once

#include <boost/json/array.hpp>
#include <boost/json/object.hpp>
#include <string>

#include "core/error.hpp"
#include "formats/provider.hpp"

namespace anygpt::formats::ollama {

// OpenAI messages as Ollama messages: text parts joined, base64 data-URL images in "images",
// assistant tool_calls with object arguments, tool results named after the call they answer
// ("tool_name"). kInvalidRequest naming the field for what Ollama cannot take: remote (http)
// image URLs, non-base64 data URLs, other content part types, unknown roles.
core::Result<boost::json::array> provider_messages(const boost::json::array& messages);

// The /api/chat body: model from `call`, "stream" always explicit, sampling fields in "options",
// response_format as "format", tools as they are (left out for tool_choice "none").
core::Result<std::string> encode_chat_request(const boost::json::object& canonical, const UpstreamCall& call);

// The /api/embed body {model, input, dimensions?}; token-array inputs are kInvalidRequest.
core::Result<std::string> encode_embed_request(const boost::json::object& canonical, const UpstreamCall& call);

}  // namespace anygpt::formats::ollama
