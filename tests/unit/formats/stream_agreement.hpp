// Test helper: a provider's StreamWatcher (same-protocol relays) must learn exactly what its
// StreamDecoder learns from the same bytes: the in-band error (and its kind), the end signal,
// the usage and the delivered text, however the bytes are split.
#pragma once

#include <gtest/gtest.h>

#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "formats/common/chunks.hpp"
#include "formats/openai/openai.hpp"
#include "formats/provider.hpp"

namespace anygpt::formats::agreement {

struct StreamOutcome {
  std::optional<core::ErrorKind> error;
  bool complete = false;
  core::Usage usage;
  std::size_t chars = 0;

  bool operator==(const StreamOutcome& o) const {
    bool same_usage = usage.present == o.usage.present && usage.prompt_tokens == o.usage.prompt_tokens &&
                      usage.completion_tokens == o.usage.completion_tokens &&
                      usage.total_tokens == o.usage.total_tokens;
    return error == o.error && complete == o.complete && same_usage && chars == o.chars;
  }
};

inline std::string describe(const StreamOutcome& o) {
  return "error=" + (o.error ? std::to_string(static_cast<int>(*o.error)) : std::string("none")) +
         " complete=" + std::to_string(o.complete) + " usage=" + std::to_string(o.usage.present) + "/" +
         std::to_string(o.usage.prompt_tokens) + "/" + std::to_string(o.usage.completion_tokens) + "/" +
         std::to_string(o.usage.total_tokens) + " chars=" + std::to_string(o.chars);
}

inline std::vector<std::string_view> pieces_of(std::string_view bytes, std::size_t split) {
  if (split == 0 || split >= bytes.size()) return {bytes};
  return {bytes.substr(0, split), bytes.substr(split)};
}

inline StreamOutcome decoded(const ProviderCodec& codec, const UpstreamCall& call,
                             const std::vector<std::string_view>& pieces) {
  auto decoder = codec.stream_decoder(call);
  StreamOutcome out;
  for (auto piece : pieces) {
    std::vector<boost::json::object> chunks;
    auto err = decoder->feed(piece, chunks);
    for (const auto& c : chunks) {
      out.chars += common::delivered_chars(c);
      if (auto u = openai::usage_from(c); u.present) out.usage = u;
    }
    if (err) {
      out.error = err->kind;
      break;
    }
  }
  out.complete = decoder->complete();
  return out;
}

inline StreamOutcome watched(const ProviderCodec& codec, const UpstreamCall& call,
                             const std::vector<std::string_view>& pieces) {
  auto watcher = codec.stream_watcher(call);
  StreamOutcome out;
  for (auto piece : pieces)
    if (auto err = watcher->feed(piece)) {
      out.error = err->kind;
      break;
    }
  out.complete = watcher->complete();
  out.usage = watcher->usage();
  out.chars = watcher->delivered_chars();
  return out;
}

// The watcher agrees with the decoder on `bytes` whole, split at every position and fed one
// byte at a time. Returns the decoder's outcome of the whole, for more checks.
inline StreamOutcome expect_agreement(const ProviderCodec& codec, const UpstreamCall& call, std::string_view bytes) {
  auto whole = decoded(codec, call, {bytes});
  for (std::size_t split = 0; split < bytes.size(); ++split) {
    auto pieces = pieces_of(bytes, split);
    auto d = decoded(codec, call, pieces);
    auto w = watched(codec, call, pieces);
    EXPECT_TRUE(d == w) << "split at " << split << ": decoder " << describe(d) << ", watcher " << describe(w) << "\n"
                        << bytes;
    if (!(d == w)) break;
  }
  std::vector<std::string_view> bytewise;
  for (std::size_t i = 0; i < bytes.size(); ++i) bytewise.push_back(bytes.substr(i, 1));
  auto d = decoded(codec, call, bytewise);
  auto w = watched(codec, call, bytewise);
  EXPECT_TRUE(d == w) << "byte by byte: decoder " << describe(d) << ", watcher " << describe(w) << "\n" << bytes;
  return whole;
}

}  // namespace anygpt::formats::agreement
