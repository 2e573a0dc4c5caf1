// formats/gemini/provider: the Gemini API as an upstream. Canonical OpenAI chat and embeddings requests become
// generateContent / streamGenerateContent?alt=sse / batchEmbedContents bodies; Gemini answers, SSE streams and
// error bodies become canonical OpenAI objects. The mapping policy (what Gemini cannot express) is written
// next to each piece and in docs/PROTOCOLS.md.
#pragma once

#include "formats/provider.hpp"

namespace anygpt::formats::gemini {

// Paths "/models/{model}:generateContent", "/models/{model}:streamGenerateContent?alt=sse" and
// "/models/{model}:batchEmbedContents" (a "models/" prefix of the model name is dropped).
const formats::ProviderCodec& provider_codec();

}  // namespace anygpt::formats::gemini
