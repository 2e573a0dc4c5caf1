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

// POST /openai/deployments/{deployment}/chat/completions (Azure OpenAI, what the SDK's
// AzureOpenAI client calls): the chat route with the deployment (RouteParams::model) as the
// model; the body may omit "model".
const Codec& deployment_chat_codec();

// A client's OpenAI chat request as it is canonical: validated, same_bytes. `model_optional`:
// a body without "model" is accepted (the route names the model).
core::Result<Canonical> decode_chat(const boost::json::value& body, bool model_optional = false);

}  // namespace anygpt::formats::openai
