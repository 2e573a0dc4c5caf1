// mock: hand-rolled JSON text helpers for the hot response builders (no DOM, no temporaries).
#pragma once

#include <charconv>
#include <cstdint>
#include <string>
#include <string_view>

#include "core/json_text.hpp"

namespace anygpt::mock {

using core::append_json_string;

inline void append_int(std::string& out, std::int64_t v) {
  char buf[24];
  auto res = std::to_chars(buf, buf + sizeof buf, v);
  out.append(buf, static_cast<std::size_t>(res.ptr - buf));
}

// Shortest text that reads back as the same double (JSON has no NaN/Inf: they become 0).
inline void append_double(std::string& out, double v) {
  if (v != v || v - v != 0) v = 0;
  char buf[32];
  auto res = std::to_chars(buf, buf + sizeof buf, v);
  out.append(buf, static_cast<std::size_t>(res.ptr - buf));
}

// Appends `"key":` (key is a literal that needs no escaping).
inline void append_key(std::string& out, std::string_view key) {
  out += '"';
  out += key;
  out += "\":";
}

// Number of Unicode code points in valid UTF-8 text ("characters" for token estimates).
inline std::size_t utf8_length(std::string_view s) {
  std::size_t n = 0;
  for (char c : s) n += (static_cast<unsigned char>(c) & 0xC0) != 0x80;
  return n;
}

// Byte offset of the `count`-th code point of `s` (s.size() when it has fewer).
inline std::size_t utf8_offset(std::string_view s, std::size_t count) {
  std::size_t seen = 0;
  for (std::size_t i = 0; i < s.size(); ++i) {
    if ((static_cast<unsigned char>(s[i]) & 0xC0) == 0x80) continue;
    if (seen == count) return i;
    ++seen;
  }
  return s.size();
}

// The token estimate used everywhere in the mock: ceil(characters / 4).
inline std::int64_t estimate_tokens(std::size_t chars) {
  return static_cast<std::int64_t>((chars + 3) / 4);
}

}  // namespace anygpt::mock
