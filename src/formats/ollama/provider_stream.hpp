// formats/ollama/provider_stream: an Ollama /api/chat NDJSON stream read back into canonical
// OpenAI chat.completion.chunk objects.
#pragma once

#include <memory>
#include <string_view>

#include "formats/provider.hpp"

namespace anygpt::formats::ollama {

// A fresh decoder. Lines may arrive split anywhere or several at once; each line yields its chunks
// as soon as its closing brace arrives: a role chunk first, then reasoning/content deltas, tool calls
// (whole, as a first fragment with the name and one with the arguments), and for the done:true line
// the finish chunk and the usage-only chunk. An {"error"} line is returned as kUpstreamError.
// `model` names the chunks when the lines carry no "model".
std::unique_ptr<StreamDecoder> make_ndjson_decoder(std::string_view model);
// The watcher of one relayed untouched to an Ollama client (same end, errors and usage).
std::unique_ptr<StreamWatcher> make_ndjson_watcher();

}  // namespace anygpt::formats::ollama
