// formats/openai/embeddings_codec: POST /v1/embeddings as a formats::Codec. The request is
// already canonical: OpenAI hosts get the client's bytes and their answers go back untouched;
// a native provider's answer (floats) is rendered as OpenAI's list, in base64 when the client
// asked for it (the official SDK asks for base64 unless told otherwise).
#pragma once

#include <boost/json/value.hpp>

#include "formats/codec.hpp"

namespace anygpt::formats::openai {

// decode(): `model`; `input` a non-empty string, a non-empty array of non-empty strings, a
// non-empty array of token ids or a non-empty array of non-empty token-id arrays;
// `encoding_format` "float" or "base64"; `dimensions` a positive integer. kInvalidRequest names
// the field. Never streams.
const Codec& embeddings_codec();

// A rough token count of an embeddings request's input when the provider reported none:
// ceil(chars / 4) per text, one per token id.
std::int64_t estimate_embedding_tokens(const boost::json::object& request);

}  // namespace anygpt::formats::openai
