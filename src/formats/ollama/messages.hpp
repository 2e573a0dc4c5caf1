// formats/ollama/messages: Ollama chat messages (images, tool calls without ids) as OpenAI messages.
#pragma once

#include <boost/json/array.hpp>
#include <boost/json/value.hpp>
#include <string>
#include <string_view>

#include "core/error.hpp"

namespace anygpt::formats::ollama {

// Ollama "images" (base64 strings; null/absent = none) as OpenAI image_url parts with the media
// type sniffed from the data. Errors name `where` (e.g. "messages[1].images").
core::Result<boost::json::array> image_parts(const boost::json::value* images, const std::string& where);

// User content: the text alone, or a text part (when not empty) followed by the image parts.
boost::json::value user_content(std::string_view text, boost::json::array images);

// The messages of an Ollama chat as OpenAI messages. Assistant tool calls get ids
// "call_<message>_<call>"; each tool message answers the first unanswered call with its
// tool_name, else the first unanswered call (an error when none is left).
core::Result<boost::json::array> convert_messages(const boost::json::array& messages);

}  // namespace anygpt::formats::ollama
