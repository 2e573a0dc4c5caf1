// mock: small helpers the native wire-format responders share (JSON DOM access, base64 checks).
#pragma once

#include <boost/json/serialize.hpp>
#include <boost/json/value.hpp>
#include <cmath>
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

#include "mock/json_text.hpp"

namespace anygpt::mock::wire {

namespace json = boost::json;

inline json::string_view js(std::string_view s) {
  return json::string_view(s.data(), s.size());
}
inline std::string_view sv(const json::string& s) {
  return std::string_view(s.data(), s.size());
}

// The member `key` of `o`, or nullptr when absent.
inline const json::value* field(const json::object& o, std::string_view key) {
  return o.if_contains(js(key));
}

// The member named either way (proto JSON accepts the lowerCamelCase and the snake_case name).
inline const json::value* field2(const json::object& o, std::string_view camel, std::string_view snake) {
  if (const auto* v = o.if_contains(js(camel))) return v;
  return o.if_contains(js(snake));
}

// An integral number (1 and 1.0 alike); nullopt for anything else.
inline std::optional<std::int64_t> as_integer(const json::value& v) {
  if (v.is_int64()) return v.get_int64();
  if (v.is_uint64()) {
    if (v.get_uint64() > static_cast<std::uint64_t>(INT64_MAX)) return std::nullopt;
    return static_cast<std::int64_t>(v.get_uint64());
  }
  if (v.is_double()) {
    double d = v.get_double();
    if (std::floor(d) == d && std::fabs(d) < 9e15) return static_cast<std::int64_t>(d);
  }
  return std::nullopt;
}

inline std::optional<double> as_number(const json::value& v) {
  if (!v.is_number()) return std::nullopt;
  return v.to_number<double>();
}

// True for standard base64 (RFC 4648 alphabet, '=' padding, length a multiple of 4) - what
// proto `bytes` fields, Go's []byte and Anthropic's base64 image data accept.
inline bool valid_base64(std::string_view s) {
  if (s.size() % 4 != 0) return false;
  std::size_t pad = 0;
  for (std::size_t i = 0; i < s.size(); ++i) {
    char c = s[i];
    bool alpha = (c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '+' || c == '/';
    if (c == '=') {
      if (i + 2 < s.size()) return false;  // padding only in the last two places
      ++pad;
    } else if (!alpha || pad > 0) {
      return false;
    }
  }
  return pad <= 2;
}

// A JSON value as text for error messages (cut at 100 characters).
inline std::string describe(const json::value& v) {
  std::string out = json::serialize(v);
  if (utf8_length(out) > 100) out = out.substr(0, utf8_offset(out, 100)) + "...";
  return out;
}

}  // namespace anygpt::mock::wire
