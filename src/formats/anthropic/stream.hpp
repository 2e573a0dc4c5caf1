// formats/anthropic/stream: canonical chat.completion.chunk streams as Anthropic Messages SSE events.
#pragma once

#include <memory>

#include "formats/codec.hpp"

namespace anygpt::formats::anthropic {

// message_start on the first chunk; content_block_start/delta/stop per text or tool_use block
// as chunks arrive (blocks never overlap); message_delta (stop_reason, final usage) and
// message_stop only in finish(); fail() appends an "error" event and nothing else.
std::unique_ptr<StreamEncoder> make_stream_encoder(const AnswerContext& ctx);

// The length of the longest prefix of `bytes` that does not end inside a UTF-8 sequence (an
// incomplete trailing sequence is held back until the rest arrives).
std::size_t complete_utf8_prefix(std::string_view bytes);

}  // namespace anygpt::formats::anthropic
