#include "core/watchdog.hpp"

namespace anygpt::core {

Watch::~Watch() {
  disarm();
}

void Watch::disarm() {
  if (owner_) owner_->unlink(*this);
}

void Watchdog::arm(Watch& w) {
  if (w.owner_ == this) return;
  w.disarm();
  w.owner_ = this;
  w.prev_ = nullptr;
  w.next_ = head_;
  if (head_) head_->prev_ = &w;
  head_ = &w;
}

void Watchdog::unlink(Watch& w) {
  if (cursor_ == &w) cursor_ = w.next_;
  if (w.prev_)
    w.prev_->next_ = w.next_;
  else
    head_ = w.next_;
  if (w.next_) w.next_->prev_ = w.prev_;
  w.owner_ = nullptr;
  w.prev_ = w.next_ = nullptr;
}

void Watchdog::tick(SteadyClock::time_point now) {
  cursor_ = head_;
  while (cursor_) {
    Watch* w = cursor_;
    cursor_ = w->next_;
    w->on_tick(now);  // may unlink w or others; cursor_ is kept valid by unlink()
  }
}

Watchdog& Watchdog::for_this_thread() {
  thread_local Watchdog dog;
  return dog;
}

void DeadlineWatch::arm(Watchdog& dog, SteadyClock::time_point deadline) {
  deadline_ = deadline;
  fired_ = false;
  dog.arm(*this);
}

void DeadlineWatch::on_tick(SteadyClock::time_point now) {
  if (now < deadline_) return;
  fired_ = true;
  disarm();
  on_deadline();
}

}  // namespace anygpt::core
