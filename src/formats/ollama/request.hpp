// formats/ollama/request: Ollama request bodies (chat, generate) decoded into canonical OpenAI
// chat requests, and the field checks the embedding codecs share.
#pragma once

#include <boost/json/object.hpp>
#include <boost/json/value.hpp>
#include <string>
#include <string_view>

#include "core/error.hpp"
#include "formats/codec.hpp"

namespace anygpt::formats::ollama {

// kInvalidRequest naming `param`.
core::Error invalid(std::string message, std::string param);

// The non-empty string "model" of `body`.
core::Result<std::string> required_model(const boost::json::object& body);

// The string at `key`: "" when absent or null; an error naming `param` for any other type.
core::Result<std::string_view> optional_string(const boost::json::object& o, std::string_view key,
                                               const std::string& param);

// REQUIRES: `body` is the client's parsed JSON. Errors name the Ollama field at fault.
core::Result<Canonical> decode_chat(const boost::json::value& body);
core::Result<Canonical> decode_generate(const boost::json::value& body);

}  // namespace anygpt::formats::ollama
