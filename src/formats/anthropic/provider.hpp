// formats/anthropic/provider: the Anthropic Messages API as an upstream (provider) protocol:
// canonical OpenAI chat requests to /v1/messages bodies, Message answers and Messages SSE
// streams back to canonical chat.completion objects and chunks.
#pragma once

#include "formats/provider.hpp"

namespace anygpt::formats::anthropic {

// POST {base}/v1/messages (streaming with "stream":true in the body). Embeddings are not
// expressible: encode_request gives kInvalidRequest for Operation::kEmbeddings.
const formats::ProviderCodec& provider_codec();

}  // namespace anygpt::formats::anthropic
