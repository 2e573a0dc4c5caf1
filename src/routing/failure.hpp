// routing/failure: what to do after an upstream attempt, from its HTTP status or transport
// error. Pure: the pipeline carries the decision out.
#pragma once

#include <chrono>
#include <optional>
#include <string_view>

#include "core/error.hpp"
#include "routing/health.hpp"

namespace anygpt::routing {

enum class Next {
  kDone,       // 2xx: relay it
  kRelay,      // the client's own mistake (400, 413, 422...): relay the provider's reason, no retry
  kRetrySame,  // try the same provider again after `wait`
  kFailOver,   // move on to the next provider
  kNextModel,  // the request does not fit this model (context length): its other providers are
               // skipped, the next model of the fallback chain is tried
};

struct Verdict {
  Next next = Next::kFailOver;
  Outcome outcome = Outcome::kFailure;  // what it says about the provider's health
  std::chrono::milliseconds wait{0};    // kRetrySame: how long to wait first
  std::chrono::milliseconds rest{0};    // kRateLimited: keep other requests away this long
};

struct RetryPolicy {
  std::chrono::milliseconds max_retry_after{2000};  // longer Retry-After: fail over instead
  std::chrono::milliseconds backoff_min{50}, backoff_max{150};
};

// `retried`: this provider was already retried once for this request. `jitter` in [0, 1)
// picks the backoff between backoff_min and backoff_max. `retry_after`: the parsed header.
//   2xx -> kDone; 401/402/403 -> fail over, kCredentials (the provider's account is unusable);
//   429 -> wait and retry when Retry-After is short enough (once), else fail over and rest the
//   provider for Retry-After; 404 -> fail over (this provider does not serve the model);
//   408/409/5xx -> retry once after a jittered backoff, then fail over; other 4xx -> kRelay.
Verdict classify_status(unsigned status, std::optional<std::chrono::milliseconds> retry_after, bool retried,
                        double jitter, const RetryPolicy& policy);

// A 400/413/422 whose body says the request exceeds the model's context window, in any
// provider's words (OpenAI `context_length_exceeded`, "maximum context length", Anthropic
// "prompt is too long", Gemini "exceeds the maximum number of tokens", Ollama/vLLM "context
// length"...). Reads at most the first 8 KiB of the body.
bool is_context_overflow(unsigned status, std::string_view body);

// Transport failures (refused, reset, TLS, timeouts) fail over at once: retrying a dead or
// hung host only spends the request's budget. A cancelled call (client left) is kNeutral.
Verdict classify_transport(const core::Error& error);

// Retry-After as delta-seconds ("3", "1.5") or an HTTP date; nullopt when unusable.
// `now_epoch_s` is the current time for the date form.
std::optional<std::chrono::milliseconds> parse_retry_after(std::string_view value, std::int64_t now_epoch_s);

}  // namespace anygpt::routing
