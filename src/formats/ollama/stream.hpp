// formats/ollama/stream: canonical chat.completion.chunk streams as Ollama NDJSON lines.
#pragma once

#include <memory>

#include "formats/codec.hpp"
#include "formats/ollama/answer.hpp"

namespace anygpt::formats::ollama {

// A fresh encoder: one {"done":false} line per text delta as it arrives, tool calls as one line
// once their finish_reason chunk arrives, the {"done":true} line with metrics on finish().
std::unique_ptr<StreamEncoder> make_stream_encoder(Endpoint endpoint, const AnswerContext& ctx);

}  // namespace anygpt::formats::ollama
