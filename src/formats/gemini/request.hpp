// formats/gemini/request: GenerateContentRequest -> canonical OpenAI chat request (internal pieces).
#pragma once

#include <boost/json/array.hpp>
#include <boost/json/object.hpp>
#include <boost/json/value.hpp>
#include <string>
#include <string_view>

#include "core/error.hpp"

namespace anygpt::formats::gemini {

// kInvalidRequest naming `param`.
core::Error invalid(std::string message, std::string param);

// The canonical /v1/chat/completions body of a GenerateContentRequest. `model` may carry "models/"; `stream`
// adds "stream":true and "stream_options":{"include_usage":true}.
core::Result<boost::json::object> chat_request(const boost::json::value& body, std::string_view model, bool stream);

// The OpenAI messages of a request's systemInstruction and contents. Consecutive contents of one side are
// one OpenAI turn (the SDK records a streamed answer as one model content per chunk).
core::Result<boost::json::array> chat_messages(const boost::json::object& request);

// The text of a Content (its text parts joined with `separator`) or of a plain string. Other parts are
// invalid; `path` names the field in errors.
core::Result<std::string> content_text(const boost::json::value& content, const std::string& path,
                                       std::string_view separator);

}  // namespace anygpt::formats::gemini
