#include "limits/rate_limiter.hpp"

#include <algorithm>
#include <cstdio>
#include <string>

namespace anygpt::limits {
namespace {
using std::chrono::duration_cast;
using std::chrono::milliseconds;
using std::chrono::nanoseconds;

constexpr nanoseconds kWindows[3] = {std::chrono::seconds(1), std::chrono::minutes(1), std::chrono::hours(24)};
}  // namespace

Decision RateState::admit(const RateLimits& limits, Clock::time_point now) {
  const std::int64_t limit_of[3] = {limits.rps, limits.rpm, limits.rpd};
  std::lock_guard lock(mu_);
  Decision d;
  Clock::time_point next_tat[3];
  nanoseconds wait{0};
  for (int i = 0; i < 3; ++i) {
    if (limit_of[i] <= 0) continue;
    const nanoseconds window = kWindows[i];
    const nanoseconds interval = window / limit_of[i];
    const Clock::time_point tat = std::max(tat_[i], now);
    next_tat[i] = tat + interval;
    // Admit when the new TAT stays within one window of now (a burst of `limit` fits).
    const nanoseconds over = (next_tat[i] - now) - window;
    if (over > nanoseconds::zero()) {
      d.allowed = false;
      wait = std::max(wait, over);
    }
  }
  if (!d.allowed)
    d.retry_after = std::max(milliseconds(1), duration_cast<milliseconds>(wait + milliseconds(1) - nanoseconds(1)));
  double tightest = 2.0;
  for (int i = 0; i < 3; ++i) {
    if (limit_of[i] <= 0) continue;
    if (d.allowed) tat_[i] = next_tat[i];
    const Clock::time_point tat = std::max(tat_[i], now);
    const nanoseconds window = kWindows[i];
    const nanoseconds interval = window / limit_of[i];
    const std::int64_t remaining = std::max<std::int64_t>(0, (window - (tat - now)) / interval);
    const double fraction = static_cast<double>(remaining) / static_cast<double>(limit_of[i]);
    if (fraction < tightest) {
      tightest = fraction;
      d.limit = limit_of[i];
      d.remaining = remaining;
      d.reset = duration_cast<milliseconds>(tat - now);
    }
  }
  return d;
}

std::string format_reset(std::chrono::milliseconds d) {
  auto ms = d.count();
  if (ms < 1000) return std::to_string(ms) + "ms";
  auto h = ms / 3600000, m = (ms / 60000) % 60;
  double s = static_cast<double>(ms % 60000) / 1000.0;
  std::string out;
  if (h) out += std::to_string(h) + "h";
  if (h || m) out += std::to_string(m) + "m";
  char buf[32];
  std::snprintf(buf, sizeof buf, "%gs", s);
  return out + buf;
}

}  // namespace anygpt::limits
