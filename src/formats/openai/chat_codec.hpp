// formats/openai/chat_codec: the OpenAI protocol (/v1) as a formats::Codec. Requests are already
// canonical, so the pipeline forwards the client's bytes and relays answers untouched; the
// encoders exist for answers that reach an OpenAI client in another shape (they re-serialise).
#pragma once

#include "formats/codec.hpp"

namespace anygpt::formats::openai {

// Keys from Bearer, x-api-key or api-key; errors {"error":{"message","type","param","code"}};
// upstream 4xx bodies relayed as they are.
const Protocol& protocol();

// POST /v1/chat/completions: decode() validates (inspect_chat_request) and marks same_bytes.
const Codec& chat_codec();

// A client's OpenAI chat request as it is canonical: validated, same_bytes.
core::Result<Canonical> decode_chat(const boost::json::value& body);

}  // namespace anygpt::formats::openai
