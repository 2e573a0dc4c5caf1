#include "pipeline/flusher.hpp"

#include "core/log.hpp"

namespace anygpt::pipeline {

Flusher::Flusher(Gateway& gw, std::chrono::milliseconds interval)
    : gw_(gw), interval_(interval), thread_([this] { run(); }) {}

Flusher::~Flusher() {
  stop();
}

void Flusher::request() {
  {
    std::lock_guard lock(mu_);
    requested_ = true;
  }
  cv_.notify_one();
}

void Flusher::stop() {
  {
    std::lock_guard lock(mu_);
    if (stop_ && !thread_.joinable()) return;
    stop_ = true;
  }
  cv_.notify_one();
  if (thread_.joinable()) thread_.join();
}

void Flusher::run() {
  std::unique_lock lock(mu_);
  for (;;) {
    cv_.wait_for(lock, interval_, [this] { return stop_ || requested_; });
    bool stopping = stop_;
    requested_ = false;
    lock.unlock();
    flush_once();
    lock.lock();
    if (stopping) return;
  }
}

void Flusher::flush_once() {
  if (!gw_.keys->take_dirty()) return;
  auto doc = config::keys_to_json(gw_.keys->records());
  if (auto err = gw_.data_dir.write_atomic("keys.json", store::pretty_json(doc))) {
    core::log(core::LogLevel::kError, "keys.json flush failed; will retry: " + err->message);
    // Mark dirty again so the next round retries.
    gw_.keys->mark_dirty();
  }
}

}  // namespace anygpt::pipeline
