// formats/gemini/schema: Gemini Schema objects (OpenAPI 3.0 subset, upper-case types) -> JSON Schema.
#pragma once

#include <boost/json/value.hpp>
#include <string>

#include "core/error.hpp"

namespace anygpt::formats::gemini {

// Converts at every nesting level (properties, items, anyOf): type names lower-cased (TYPE_UNSPECIFIED
// dropped), nullable:true -> type [t,"null"] (or a {"type":"null"} branch of anyOf), propertyOrdering
// dropped, int64 counts sent as strings ("minItems":"1") back to numbers; every other keyword is kept.
// `path` names the schema in errors.
core::Result<boost::json::value> json_schema_from(const boost::json::value& schema, const std::string& path);

}  // namespace anygpt::formats::gemini
