// limits: per-key request-rate windows (rps, rpm, rpd) with constant memory per key.
#pragma once

#include <chrono>
#include <cstdint>
#include <mutex>
#include <string>

namespace anygpt::limits {

using Clock = std::chrono::steady_clock;

struct RateLimits {
  std::int64_t rps = 0, rpm = 0, rpd = 0;  // <= 0: that window is unlimited
};

// What a request learns from the limiter; fills the x-ratelimit-* headers.
struct Decision {
  bool allowed = true;
  std::chrono::milliseconds retry_after{0};  // when denied: until a request would be admitted
  // The tightest window (the one with the fewest requests left), for the headers.
  std::int64_t limit = 0;  // 0 when every window is unlimited
  std::int64_t remaining = 0;
  std::chrono::milliseconds reset{0};  // until that window is fully replenished
};

// GCRA ("generic cell rate algorithm", a continuous token bucket) over three windows at once.
// A window of W with limit N admits N requests in a burst and then one every W/N; it is a
// sliding window without a log: three timestamps per key, whatever the traffic.
// Denied requests consume nothing. Thread-safe (one small mutex per key).
class RateState {
 public:
  Decision admit(const RateLimits& limits, Clock::time_point now);

 private:
  std::mutex mu_;
  Clock::time_point tat_[3]{};  // theoretical arrival time per window
};

// "6m0s"-style duration, as OpenAI writes x-ratelimit-reset-* values.
std::string format_reset(std::chrono::milliseconds d);

}  // namespace anygpt::limits
