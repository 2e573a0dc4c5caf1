// formats/anthropic/request: Anthropic Messages requests decoded into canonical OpenAI chat requests.
#pragma once

#include <boost/json/array.hpp>
#include <boost/json/object.hpp>
#include <boost/json/value.hpp>
#include <optional>
#include <string>
#include <string_view>

#include "core/error.hpp"
#include "formats/codec.hpp"

namespace anygpt::formats::anthropic {

// A kInvalidRequest error naming `param` (an Anthropic request path such as "messages[2].role").
core::Error invalid_field(std::string message, std::string param);

// True when `text` has nothing but spaces, tabs and line breaks.
bool is_blank(std::string_view text);

// REQUIRES: `body` is the client's parsed JSON. A /v1/messages body (max_tokens required) or a
// /v1/messages/count_tokens body (require_max_tokens=false) as a canonical chat request.
core::Result<Canonical> decode_request(const boost::json::value& body, bool require_max_tokens);

// A "system" value (a string, or an array of text blocks joined with "\n\n") as one text.
core::Result<std::string> system_text(const boost::json::value& system, const std::string& where);

// Appends the OpenAI messages for Anthropic messages[i] to `out`: tool results become "tool"
// messages ahead of the turn's own content, tool_use blocks become assistant tool_calls.
std::optional<core::Error> append_message(const boost::json::value& message, std::size_t i, boost::json::array& out);

// Adds "tools", "tool_choice" and "parallel_tool_calls" for the request's tools/tool_choice.
std::optional<core::Error> add_tools(const boost::json::object& request, boost::json::object& chat);

}  // namespace anygpt::formats::anthropic
