// routing/ema: exponentially-weighted moving averages for irregular observations.
#pragma once

#include <chrono>
#include <cmath>
#include <optional>

namespace anygpt::routing {

using Clock = std::chrono::steady_clock;

// How fast the past fades. An observation after a gap dt gets the weight
//   alpha = 1 - 2^-(dt / half_life + 1 / half_count)
// so history halves every `half_life` of time *or* every `half_count` observations, whichever
// comes first: a burst of a thousand requests in one second moves the average by what the
// burst says (the count term) without a single request erasing it, and a quiet period lets a
// new observation count for more (the time term).
struct EmaPolicy {
  std::chrono::milliseconds half_life{60000};
  double half_count = 10;
};

// Not thread-safe: guarded by its owner.
class Ema {
 public:
  void add(double x, Clock::time_point now, const EmaPolicy& p) {
    if (!has_) {
      value_ = x;
      has_ = true;
    } else {
      double dt = std::chrono::duration<double, std::milli>(now - last_).count();
      if (dt < 0) dt = 0;
      double exponent = dt / static_cast<double>(p.half_life.count()) + 1.0 / p.half_count;
      double alpha = 1.0 - std::exp2(-exponent);
      value_ += alpha * (x - value_);
    }
    last_ = now;
  }
  std::optional<double> value() const { return has_ ? std::optional<double>(value_) : std::nullopt; }
  // The value faded toward zero for the time since the last observation: for rates of bad
  // events, so an old failure stops counting against a provider that was not used since.
  double decayed(Clock::time_point now, const EmaPolicy& p) const {
    if (!has_) return 0;
    double dt = std::chrono::duration<double, std::milli>(now - last_).count();
    if (dt <= 0) return value_;
    return value_ * std::exp2(-dt / static_cast<double>(p.half_life.count()));
  }
  void scale(double factor) { value_ *= factor; }
  void seed(double x, Clock::time_point now) {
    value_ = x;
    has_ = true;
    last_ = now;
  }

 private:
  double value_ = 0;
  bool has_ = false;
  Clock::time_point last_{};
};

}  // namespace anygpt::routing
