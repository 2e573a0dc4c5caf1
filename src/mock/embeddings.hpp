// mock: the embeddings answer as pure functions
// (https://platform.openai.com/docs/api-reference/embeddings).
#pragma once

#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

#include "core/error.hpp"

namespace anygpt::mock {

struct EmbeddingPlan {
  std::string model;
  std::vector<std::string> inputs;  // one per vector; token arrays become "tokens:1,2,3"
  bool base64 = false;              // encoding_format "base64": little-endian float32 bytes
  int dimensions = 8;
  std::int64_t prompt_tokens = 0;  // ceil(chars / 4) per string input, one per token id
};

// Validates a request body: `input` is a string, an array of strings, an array of token ids
// or an array of token id arrays; encoding_format "float" (default) or "base64";
// `dimensions` 1-4096 (default 8).
core::Result<EmbeddingPlan> plan_embeddings(std::string_view body);

// A deterministic unit vector for `text` (same text, same vector).
std::vector<float> embed(std::string_view text, int dimensions);

// {"object":"list","data":[{"object":"embedding","index":i,"embedding":...}],"model","usage"}
std::string embeddings_body(const EmbeddingPlan& plan);

}  // namespace anygpt::mock
