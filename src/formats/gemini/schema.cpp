#include "formats/gemini/schema.hpp"

#include <algorithm>
#include <boost/json.hpp>
#include <cctype>
#include <charconv>
#include <optional>

#include "formats/gemini/request.hpp"

namespace anygpt::formats::gemini {
namespace json = boost::json;

namespace {

constexpr std::string_view kCountKeys[] = {"minItems",  "maxItems",      "minLength",
                                           "maxLength", "minProperties", "maxProperties"};

std::string lower(std::string_view s) {
  std::string out(s);
  for (char& c : out) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
  return out;
}

// A type name or list of them, lower-cased; null for TYPE_UNSPECIFIED.
core::Result<json::value> lowered_type(const json::value& type, const std::string& path) {
  if (type.is_string()) {
    std::string t = lower(type.get_string());
    if (t == "type_unspecified") return json::value();
    return json::value(t);
  }
  if (!type.is_array()) return invalid(path + " must be a type name", path);
  json::array out;
  for (const auto& t : type.get_array()) {
    if (!t.is_string()) return invalid(path + " must be a type name or a list of them", path);
    out.emplace_back(lower(t.get_string()));
  }
  return json::value(std::move(out));
}

// proto JSON writes int64 as a decimal string: such counts become numbers again.
json::value count_value(const json::value& v) {
  if (!v.is_string()) return v;
  std::string_view s = v.get_string();
  std::int64_t n = 0;
  auto [end, ec] = std::from_chars(s.data(), s.data() + s.size(), n);
  if (ec != std::errc() || end != s.data() + s.size()) return v;
  return json::value(n);
}

void add_null(json::object& schema) {
  if (auto* t = schema.if_contains("type")) {
    if (t->is_string()) {
      json::array both{json::value(t->get_string()), json::value("null")};
      *t = std::move(both);
    } else if (t->is_array() &&
               std::find(t->get_array().begin(), t->get_array().end(), json::value("null")) == t->get_array().end()) {
      t->get_array().emplace_back("null");
    }
    return;
  }
  if (auto* any = schema.if_contains("anyOf"); any && any->is_array())
    any->get_array().emplace_back(json::object{{"type", "null"}});
}

core::Result<json::value> schema_map(const json::value& v, const std::string& path) {
  if (!v.is_object()) return invalid(path + " must be an object of schemas", path);
  json::object out;
  for (const auto& kv : v.get_object()) {
    auto s = json_schema_from(kv.value(), path + "." + std::string(kv.key()));
    if (!s) return s.error();
    out[kv.key()] = std::move(*s);
  }
  return json::value(std::move(out));
}

core::Result<json::value> schema_list(const json::value& v, const std::string& path) {
  if (!v.is_array()) return invalid(path + " must be an array of schemas", path);
  json::array out;
  for (std::size_t k = 0; k < v.get_array().size(); ++k) {
    auto s = json_schema_from(v.get_array()[k], path + "[" + std::to_string(k) + "]");
    if (!s) return s.error();
    out.push_back(std::move(*s));
  }
  return json::value(std::move(out));
}

// One keyword of a schema, converted (null: dropped).
core::Result<json::value> convert_keyword(std::string_view key, const json::value& v, const std::string& path) {
  std::string at = path + "." + std::string(key);
  if (key == "type") return lowered_type(v, at);
  if (key == "items") return json_schema_from(v, at);
  if (key == "properties") return schema_map(v, at);
  if (key == "anyOf") return schema_list(v, at);
  if (std::find(std::begin(kCountKeys), std::end(kCountKeys), key) != std::end(kCountKeys)) return count_value(v);
  return v;
}

}  // namespace

core::Result<json::value> json_schema_from(const json::value& schema, const std::string& path) {
  if (!schema.is_object()) return invalid(path + " must be a Schema object", path);
  json::object out;
  bool nullable = false;
  for (const auto& kv : schema.get_object()) {
    if (kv.key() == "propertyOrdering" || kv.value().is_null()) continue;
    if (kv.key() == "nullable") {
      nullable = kv.value().is_bool() && kv.value().get_bool();
      continue;
    }
    auto converted = convert_keyword(kv.key(), kv.value(), path);
    if (!converted) return converted.error();
    if (!converted->is_null()) out[kv.key()] = std::move(*converted);
  }
  if (nullable) add_null(out);
  return json::value(std::move(out));
}

}  // namespace anygpt::formats::gemini
