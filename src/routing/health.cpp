#include "routing/health.hpp"

#include <algorithm>
#include <cmath>

namespace anygpt::routing {

namespace {
constexpr double kUnobservedRank = 75;
constexpr double kLoadPenaltyPerRequest = 3;
constexpr double kMaxLoadPenalty = 30;
// A pair whose error rate is at or above this has been ranked down by its errors, and with a
// strict or near-strict order ordinary traffic may never reach it again (its score cannot
// improve without requests): once it has had no request for one cool-down it gets a recheck,
// so a recovery is seen within one cool-down (docs/ROUTING.md).
constexpr double kRecheckErrorRate = 0.05;

double round2(double v) {
  return std::round(v * 100) / 100;
}
}  // namespace

double health_score(double error_rate, std::optional<double> ttfb_ms, std::optional<double> tokens_per_s) {
  double err = 100 * (1 - std::clamp(error_rate, 0.0, 1.0));
  double lat = 50;
  if (ttfb_ms) lat = *ttfb_ms <= 50 ? 100 : *ttfb_ms >= 5000 ? 0 : 100 * (1 - (*ttfb_ms - 50) / 4950);
  double speed = tokens_per_s ? std::clamp(*tokens_per_s, 0.0, 100.0) : 50;
  return std::clamp(0.5 * err + 0.35 * lat + 0.15 * speed, 0.0, 100.0);
}

// The signals of one pair (or pooled for a provider).
struct Signals {
  Ema error_rate, ttfb, speed, response_time;
  bool observed = false;
  std::int64_t errors = 0;

  void add(const Observation& o, bool failed, Clock::time_point now, const EmaPolicy& p) {
    observed = true;
    error_rate.add(failed ? 1.0 : 0.0, now, p);
    if (failed) ++errors;
    if (failed) return;
    if (o.ttfb_ms) ttfb.add(*o.ttfb_ms, now, p);
    if (o.tokens_per_s) speed.add(*o.tokens_per_s, now, p);
    if (o.total_ms) response_time.add(*o.total_ms, now, p);
  }
  std::optional<double> score(Clock::time_point now, const EmaPolicy& p) const {
    if (!observed) return std::nullopt;
    return health_score(error_rate.decayed(now, p), ttfb.value(), speed.value());
  }
};

struct HealthBoard::Pair {
  std::string model_id;
  Breaker breaker;
  Signals signals;
  std::deque<ResponseSample> samples;
  Clock::time_point last_attempt{};
  bool recheck_in_flight = false;
  std::atomic<int> in_flight{0};
};

struct HealthBoard::ProviderState {
  std::string id;
  mutable std::mutex mu;  // guards everything below and the pairs' breakers, signals, samples
  Breaker breaker;
  Signals signals;
  int open_models = 0;
  std::vector<std::unique_ptr<Pair>> pairs;
};

HealthBoard::HealthBoard(std::size_t provider_count, const std::vector<SlotSeed>& seeds, HealthPolicy policy,
                         Clock::time_point now)
    : policy_(std::move(policy)) {
  providers_.reserve(provider_count);
  for (std::size_t i = 0; i < provider_count; ++i) providers_.push_back(std::make_unique<ProviderState>());
  for (const auto& seed : seeds) {
    auto& p = *providers_.at(seed.provider);
    p.id = seed.provider_id;
    auto pair = std::make_unique<Pair>();
    pair->model_id = seed.model_id;
    auto& s = pair->signals;
    if (seed.avg_provider_latency) s.ttfb.seed(*seed.avg_provider_latency, now);
    if (seed.avg_token_speed) s.speed.seed(*seed.avg_token_speed, now);
    if (seed.avg_response_time) s.response_time.seed(*seed.avg_response_time, now);
    s.observed = seed.avg_provider_latency.has_value();
    if (s.observed) s.error_rate.seed(0, now);
    s.errors = seed.errors;
    // Taken out by the previous run: back in rotation through a probe after one cool-down.
    if (seed.model_auto_disabled) pair->breaker.trip(now, policy_.model_breaker);
    if (seed.provider_auto_disabled && !p.breaker.is_open()) p.breaker.trip(now, policy_.provider_breaker);
    slots_.push_back({&p, pair.get()});
    p.pairs.push_back(std::move(pair));
  }
  for (auto& p : providers_) update_open_models(*p);
}

HealthBoard::~HealthBoard() = default;

Admission HealthBoard::peek_locked(const ProviderState& p, const Pair& s, Clock::time_point now) const {
  auto provider = p.breaker.peek(now);
  auto own = s.breaker.peek(now);
  if (provider == Admission::kBlocked || own == Admission::kBlocked) return Admission::kBlocked;
  bool taken_out_by_models =
      policy_.provider_auto_disable && p.open_models >= std::max(1, policy_.disable_provider_after_models);
  // A provider out because of its broken models still lets those models probe: that is how it
  // comes back.
  if (taken_out_by_models && own != Admission::kProbe) return Admission::kBlocked;
  if (provider == Admission::kProbe || own == Admission::kProbe) return Admission::kProbe;
  if (recheck_due(s, now)) return Admission::kProbe;
  return Admission::kAllowed;
}

bool HealthBoard::recheck_due(const Pair& s, Clock::time_point now) const {
  return !s.recheck_in_flight && s.signals.error_rate.decayed(now, policy_.ema) >= kRecheckErrorRate &&
         now - s.last_attempt >= policy_.model_breaker.cooldown;
}

void HealthBoard::update_open_models(ProviderState& p) {
  int open = 0;
  for (const auto& s : p.pairs) open += s->breaker.is_open() ? 1 : 0;
  p.open_models = open;
}

Admission HealthBoard::peek(std::size_t slot, Clock::time_point now) const {
  auto [p, s] = slots_.at(slot);
  std::lock_guard lock(p->mu);
  return peek_locked(*p, *s, now);
}

Ticket HealthBoard::claim(std::size_t slot, Clock::time_point now) {
  auto [p, s] = slots_.at(slot);
  Ticket t;
  t.slot = slot;
  {
    std::lock_guard lock(p->mu);
    auto a = peek_locked(*p, *s, now);
    if (a == Admission::kBlocked) return t;
    if (a == Admission::kProbe) {
      bool recheck = recheck_due(*s, now);
      t.provider_probe = p->breaker.claim(now) == Admission::kProbe;
      t.model_probe = s->breaker.claim(now) == Admission::kProbe || recheck;
      s->recheck_in_flight = recheck;
    }
    s->last_attempt = now;
  }
  t.valid = true;
  s->in_flight.fetch_add(1, std::memory_order_relaxed);
  return t;
}

void HealthBoard::record(const Ticket& t, const Observation& obs, Clock::time_point now) {
  if (!t.valid) return;
  auto [p, s] = slots_.at(t.slot);
  s->in_flight.fetch_sub(1, std::memory_order_relaxed);
  std::unique_lock lock(p->mu);
  bool model_opened = false, provider_opened = false;
  bool rechecked = s->recheck_in_flight && t.model_probe;
  if (rechecked) s->recheck_in_flight = false;
  switch (obs.outcome) {
    case Outcome::kSuccess: {
      bool recovered = s->breaker.on_success() || rechecked;
      if (p->breaker.on_success()) recovered = true;
      // Back from an outage: the error history was paid for by the cool-down; start fresh so
      // the pair competes on its merits again within seconds instead of a half-life.
      if (recovered) {
        s->signals.error_rate.scale(0);
        p->signals.error_rate.scale(0);
      }
      s->signals.add(obs, false, now, policy_.ema);
      p->signals.add(obs, false, now, policy_.ema);
      ResponseSample sample;
      sample.timestamp_ms = obs.wall_ms;
      sample.response_time_ms = obs.total_ms.value_or(0);
      sample.input_tokens = obs.input_tokens;
      sample.output_tokens = obs.output_tokens;
      sample.provider_latency_ms = obs.ttfb_ms;
      sample.observed_speed_tps = obs.tokens_per_s;
      s->samples.push_back(sample);
      while (s->samples.size() > policy_.sample_window) s->samples.pop_front();
      break;
    }
    case Outcome::kFailure:
      s->signals.add(obs, true, now, policy_.ema);
      p->signals.add(obs, true, now, policy_.ema);
      model_opened = s->breaker.on_failure(now, policy_.model_breaker);
      if (t.provider_probe) provider_opened = p->breaker.on_failure(now, policy_.provider_breaker);
      break;
    case Outcome::kCredentials:
      s->signals.add(obs, true, now, policy_.ema);
      p->signals.add(obs, true, now, policy_.ema);
      if (policy_.provider_auto_disable) {
        p->breaker.trip(now, policy_.provider_breaker);
        provider_opened = true;
      } else {
        model_opened = s->breaker.on_failure(now, policy_.model_breaker);
      }
      if (t.model_probe) s->breaker.release_probe(now);
      break;
    case Outcome::kRateLimited:
      if (t.provider_probe) p->breaker.release_probe(now);
      s->breaker.rest_until(obs.rest_until);
      break;
    case Outcome::kNeutral:
      if (t.model_probe) s->breaker.release_probe(now);
      if (t.provider_probe) p->breaker.release_probe(now);
      break;
  }
  update_open_models(*p);
  dirty_.store(true, std::memory_order_release);
  if (!on_open_ || (!model_opened && !provider_opened)) return;
  auto model_for = std::chrono::duration_cast<std::chrono::milliseconds>(s->breaker.open_until() - now);
  auto provider_for = std::chrono::duration_cast<std::chrono::milliseconds>(p->breaker.open_until() - now);
  std::string provider_id = p->id, model_id = s->model_id;
  lock.unlock();
  if (provider_opened) on_open_(provider_id, "", provider_for);
  if (model_opened) on_open_(provider_id, model_id, model_for);
}

void HealthBoard::force_open(std::string_view provider, std::string_view model, std::chrono::milliseconds duration,
                             Clock::time_point now) {
  for (auto& pp : providers_) {
    auto& p = *pp;
    if (p.id != provider) continue;
    std::lock_guard lock(p.mu);
    if (model.empty()) {
      p.breaker.rest_until(now + duration);
    } else {
      for (auto& s : p.pairs)
        if (s->model_id == model) s->breaker.rest_until(now + duration);
      update_open_models(p);
    }
    dirty_.store(true, std::memory_order_release);
  }
}

HealthBoard::SlotView HealthBoard::view(std::size_t slot, Clock::time_point now) const {
  auto [p, s] = slots_.at(slot);
  SlotView v;
  {
    std::lock_guard lock(p->mu);
    v.admission = peek_locked(*p, *s, now);
    v.observed = s->signals.observed;
    v.rank = s->signals.score(now, policy_.ema).value_or(kUnobservedRank);
    v.provider_score = p->signals.score(now, policy_.ema);
  }
  double load = kLoadPenaltyPerRequest * s->in_flight.load(std::memory_order_relaxed);
  v.rank -= std::min(load, kMaxLoadPenalty);
  return v;
}

Clock::time_point HealthBoard::next_probe(const std::vector<std::size_t>& slots, Clock::time_point now) const {
  auto best = Clock::time_point::max();
  for (auto slot : slots) {
    auto [p, s] = slots_.at(slot);
    std::lock_guard lock(p->mu);
    auto at = std::max(p->breaker.is_open() ? p->breaker.open_until() : now,
                       s->breaker.is_open() ? s->breaker.open_until() : now);
    best = std::min(best, at);
  }
  return best;
}

std::vector<ProviderStats> HealthBoard::snapshot(Clock::time_point now) const {
  std::vector<ProviderStats> out;
  out.reserve(providers_.size());
  for (const auto& pp : providers_) {
    const auto& p = *pp;
    std::lock_guard lock(p.mu);
    ProviderStats ps;
    ps.provider_id = p.id;
    ps.errors = p.signals.errors;
    ps.avg_response_time = p.signals.response_time.value();
    ps.avg_provider_latency = p.signals.ttfb.value();
    if (auto sc = p.signals.score(now, policy_.ema)) ps.score = round2(*sc);
    ps.disabled = p.breaker.is_open() || (policy_.provider_auto_disable &&
                                          p.open_models >= std::max(1, policy_.disable_provider_after_models));
    for (const auto& s : p.pairs) {
      ModelStats ms;
      ms.model_id = s->model_id;
      ms.samples.assign(s->samples.begin(), s->samples.end());
      ms.errors = s->signals.errors;
      ms.consecutive_errors = s->breaker.consecutive_failures();
      ms.avg_response_time = s->signals.response_time.value();
      ms.avg_provider_latency = s->signals.ttfb.value();
      ms.avg_token_speed = s->signals.speed.value();
      ms.disabled = s->breaker.is_open();
      ps.models.push_back(std::move(ms));
    }
    out.push_back(std::move(ps));
  }
  return out;
}

}  // namespace anygpt::routing
