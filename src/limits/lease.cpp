#include "limits/lease.hpp"

#include <algorithm>

namespace anygpt::limits {

Decision LeaseState::decision(bool allowed, std::chrono::milliseconds retry_after) const {
  Decision d;
  d.allowed = allowed;
  d.retry_after = retry_after;
  d.limit = last_.limit;
  d.remaining = std::max<std::int64_t>(0, last_.left + remaining_);
  d.reset = last_.reset;
  return d;
}

LeaseState::Taken LeaseState::take(Clock::time_point now) {
  std::lock_guard lock(mu_);
  if (now < denied_until_)
    return {false, decision(false, std::chrono::duration_cast<std::chrono::milliseconds>(denied_until_ - now))};
  if (remaining_ > 0 && now < expires_) {
    --remaining_;
    return {false, decision(true, {})};
  }
  remaining_ = 0;
  return {true, {}};
}

Decision LeaseState::grant_and_take(const Grant& grant, Clock::time_point now) {
  std::lock_guard lock(mu_);
  last_ = grant;
  if (grant.units <= 0) {
    auto wait = std::max(grant.retry_after, std::chrono::milliseconds(1));
    denied_until_ = std::max(denied_until_, now + wait);
    return decision(false, wait);
  }
  if (now >= expires_) remaining_ = 0;
  remaining_ += grant.units - 1;
  expires_ = now + kLifetime;
  return decision(true, {});
}

void LeaseState::clear() {
  std::lock_guard lock(mu_);
  remaining_ = 0;
  denied_until_ = {};
}

std::int64_t lease_size(const RateLimits& limits) {
  std::int64_t tightest = 0;
  for (auto l : {limits.rps, limits.rpm, limits.rpd})
    if (l > 0) tightest = tightest == 0 ? l : std::min(tightest, l);
  if (tightest == 0) return 100;
  return std::clamp<std::int64_t>(tightest / 20, 1, 100);
}

}  // namespace anygpt::limits
