// core: per-thread deadline and liveness checks driven by one periodic tick.
#pragma once

#include <chrono>

namespace anygpt::core {

using SteadyClock = std::chrono::steady_clock;

class Watchdog;

// Something the watchdog looks at on every tick while it is armed: a deadline, a socket to
// probe. Embedded in the object it watches (no allocation); disarmed by its destructor.
class Watch {
 public:
  Watch() = default;
  Watch(const Watch&) = delete;
  Watch& operator=(const Watch&) = delete;
  virtual ~Watch();

  void disarm();

 protected:
  // Called on the watchdog's thread at each tick while armed. May disarm itself.
  virtual void on_tick(SteadyClock::time_point now) = 0;

 private:
  friend class Watchdog;
  Watchdog* owner_ = nullptr;
  Watch* prev_ = nullptr;
  Watch* next_ = nullptr;
};

// Calls back when a deadline passes; resolution is the watchdog's tick interval.
class DeadlineWatch : public Watch {
 public:
  void arm(Watchdog& dog, SteadyClock::time_point deadline);
  bool fired() const { return fired_; }

 protected:
  virtual void on_deadline() = 0;

 private:
  void on_tick(SteadyClock::time_point now) final;
  SteadyClock::time_point deadline_{};
  bool fired_ = false;
};

// The armed watches of one event-loop thread. Arming, disarming and ticking are O(1) per
// watch and make no system call, unlike one timer per operation. Not thread-safe: one per
// thread, reached through for_this_thread().
class Watchdog {
 public:
  void arm(Watch& w);
  void tick(SteadyClock::time_point now);

  static Watchdog& for_this_thread();

 private:
  friend class Watch;
  void unlink(Watch& w);
  Watch* head_ = nullptr;
  Watch* cursor_ = nullptr;  // next watch to visit during tick() (survives unlinks)
};

// How often each event-loop thread ticks its watchdog: the resolution of every timeout.
inline constexpr std::chrono::milliseconds kWatchdogTick{25};

}  // namespace anygpt::core
