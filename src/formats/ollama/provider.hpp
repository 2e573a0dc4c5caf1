// formats/ollama/provider: Ollama's native API (/api/chat, /api/embed) as an upstream protocol:
// canonical OpenAI requests out, Ollama answers and NDJSON streams back as canonical objects.
#pragma once

#include "formats/provider.hpp"

namespace anygpt::formats::ollama {

// Paths "/api/chat" (kChat) and "/api/embed" (kEmbeddings); "stream" always explicit in the body;
// answers get the id "chatcmpl-ollama" and created from Ollama's created_at (0 when unparsable);
// error_message reads {"error": "..."}.
const formats::ProviderCodec& provider_codec();

}  // namespace anygpt::formats::ollama
