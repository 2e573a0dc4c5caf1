#pragma once

#include <chrono>
#include <condition_variable>
#include <mutex>
#include <string>
#include <thread>

#include "pipeline/gateway.hpp"

namespace anygpt::pipeline {

// The background thread for everything the request path must not do. Every interval:
// persists keys.json (usage counters, new keys) when something changed; writes provider health
// into providers.json (the original's stats fields) when it changed; reloads tiers.json and
// excluded-errors.json when they changed on disk (a bad edit keeps the previous version and is
// logged). Every `models_interval` (and on request): re-reads models.json when it changed and
// refreshes its provider counts. Once more at stop(). Owns its thread.
class Housekeeper {
 public:
  Housekeeper(Gateway& gw, std::chrono::milliseconds interval, std::chrono::milliseconds models_interval);
  ~Housekeeper();
  void request();         // thread-safe: flush soon
  void request_models();  // thread-safe: refresh models.json soon
  void stop();            // final flush, then join; idempotent

 private:
  void run();
  void flush_keys();
  void flush_stats();
  void reload_tiers_if_changed();
  void reload_excluded_if_changed();
  void refresh_models();

  Gateway& gw_;
  std::chrono::milliseconds interval_, models_interval_;
  std::mutex mu_;
  std::condition_variable cv_;
  bool stop_ = false;
  bool requested_ = false;
  bool models_requested_ = false;
  std::string tiers_stamp_, excluded_stamp_, models_stamp_;  // mtime + size when last loaded
  std::chrono::steady_clock::time_point next_models_;
  std::thread thread_;
};

}  // namespace anygpt::pipeline
