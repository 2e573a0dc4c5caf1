// formats/responses/stream: canonical chat.completion.chunk streams as the Responses API's
// server-sent events (https://platform.openai.com/docs/api-reference/responses-streaming).
#pragma once

#include <memory>

#include "formats/codec.hpp"

namespace anygpt::formats::responses {

// Every event is "event: <type>\ndata: <json>\n\n" with a sequence_number counting from 0.
// The first chunk opens the response (response.created, response.in_progress); text becomes a
// message item (output_item.added, content_part.added, output_text.delta..., and at its end
// output_text.done, content_part.done, output_item.done); each tool call a function_call item
// (output_item.added once its name is known, function_call_arguments.delta..., .done,
// output_item.done). The message closes when a tool call starts; function calls stay open until
// the finish_reason, so interleaved fragments of parallel calls reach their own item. finish()
// closes what is open and ends with response.completed, or response.incomplete for a length /
// content_filter finish, carrying the whole output and usage. fail() ends with response.failed
// (status failed, the output so far, error {code, message}) then an `error` event; before the
// response was opened, with the `error` event alone. Nothing follows either end.
std::unique_ptr<StreamEncoder> make_stream_encoder(const AnswerContext& ctx);

}  // namespace anygpt::formats::responses
