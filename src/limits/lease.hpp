// limits/lease: the slice of a key's shared rate budget this instance holds. Several instances
// share one budget in Redis (a GCRA there); each leases a few requests at a time so most requests
// are admitted without a Redis round trip. Leased units come out of the shared budget, so the
// instances together never admit more than the budget. Thread-safe (a small mutex per key).
#pragma once

#include <chrono>
#include <cstdint>
#include <mutex>

#include "limits/rate_limiter.hpp"

namespace anygpt::limits {

// What the shared budget answered to a lease request.
struct Grant {
  std::int64_t units = 0;                    // leased requests (0 = denied)
  std::chrono::milliseconds retry_after{0};  // when denied: until one would be granted
  // The tightest shared window after the grant, for the x-ratelimit-* headers.
  std::int64_t left = 0, limit = 0;
  std::chrono::milliseconds reset{0};
};

class LeaseState {
 public:
  // How long leased units stay usable: a unit leased long ago would let a burst through later
  // than the shared budget accounted it.
  static constexpr std::chrono::milliseconds kLifetime{1000};

  // Uses a leased unit (allowed) or a recent denial (denied); need_lease when neither applies.
  struct Taken {
    bool need_lease = false;
    Decision decision;
  };
  Taken take(Clock::time_point now);
  // Records a grant and takes one unit of it for the caller (denied when it granted none).
  Decision grant_and_take(const Grant& grant, Clock::time_point now);
  // Drops what is held (the shared budget is unreachable: local limits apply meanwhile).
  void clear();

 private:
  Decision decision(bool allowed, std::chrono::milliseconds retry_after) const;  // REQUIRES: mu_ held

  std::mutex mu_;
  std::int64_t remaining_ = 0;
  Clock::time_point expires_{};
  Clock::time_point denied_until_{};
  Grant last_;  // the most recent grant, for the headers
};

// How many units to lease at once for these limits: 5 % of the tightest window (at least 1,
// at most 100), so the shared budget is spread over instances in small slices.
std::int64_t lease_size(const RateLimits& limits);

}  // namespace anygpt::limits
