#pragma once

#include <chrono>
#include <condition_variable>
#include <mutex>
#include <thread>

#include "pipeline/gateway.hpp"

namespace anygpt::pipeline {

// Background writer: persists keys.json (usage counters, new keys) every interval when
// something changed, on request, and once more at stop(). Owns its thread; the request
// path never writes files.
class Flusher {
 public:
  Flusher(Gateway& gw, std::chrono::milliseconds interval);
  ~Flusher();
  void request();  // thread-safe: flush soon
  void stop();     // final flush, then join; idempotent

 private:
  void run();
  void flush_once();

  Gateway& gw_;
  std::chrono::milliseconds interval_;
  std::mutex mu_;
  std::condition_variable cv_;
  bool stop_ = false;
  bool requested_ = false;
  std::thread thread_;
};

}  // namespace anygpt::pipeline
