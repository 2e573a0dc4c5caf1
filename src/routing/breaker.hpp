// routing/breaker: a circuit breaker (closed -> open -> half-open -> closed) with a doubling
// cool-down. Pure state machine, clock passed in; not thread-safe (guarded by its owner).
#pragma once

#include <algorithm>
#include <chrono>

#include "routing/ema.hpp"

namespace anygpt::routing {

struct BreakerPolicy {
  int failure_threshold = 5;  // consecutive failures that open the circuit
  std::chrono::milliseconds cooldown{10000};
  std::chrono::milliseconds max_cooldown{30000};
};

enum class Admission {
  kAllowed,  // closed: use it
  kProbe,    // open and the cool-down is over: this caller is the one probe
  kBlocked,  // open, or half-open with a probe already in flight
};

class Breaker {
 public:
  enum class State { kClosed, kOpen, kHalfOpen };

  // Whether a request may use it now, without changing anything.
  Admission peek(Clock::time_point now) const {
    if (state_ == State::kClosed) return Admission::kAllowed;
    if (state_ == State::kOpen && now >= open_until_) return Admission::kProbe;
    return Admission::kBlocked;
  }
  // Claims the use peek() allowed: a probe moves the circuit to half-open so no second caller
  // probes at the same time. Returns what was claimed (kBlocked if somebody was faster).
  Admission claim(Clock::time_point now) {
    auto a = peek(now);
    if (a == Admission::kProbe) state_ = State::kHalfOpen;
    return a;
  }
  // A call ended well: closes the circuit and forgets the cool-down history.
  // Returns true when this closed an open or half-open circuit.
  bool on_success() {
    consecutive_ = 0;
    if (state_ == State::kClosed) return false;
    state_ = State::kClosed;
    cooldown_ = {};
    return true;
  }
  // A call failed. Returns true when this opened the circuit.
  bool on_failure(Clock::time_point now, const BreakerPolicy& p) {
    ++consecutive_;
    if (state_ == State::kHalfOpen) {
      open(now, p, false);  // the probe failed: back off longer
      return true;
    }
    if (state_ == State::kClosed && consecutive_ >= p.failure_threshold) {
      open(now, p, true);
      return true;
    }
    return false;
  }
  // Opens at once, whatever the count (e.g. the provider refused our credentials).
  void trip(Clock::time_point now, const BreakerPolicy& p) {
    consecutive_ = std::max(consecutive_, p.failure_threshold);
    open(now, p, state_ == State::kClosed);
  }
  // A probe ended without a verdict (the caller left, or the error does not count): let the
  // next caller probe.
  void release_probe(Clock::time_point now) {
    if (state_ != State::kHalfOpen) return;
    state_ = State::kOpen;
    open_until_ = now;
  }
  // Keeps callers away until `until` without counting a failure (a 429 with a long Retry-After).
  void rest_until(Clock::time_point until) {
    if (state_ == State::kClosed) {
      state_ = State::kOpen;
      open_until_ = until;
    } else {
      open_until_ = std::max(open_until_, until);
      if (state_ == State::kHalfOpen) state_ = State::kOpen;
    }
  }

  State state() const { return state_; }
  bool is_open() const { return state_ != State::kClosed; }
  int consecutive_failures() const { return consecutive_; }
  Clock::time_point open_until() const { return open_until_; }

 private:
  void open(Clock::time_point now, const BreakerPolicy& p, bool first) {
    if (first || cooldown_.count() == 0)
      cooldown_ = p.cooldown;
    else
      cooldown_ = std::min(cooldown_ * 2, p.max_cooldown);
    state_ = State::kOpen;
    open_until_ = now + cooldown_;
  }

  State state_ = State::kClosed;
  int consecutive_ = 0;
  std::chrono::milliseconds cooldown_{0};
  Clock::time_point open_until_{};
};

}  // namespace anygpt::routing
