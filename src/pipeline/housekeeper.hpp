#pragma once

#include <chrono>
#include <condition_variable>
#include <mutex>
#include <string>
#include <thread>

#include "pipeline/gateway.hpp"

namespace anygpt::pipeline {

// The background thread for everything the request path must not do: persists keys.json
// (usage counters, new keys) every interval when something changed, on request, and once
// more at stop(); reloads tiers.json when it changed on disk (a bad edit keeps the previous
// tiers and is logged). Owns its thread.
class Housekeeper {
 public:
  Housekeeper(Gateway& gw, std::chrono::milliseconds interval);
  ~Housekeeper();
  void request();  // thread-safe: flush soon
  void stop();     // final flush, then join; idempotent

 private:
  void run();
  void flush_once();
  void reload_tiers_if_changed();

  Gateway& gw_;
  std::chrono::milliseconds interval_;
  std::mutex mu_;
  std::condition_variable cv_;
  bool stop_ = false;
  bool requested_ = false;
  std::string tiers_stamp_;  // mtime + size of tiers.json when last loaded
  std::thread thread_;
};

}  // namespace anygpt::pipeline
