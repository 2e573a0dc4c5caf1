// formats/gemini/provider_request: canonical OpenAI requests -> Gemini request bodies (the encode side of
// provider_codec(); internal pieces). Errors are kInvalidRequest naming the canonical field.
#pragma once

#include <boost/json/array.hpp>
#include <boost/json/object.hpp>
#include <boost/json/value.hpp>
#include <string_view>

#include "core/error.hpp"

namespace anygpt::formats::gemini {

// The sentinel Gemini documents for a functionCall whose thoughtSignature was lost (a history written by
// another model or a client that dropped it): Gemini 3 rejects unsigned calls of the current turn.
inline constexpr std::string_view kSkipSignature = "skip_thought_signature_validator";

// A chat.completions request as a GenerateContentRequest: contents, systemInstruction, tools, toolConfig,
// generationConfig. The model and stream flag travel in the path.
core::Result<boost::json::object> generate_request(const boost::json::object& chat);

// The request's messages as Gemini contents (consecutive turns of one role merged into one Content), and the
// text parts of every system/developer message, in order, in `system_parts`.
core::Result<boost::json::array> gemini_contents(const boost::json::array& messages, boost::json::array& system_parts);

// A JSON Schema (tool parameters) reduced to Gemini's Schema (an OpenAPI 3.0 subset, upper-case types), at
// every level: $ref/allOf[1] inlined (bounded), type lists and null branches -> type + nullable, oneOf ->
// anyOf, const -> enum; kept: type, format (enum, date-time, float, double, int32, int64), title,
// description, nullable, enum (strings only), properties, required (declared names only), items, anyOf,
// minimum/maximum, min/max Items/Length/Properties, pattern; a missing type inferred (properties -> OBJECT,
// items -> ARRAY, enum -> STRING); arrays without items get STRING items; empty properties are left out;
// everything else (additionalProperties, $schema, $defs, default, examples, not, ...) is dropped.
boost::json::object gemini_schema(const boost::json::value& json_schema);

// An OpenAI embeddings request as a BatchEmbedContentsRequest for `model` (without "models/").
core::Result<boost::json::object> embed_request(const boost::json::object& embeddings, std::string_view model);

}  // namespace anygpt::formats::gemini
