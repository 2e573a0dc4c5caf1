// formats/responses/request: Responses API requests decoded into canonical OpenAI chat requests.
#pragma once

#include <boost/json/array.hpp>
#include <boost/json/object.hpp>
#include <boost/json/value.hpp>
#include <optional>
#include <string>
#include <string_view>

#include "core/error.hpp"
#include "formats/codec.hpp"

namespace anygpt::formats::responses {

using MaybeError = std::optional<core::Error>;

// A kInvalidRequest error naming `param` (a Responses request path such as "input[2].call_id").
core::Error invalid_field(std::string message, std::string param);

// "path[i]", for params naming an element.
std::string indexed(std::string_view path, std::size_t i);

// REQUIRES: `body` is the client's parsed JSON. The whole request as a canonical chat request.
core::Result<Canonical> decode_request(const boost::json::value& body);

// Model and stream only (body left null), and a 400 naming "input" when the request has none
// (nor previous_response_id, conversation or prompt, which a native provider resolves itself).
core::Result<Canonical> peek_request(const boost::json::value& body);

// Appends the chat messages of the request's `input` (a string, or an array of items) to `out`.
MaybeError append_input(const boost::json::value& input, boost::json::array& out);

// Adds "tools", "tool_choice" and "parallel_tool_calls" for the request's function tools.
MaybeError add_tools(const boost::json::object& request, boost::json::object& chat);

}  // namespace anygpt::formats::responses
