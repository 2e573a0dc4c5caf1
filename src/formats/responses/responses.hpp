// formats/responses: the OpenAI Responses API (POST /v1/responses, `client.responses.create()` /
// `.stream()` of the openai SDK) as a client protocol: requests translated to canonical chat
// completions, answers and streams back into Response objects and Responses SSE events. Pure.
#pragma once

#include "formats/codec.hpp"

namespace anygpt::formats::responses {

// OpenAI's key sources and error shape ({"error":{"message","type","param","code"}}), named
// "openai-responses" so that a provider declared with that protocol (it serves /responses
// itself) gets the client's bytes untouched (the pipeline's same-protocol passthrough).
const Protocol& protocol();

// POST /v1/responses. decode(): the Responses request as a canonical chat request (400 naming
// the Responses field for what chat cannot express; docs/PROTOCOLS.md); peek(): model, stream
// and the required `input`, for a chain served only natively. encode()/stream(): Response
// objects and the Responses event stream (response.created ... response.completed).
const Codec& codec();

}  // namespace anygpt::formats::responses
