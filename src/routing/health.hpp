// routing/health: live health of every (provider, model) pair: EMAs of time to first byte,
// token throughput and error rate, a 0-100 score, in-flight load, and circuit breakers per
// pair and per provider. Shared by all worker threads (one short lock per provider); the
// clock is passed in so tests drive it.
#pragma once

#include <atomic>
#include <deque>
#include <functional>
#include <memory>
#include <mutex>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "routing/breaker.hpp"
#include "routing/ema.hpp"
#include "routing/stats.hpp"

namespace anygpt::routing {

struct HealthPolicy {
  EmaPolicy ema;
  BreakerPolicy model_breaker;  // per (provider, model)
  BreakerPolicy provider_breaker{1, std::chrono::milliseconds(60000), std::chrono::milliseconds(600000)};
  int disable_provider_after_models = 2;  // open models that take the whole provider out
  bool provider_auto_disable = true;      // false: providers are never taken out, only models
  std::size_t sample_window = 50;         // response_times kept per pair
};

// What one upstream attempt said about the pair it used.
enum class Outcome {
  kSuccess,
  kFailure,      // 408/409/5xx, transport error, timeout, broken or cut stream
  kCredentials,  // 401/403: the provider's key is bad
  kRateLimited,  // 429: busy, not broken; kept away until `rest_until`
  kNeutral,      // says nothing about health (client's own error, client left, excluded error)
};

struct Observation {
  Outcome outcome = Outcome::kNeutral;
  std::optional<double> ttfb_ms;       // time to first byte (response headers)
  std::optional<double> total_ms;      // whole call
  std::optional<double> tokens_per_s;  // completion tokens over the generation time
  std::int64_t input_tokens = 0, output_tokens = 0;
  Clock::time_point rest_until{};  // kRateLimited only
  std::int64_t wall_ms = 0;        // epoch ms, for response_times
};

// Initial state of a pair, from providers.json (stats the previous run flushed).
struct SlotSeed {
  std::size_t provider = 0;  // dense provider index
  std::string provider_id, model_id;
  bool model_auto_disabled = false, provider_auto_disabled = false;
  std::optional<double> avg_provider_latency, avg_token_speed, avg_response_time;
  std::int64_t errors = 0, consecutive_errors = 0;
};

// A claimed use of a pair; hand it back to record().
struct Ticket {
  std::size_t slot = 0;
  bool model_probe = false;
  bool provider_probe = false;
  bool valid = false;  // false: the pair was blocked, nothing was claimed
};

// Score 0-100 from the health signals: 50 % error rate, 35 % time to first byte, 15 % throughput.
// Latency: <= 50 ms -> 100, >= 5 s -> 0, linear between (unknown -> 50). Throughput: tokens/s
// capped at 100 (unknown -> 50). Pure.
double health_score(double error_rate, std::optional<double> ttfb_ms, std::optional<double> tokens_per_s);

class HealthBoard {
 public:
  // `seeds` lists every pair, index = slot; providers are 0..provider_count-1.
  HealthBoard(std::size_t provider_count, const std::vector<SlotSeed>& seeds, HealthPolicy policy,
              Clock::time_point now);
  ~HealthBoard();

  // May the pair be used now (both its own and its provider's circuit)? Changes nothing.
  Admission peek(std::size_t slot, Clock::time_point now) const;
  // Claims a use; a probe claims the half-open slot so concurrent callers skip it. A pair
  // demoted by errors (not open) is also offered as a probe once per cool-down: a recheck, so a
  // provider that recovered is seen within seconds rather than after its errors decay.
  // A probe is single-shot: after a failed probe the caller must not retry the same pair.
  Ticket claim(std::size_t slot, Clock::time_point now);
  // Reports how the claimed use went. Always call it once per valid ticket.
  void record(const Ticket& ticket, const Observation& obs, Clock::time_point now);

  // Everything ordering needs to know about a pair, read under one lock:
  //  - admission: as peek();
  //  - observed: whether the pair has any observation (or stored stats) yet;
  //  - rank: the pair's score minus a load penalty (3 points per request in flight, at most 30);
  //    pairs never observed count as 75, so new providers get traffic and a measurement;
  //  - provider_score: the provider's own score (its pairs pooled), nullopt before any
  //    observation: tier bands (min/max_provider_score) compare against this.
  struct SlotView {
    Admission admission = Admission::kBlocked;
    bool observed = false;
    double rank = 0;
    std::optional<double> provider_score;
  };
  SlotView view(std::size_t slot, Clock::time_point now) const;
  double rank(std::size_t slot, Clock::time_point now) const { return view(slot, now).rank; }
  // When the earliest blocked pair among `slots` may be probed again.
  Clock::time_point next_probe(const std::vector<std::size_t>& slots, Clock::time_point now) const;

  // Called (outside any lock, on the recording thread) when a circuit opens here: model = ""
  // for the whole provider. Set once before serving; used to tell other instances.
  using OpenListener =
      std::function<void(const std::string& provider, const std::string& model, std::chrono::milliseconds duration)>;
  void set_open_listener(OpenListener listener) { on_open_ = std::move(listener); }
  // Opens a circuit another instance opened (model "" = the whole provider) for `duration`,
  // without counting a failure here; it is probed here after that like any open circuit.
  void force_open(std::string_view provider, std::string_view model, std::chrono::milliseconds duration,
                  Clock::time_point now);

  // Stats of every provider for providers.json, and whether anything changed since the last
  // call (clears the flag).
  std::vector<ProviderStats> snapshot(Clock::time_point now) const;
  bool take_dirty() { return dirty_.exchange(false, std::memory_order_acq_rel); }

  std::size_t slot_count() const { return slots_.size(); }

 private:
  struct Pair;
  struct ProviderState;
  Admission peek_locked(const ProviderState& p, const Pair& s, Clock::time_point now) const;
  bool recheck_due(const Pair& s, Clock::time_point now) const;
  void update_open_models(ProviderState& p);

  HealthPolicy policy_;
  struct SlotRef {
    ProviderState* provider;
    Pair* pair;
  };
  std::vector<std::unique_ptr<ProviderState>> providers_;
  std::vector<SlotRef> slots_;
  std::atomic<bool> dirty_{false};
  OpenListener on_open_;
};

}  // namespace anygpt::routing
