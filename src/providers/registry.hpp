// providers: what anygpt knows about each provider protocol besides its data entry: the codec
// that speaks it and how its key is sent. Adding a provider protocol is a codec in formats/ and
// a row here.
#pragma once

#include <string_view>

#include "config/data_files.hpp"
#include "formats/provider.hpp"

namespace anygpt::providers {

struct Descriptor {
  const formats::ProviderCodec* codec;  // nullptr: OpenAI-compatible (the canonical shape as is)
  std::string_view key_header;          // header carrying the bare key; "" = "Authorization: Bearer"
  std::string_view extra_headers;       // fixed header lines, each ending in "\r\n"
};

const Descriptor& descriptor(config::ProviderProtocol protocol);

// The codec of a protocol (nullptr for openai), for routing::Catalog.
const formats::ProviderCodec* codec_for(config::ProviderProtocol protocol);

}  // namespace anygpt::providers
