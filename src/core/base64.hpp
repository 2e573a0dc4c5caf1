// core/base64: standard base64 (RFC 4648 alphabet, '=' padding), and the OpenAI embeddings
// "base64" encoding of a vector (its float32 values, little-endian, as base64).
#pragma once

#include <span>
#include <string>
#include <string_view>

namespace anygpt::core {

std::string base64_encode(std::string_view bytes);

// The vector's values as little-endian IEEE float32 bytes, base64-encoded (whatever the host's byte order).
std::string float32_le_base64(std::span<const float> values);

}  // namespace anygpt::core
