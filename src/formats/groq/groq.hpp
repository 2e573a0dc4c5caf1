// formats/groq: the Groq API (/v4, groq-sdk): OpenAI chat as sent, answers with Groq's extras
// (x_groq.id, usage.queue_time/prompt_time/completion_time/total_time, x_groq.usage at the end
// of a stream) and Groq's error shape (OpenAI's).
#pragma once

#include "formats/codec.hpp"

namespace anygpt::formats::groq {

const Protocol& protocol();
const Codec& chat_codec();

}  // namespace anygpt::formats::groq
