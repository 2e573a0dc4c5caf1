// Health scoring, circuit breaking, attempt ordering and failure classification, driven by a
// fake clock (plain time points passed in).
#include <gtest/gtest.h>

#include <optional>

#include "routing/failure.hpp"
#include "routing/health.hpp"
#include "routing/plan.hpp"

namespace anygpt::routing {
namespace {

using namespace std::chrono_literals;
const Clock::time_point t0 = Clock::time_point{} + 1000h;

Observation ok(double ttfb_ms, double tps = 50) {
  Observation o;
  o.outcome = Outcome::kSuccess;
  o.ttfb_ms = ttfb_ms;
  o.total_ms = ttfb_ms * 2;
  o.tokens_per_s = tps;
  return o;
}
Observation failed() {
  Observation o;
  o.outcome = Outcome::kFailure;
  return o;
}

std::vector<SlotSeed> seeds(std::size_t providers) {
  std::vector<SlotSeed> out;
  for (std::size_t i = 0; i < providers; ++i) {
    SlotSeed s;
    s.provider = i;
    s.provider_id = "p" + std::to_string(i);
    s.model_id = "m";
    out.push_back(s);
  }
  return out;
}

void use(HealthBoard& b, std::size_t slot, const Observation& o, Clock::time_point at) {
  auto t = b.claim(slot, at);
  ASSERT_TRUE(t.valid);
  b.record(t, o, at);
}

TEST(Ema, HalvesWithTimeAndWithObservationCount) {
  EmaPolicy p{60000ms, 10};
  Ema e;
  e.add(100, t0, p);
  EXPECT_DOUBLE_EQ(*e.value(), 100);
  // One half-life later (plus one observation's worth): weight 1 - 2^-(1 + 0.1).
  e.add(0, t0 + 60s, p);
  EXPECT_NEAR(*e.value(), 100 * std::exp2(-1.1), 1e-9);
  // A burst at the same instant: ten observations halve the past, no single one erases it.
  Ema burst;
  burst.add(100, t0, p);
  burst.add(0, t0, p);
  EXPECT_GT(*burst.value(), 90);
  for (int i = 1; i < 10; ++i) burst.add(0, t0, p);
  EXPECT_NEAR(*burst.value(), 50, 1e-9);
}

TEST(Ema, ErrorRatesDecayWithTimeWhenUnused) {
  EmaPolicy p{60000ms, 10};
  Ema e;
  e.add(1, t0, p);
  EXPECT_DOUBLE_EQ(e.decayed(t0, p), 1);
  EXPECT_NEAR(e.decayed(t0 + 60s, p), 0.5, 1e-9);
  EXPECT_NEAR(e.decayed(t0 + 300s, p), 1.0 / 32, 1e-9);
}

TEST(HealthScore, WeighsErrorsLatencyAndThroughput) {
  EXPECT_DOUBLE_EQ(health_score(0, 50.0, 100.0), 100);
  EXPECT_DOUBLE_EQ(health_score(1, 5000.0, 0.0), 0);
  EXPECT_DOUBLE_EQ(health_score(0, std::nullopt, std::nullopt), 50 + 0.35 * 50 + 0.15 * 50);
  EXPECT_GT(health_score(0, 200.0, 50.0), health_score(0.2, 200.0, 50.0));
  EXPECT_GT(health_score(0, 200.0, 50.0), health_score(0, 2000.0, 50.0));
}

TEST(Breaker, OpensAfterThresholdProbesAfterCooldownAndBacksOff) {
  BreakerPolicy p{3, 1000ms, 4000ms};
  Breaker b;
  EXPECT_FALSE(b.on_failure(t0, p));
  EXPECT_FALSE(b.on_failure(t0, p));
  EXPECT_TRUE(b.on_failure(t0, p));
  EXPECT_EQ(b.peek(t0 + 999ms), Admission::kBlocked);
  EXPECT_EQ(b.claim(t0 + 1000ms), Admission::kProbe);
  EXPECT_EQ(b.claim(t0 + 1000ms), Admission::kBlocked) << "one probe at a time";
  EXPECT_TRUE(b.on_failure(t0 + 1100ms, p));  // probe failed: cool-down doubles
  EXPECT_EQ(b.peek(t0 + 3099ms), Admission::kBlocked);
  EXPECT_EQ(b.claim(t0 + 3100ms), Admission::kProbe);
  b.on_failure(t0 + 3100ms, p);  // 4 s (capped)
  EXPECT_EQ(b.claim(t0 + 7100ms), Admission::kProbe);
  b.on_failure(t0 + 7100ms, p);  // still 4 s: the cap
  EXPECT_EQ(b.peek(t0 + 11100ms), Admission::kProbe);
  b.claim(t0 + 11100ms);
  EXPECT_TRUE(b.on_success());
  EXPECT_EQ(b.peek(t0 + 11100ms), Admission::kAllowed);
  EXPECT_EQ(b.consecutive_failures(), 0);
}

TEST(Breaker, ReleasedProbeLetsTheNextCallerProbe) {
  BreakerPolicy p{1, 1000ms, 4000ms};
  Breaker b;
  b.on_failure(t0, p);
  EXPECT_EQ(b.claim(t0 + 1s), Admission::kProbe);
  b.release_probe(t0 + 1s);
  EXPECT_EQ(b.claim(t0 + 1s), Admission::kProbe);
}

TEST(HealthBoard, ConsecutiveFailuresTakeAPairOutAndASuccessfulProbeBringsItBack) {
  HealthPolicy policy;
  policy.model_breaker = {2, 500ms, 5000ms};
  HealthBoard b(1, seeds(1), policy, t0);
  use(b, 0, failed(), t0);
  use(b, 0, failed(), t0);
  EXPECT_EQ(b.peek(0, t0 + 100ms), Admission::kBlocked);
  auto probe = b.claim(0, t0 + 500ms);
  ASSERT_TRUE(probe.valid);
  EXPECT_TRUE(probe.model_probe);
  EXPECT_FALSE(b.claim(0, t0 + 500ms).valid) << "concurrent callers skip a pair being probed";
  b.record(probe, ok(100), t0 + 600ms);
  EXPECT_EQ(b.peek(0, t0 + 600ms), Admission::kAllowed);
  // Recovery forgets the error history: the pair competes on its merits at once.
  EXPECT_GT(b.rank(0, t0 + 600ms), 80);
}

// Steady traffic (a request every 100 ms, tried on the primary whenever it is admitted) against
// a primary that is down for 320 s: once it recovers it serves again within one cap of the
// cool-down (an uncapped doubling would have waited until its 310 s + 300 s probe).
TEST(HealthBoard, ARecoveredPairServesAgainWithinOneCapOfItsRecovery) {
  HealthPolicy policy;
  policy.model_breaker = {5, 10s, 30s};
  HealthBoard b(1, seeds(1), policy, t0);
  const auto recovered = t0 + 320s;
  std::optional<Clock::time_point> served;
  for (auto now = t0; now < t0 + 700s && !served; now += 100ms) {
    auto t = b.claim(0, now);
    if (!t.valid) continue;
    const bool up = now >= recovered;
    b.record(t, up ? ok(100) : failed(), now);
    if (up) served = now;
  }
  ASSERT_TRUE(served);
  EXPECT_LE(*served - recovered, 30s + 100ms);
  EXPECT_EQ(b.peek(0, *served), Admission::kAllowed);
}

// A couple of errors, too few to open the circuit, rank a pair below its peers; without traffic
// its score could never recover, so once idle for a cool-down it is rechecked like a probe.
TEST(HealthBoard, APairRankedDownByAFewErrorsIsRecheckedOnceIdleForACooldown) {
  HealthPolicy policy;
  policy.model_breaker = {4, 150ms, 600ms};
  HealthBoard b(1, seeds(1), policy, t0);
  auto now = t0;
  for (int i = 0; i < 10; ++i, now += 40ms) use(b, 0, ok(100), now);
  use(b, 0, failed(), now);
  use(b, 0, failed(), now += 40ms);
  EXPECT_EQ(b.peek(0, now + 100ms), Admission::kAllowed) << "not out, just ranked down";
  EXPECT_EQ(b.peek(0, now + 150ms), Admission::kProbe) << "idle for a cool-down: rechecked";
  auto recheck = b.claim(0, now + 150ms);
  ASSERT_TRUE(recheck.valid);
  EXPECT_TRUE(recheck.model_probe);
  const double before = b.rank(0, now + 150ms);
  b.record(recheck, ok(100), now + 160ms);
  EXPECT_GT(b.rank(0, now + 160ms), before) << "a good recheck clears the error history";
}

TEST(HealthBoard, ProviderGoesOutWithItsCredentialsAndWhenEnoughModelsAreOut) {
  HealthPolicy policy;
  policy.model_breaker = {1, 500ms, 5000ms};
  policy.disable_provider_after_models = 2;
  std::vector<SlotSeed> s(3);
  for (int i = 0; i < 3; ++i) {
    s[i].provider = 0;
    s[i].provider_id = "p";
    s[i].model_id = "m" + std::to_string(i);
  }
  HealthBoard b(1, s, policy, t0);
  use(b, 0, failed(), t0);
  EXPECT_EQ(b.peek(2, t0), Admission::kAllowed) << "one model out: the provider stays";
  use(b, 1, failed(), t0);
  EXPECT_EQ(b.peek(2, t0), Admission::kBlocked) << "two models out: the whole provider is out";
  auto stats = b.snapshot(t0);
  EXPECT_TRUE(stats[0].disabled);

  HealthBoard creds(1, s, policy, t0);
  Observation denied;
  denied.outcome = Outcome::kCredentials;
  use(creds, 0, denied, t0);
  EXPECT_EQ(creds.peek(1, t0), Admission::kBlocked);
  EXPECT_EQ(creds.peek(2, t0 + 59s), Admission::kBlocked);
  EXPECT_EQ(creds.peek(2, t0 + 60s), Admission::kProbe) << "credentials are re-probed after a minute";

  policy.provider_auto_disable = false;
  HealthBoard lenient(1, s, policy, t0);
  use(lenient, 0, denied, t0);
  use(lenient, 1, failed(), t0);
  EXPECT_EQ(lenient.peek(2, t0), Admission::kAllowed);
}

TEST(HealthBoard, ADemotedPairIsRecheckedOncePerCooldown) {
  HealthPolicy policy;
  policy.model_breaker = {5, 400ms, 5000ms};
  HealthBoard b(1, seeds(1), policy, t0);
  use(b, 0, failed(), t0);
  EXPECT_EQ(b.peek(0, t0 + 100ms), Admission::kAllowed);
  auto t = b.claim(0, t0 + 400ms);
  EXPECT_TRUE(t.model_probe) << "demoted and unused for a cool-down: a recheck";
  b.record(t, ok(80), t0 + 450ms);
  EXPECT_EQ(b.peek(0, t0 + 2s), Admission::kAllowed);
  EXPECT_GT(b.rank(0, t0 + 450ms), 80);
}

TEST(HealthBoard, RateLimitedRestsWithoutCountingAnError) {
  HealthBoard b(1, seeds(1), HealthPolicy{}, t0);
  Observation busy;
  busy.outcome = Outcome::kRateLimited;
  busy.rest_until = t0 + 5s;
  use(b, 0, busy, t0);
  EXPECT_EQ(b.peek(0, t0 + 4s), Admission::kBlocked);
  EXPECT_EQ(b.peek(0, t0 + 5s), Admission::kProbe);
  EXPECT_EQ(b.snapshot(t0)[0].models[0].errors, 0);
}

TEST(HealthBoard, SnapshotKeepsABoundedWindowOfSamples) {
  HealthPolicy policy;
  policy.sample_window = 3;
  HealthBoard b(1, seeds(1), policy, t0);
  for (int i = 0; i < 5; ++i) {
    auto o = ok(100 + i);
    o.wall_ms = i;
    use(b, 0, o, t0 + std::chrono::seconds(i));
  }
  auto m = b.snapshot(t0 + 5s)[0].models[0];
  ASSERT_EQ(m.samples.size(), 3u);
  EXPECT_EQ(m.samples.front().timestamp_ms, 2);
  EXPECT_TRUE(m.avg_provider_latency.has_value());
  EXPECT_TRUE(b.take_dirty());
  EXPECT_FALSE(b.take_dirty());
}

TEST(Plan, OrdersByScoreWithProbesAndUnmeasuredFirst) {
  HealthPolicy policy;
  HealthBoard b(3, seeds(3), policy, t0);
  std::vector<std::size_t> e{0, 1, 2};
  std::mt19937_64 rng(1);
  EXPECT_EQ(plan_attempts(b, e, {}, 0, t0, rng), (std::vector<std::size_t>{0, 1, 2})) << "unmeasured: file order";
  use(b, 0, ok(4000), t0);  // score ~65
  use(b, 1, ok(60), t0);
  use(b, 2, ok(1000), t0);
  EXPECT_EQ(plan_attempts(b, e, {}, 0, t0, rng), (std::vector<std::size_t>{1, 2, 0}));
  // Tier band: only providers scoring at most 70 are in band; the others follow.
  ScoreBand band{std::nullopt, 70.0};
  auto banded = plan_attempts(b, e, band, 0, t0, rng);
  EXPECT_EQ(banded.front(), 0u);
}

TEST(Plan, NearEqualProvidersShareTheLoad) {
  HealthBoard b(2, seeds(2), HealthPolicy{}, t0);
  use(b, 0, ok(100), t0);
  use(b, 1, ok(110), t0);
  std::vector<std::size_t> e{0, 1};
  std::mt19937_64 rng(42);
  int first[2] = {0, 0};
  for (int i = 0; i < 1000; ++i) ++first[plan_attempts(b, e, {}, 10, t0, rng).front()];
  EXPECT_GT(first[0], 350);
  EXPECT_GT(first[1], 350);
  // Strict order when spread is 0.
  EXPECT_EQ(plan_attempts(b, e, {}, 0, t0, rng).front(), 0u);
}

TEST(Plan, InFlightLoadLowersRank) {
  HealthBoard b(2, seeds(2), HealthPolicy{}, t0);
  use(b, 0, ok(100), t0);
  use(b, 1, ok(100), t0);
  std::vector<Ticket> held;
  for (int i = 0; i < 5; ++i) held.push_back(b.claim(0, t0));
  std::vector<std::size_t> e{0, 1};
  std::mt19937_64 rng(1);
  EXPECT_EQ(plan_attempts(b, e, {}, 0, t0, rng).front(), 1u);
  for (auto& t : held) b.record(t, ok(100), t0);
}

TEST(Failure, ClassifiesStatuses) {
  RetryPolicy p;
  auto v = classify_status(200, std::nullopt, false, 0.5, p);
  EXPECT_EQ(v.next, Next::kDone);
  v = classify_status(500, std::nullopt, false, 0.5, p);
  EXPECT_EQ(v.next, Next::kRetrySame);
  EXPECT_EQ(v.wait, 100ms);
  EXPECT_EQ(v.outcome, Outcome::kFailure);
  EXPECT_EQ(classify_status(503, std::nullopt, true, 0.5, p).next, Next::kFailOver);
  EXPECT_EQ(classify_status(408, std::nullopt, false, 0, p).wait, 50ms);
  EXPECT_EQ(classify_status(401, std::nullopt, false, 0, p).outcome, Outcome::kCredentials);
  EXPECT_EQ(classify_status(403, std::nullopt, false, 0, p).next, Next::kFailOver);
  EXPECT_EQ(classify_status(400, std::nullopt, false, 0, p).next, Next::kRelay);
  EXPECT_EQ(classify_status(422, std::nullopt, false, 0, p).outcome, Outcome::kNeutral);
  EXPECT_EQ(classify_status(404, std::nullopt, false, 0, p).next, Next::kFailOver);
  v = classify_status(429, 1500ms, false, 0, p);
  EXPECT_EQ(v.next, Next::kRetrySame);
  EXPECT_EQ(v.wait, 1500ms);
  v = classify_status(429, 5000ms, false, 0, p);
  EXPECT_EQ(v.next, Next::kFailOver);
  EXPECT_EQ(v.outcome, Outcome::kRateLimited);
  EXPECT_EQ(v.rest, 5000ms);
  EXPECT_EQ(classify_status(429, std::nullopt, false, 0, p).outcome, Outcome::kNeutral);
}

TEST(Failure, RecognisesContextOverflowInEveryProvidersWords) {
  for (
      const char* body :
      {R"({"error":{"message":"This model's maximum context length is 8192 tokens.","code":"context_length_exceeded"}})",
       R"({"type":"error","error":{"type":"invalid_request_error","message":"prompt is too long: 210000 tokens > 200000 maximum"}})",
       R"({"error":{"code":400,"message":"The input token count (1200000) exceeds the maximum number of tokens allowed (1048576).","status":"INVALID_ARGUMENT"}})",
       R"({"error":"input length exceeds the context length"})",
       R"({"object":"error","message":"This model's maximum context length is 4096 tokens. Please reduce the length of the messages."})"}) {
    EXPECT_TRUE(is_context_overflow(400, body)) << body;
    EXPECT_FALSE(is_context_overflow(500, body)) << "only the client-error statuses: " << body;
  }
  EXPECT_TRUE(is_context_overflow(413, "Request too large: context window exceeded"));
  EXPECT_FALSE(is_context_overflow(400, R"({"error":{"message":"Invalid value for 'temperature'"}})"));
  EXPECT_FALSE(is_context_overflow(400, R"({"error":{"message":"content_policy_violation"}})"));
}

TEST(Failure, ParsesRetryAfter) {
  EXPECT_EQ(parse_retry_after("3", 0), 3000ms);
  EXPECT_EQ(parse_retry_after(" 1.5 ", 0), 1500ms);
  EXPECT_EQ(parse_retry_after("", 0), std::nullopt);
  EXPECT_EQ(parse_retry_after("soon", 0), std::nullopt);
  EXPECT_EQ(parse_retry_after("-1", 0), std::nullopt);
  // 1445412480 = Wed, 21 Oct 2015 07:28:00 GMT
  EXPECT_EQ(parse_retry_after("Wed, 21 Oct 2015 07:28:00 GMT", 1445412470), 10000ms);
  EXPECT_EQ(parse_retry_after("Wed, 21 Oct 2015 07:28:00 GMT", 1445412490), 0ms);
}

TEST(Failure, TransportErrorsFailOverAndCancellationIsNeutral) {
  auto v = classify_transport(core::make_error(core::ErrorKind::kUpstreamTimeout, "timed out"));
  EXPECT_EQ(v.next, Next::kFailOver);
  EXPECT_EQ(v.outcome, Outcome::kFailure);
  EXPECT_EQ(classify_transport(core::make_error(core::ErrorKind::kUpstreamError, "x", {}, "cancelled")).outcome,
            Outcome::kNeutral);
}

}  // namespace
}  // namespace anygpt::routing
