// mock: anygpt-mock, a fake upstream (OpenAI, Anthropic, Gemini, Ollama) for integration tests (fault injection)
// and benchmarks. This header: its start-up settings (environment) and runtime-tunable behaviour.
#pragma once

#include <chrono>
#include <cstdint>
#include <functional>
#include <optional>
#include <string>
#include <string_view>

#include "core/error.hpp"

namespace anygpt::mock {

// Behaviour that POST /mock/config may change at run time. Shared as an immutable snapshot
// (shared_ptr<const MockConfig>) that is swapped whole on change.
struct MockConfig {
  double base_delay_ms = 0;      // added before every model answer
  double delay_variance_ms = 0;  // uniform +- around base_delay_ms (never below 0)
  double error_rate = 0;         // 0..1: share of model calls answered 500/503/429
  double timeout_rate = 0;       // 0..1: share of model calls never answered
  double slow_rate = 0;          // 0..1: share of model calls whose answer waits slow_delay_ms more (a long tail)
  double slow_delay_ms = 0;
  double token_speed = 0;              // tokens/s, spaces stream chunks when chunk_interval_ms is 0
  bool enable_logs = false;            // one stderr line per request
  std::int64_t stream_chunks = 0;      // content chunks per stream; 0 = one per ~3 characters
  double chunk_interval_ms = 0;        // gap before each content chunk; 0 = from token_speed
  double speech_bytes_per_char = 512;  // audio bytes a speech answer has per input character
};

// Start-up settings: the listening socket plus the defaults POST /mock/reset restores.
struct MockEnv {
  std::string host = "127.0.0.1";
  std::uint16_t port = 3001;  // 0 = any free port
  int threads = 1;
  MockConfig config;
};

using EnvLookup = std::function<std::optional<std::string>(std::string_view name)>;

// Reads MOCK_* variables. A malformed value is an error whose message starts with the
// variable's name.
core::Result<MockEnv> load_env(const EnvLookup& lookup);

// {"baseDelay":..,"delayVariance":..,...}: the camelCase names POST /mock/config accepts.
std::string config_json(const MockConfig& config);

// Applies a partial update (JSON object with camelCase keys) to `base`. Rates are clamped to
// 0..1, delays and counts to >= 0. Unknown keys are ignored; invalid JSON or a value of the
// wrong type is an invalid_request error.
core::Result<MockConfig> apply_config_patch(MockConfig base, std::string_view body);

// Gap before each content chunk of a stream: chunk_interval_ms, else one token at token_speed
// (a default-shaped chunk is ~3 characters, about one token), else none.
std::chrono::microseconds chunk_interval(const MockConfig& config);

}  // namespace anygpt::mock
