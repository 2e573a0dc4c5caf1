#include <gtest/gtest.h>

#include "limits/rate_limiter.hpp"

using namespace anygpt::limits;
using namespace std::chrono_literals;

namespace {
// A fixed origin; tests move time by hand (a fake clock).
const Clock::time_point t0 = Clock::time_point{} + 1000h;
}  // namespace

TEST(RateLimiter, BurstOfRpsThenOneEveryInterval) {
  RateState s;
  RateLimits l{4, 0, 0};
  for (int i = 0; i < 4; ++i) EXPECT_TRUE(s.admit(l, t0).allowed) << i;
  auto denied = s.admit(l, t0);
  EXPECT_FALSE(denied.allowed);
  EXPECT_EQ(denied.retry_after, 250ms);
  EXPECT_FALSE(s.admit(l, t0 + 249ms).allowed);
  EXPECT_TRUE(s.admit(l, t0 + 250ms).allowed);
  EXPECT_FALSE(s.admit(l, t0 + 250ms).allowed);
}

TEST(RateLimiter, DeniedRequestsConsumeNothing) {
  RateState s;
  RateLimits l{1, 0, 0};
  EXPECT_TRUE(s.admit(l, t0).allowed);
  for (int i = 0; i < 100; ++i) EXPECT_FALSE(s.admit(l, t0 + 10ms).allowed);
  EXPECT_TRUE(s.admit(l, t0 + 1s).allowed);  // 100 denials did not push it back
}

TEST(RateLimiter, MinuteAndDayWindowsApplyTogether) {
  RateState s;
  RateLimits l{100, 3, 5};
  for (int i = 0; i < 3; ++i) EXPECT_TRUE(s.admit(l, t0 + i * 10ms).allowed);
  auto d = s.admit(l, t0 + 30ms);
  EXPECT_FALSE(d.allowed);
  EXPECT_EQ(d.retry_after, 20s - 30ms);  // one slot of the minute window every 20 s
  EXPECT_TRUE(s.admit(l, t0 + 20s).allowed);
  EXPECT_TRUE(s.admit(l, t0 + 40s).allowed);
  auto day = s.admit(l, t0 + 60s);  // 6th request: the day window (5) is the binding one now
  EXPECT_FALSE(day.allowed);
  EXPECT_GT(day.retry_after, 1h);
}

TEST(RateLimiter, UnlimitedWindowsNeverDeny) {
  RateState s;
  for (int i = 0; i < 10000; ++i) ASSERT_TRUE(s.admit({0, 0, 0}, t0).allowed);
  EXPECT_EQ(s.admit({0, 0, 0}, t0).limit, 0);
}

TEST(RateLimiter, ReportsTheTightestWindow) {
  RateState s;
  RateLimits l{10, 600, 100000};
  auto d = s.admit(l, t0);
  EXPECT_EQ(d.limit, 10);  // 9/10 left in the second window is tighter than 599/600
  EXPECT_EQ(d.remaining, 9);
  EXPECT_EQ(d.reset, 100ms);
  for (int i = 0; i < 9; ++i) s.admit(l, t0);
  auto last = s.admit(l, t0);
  EXPECT_FALSE(last.allowed);
  EXPECT_EQ(last.remaining, 0);
}

TEST(RateLimiter, ResetIsFormattedLikeOpenAi) {
  EXPECT_EQ(format_reset(250ms), "250ms");
  EXPECT_EQ(format_reset(1500ms), "1.5s");
  EXPECT_EQ(format_reset(360s), "6m0s");
  EXPECT_EQ(format_reset(3h + 2min + 5s), "3h2m5s");
}
