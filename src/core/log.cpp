#include "core/log.hpp"

#include "core/json_text.hpp"

#include <atomic>
#include <chrono>
#include <condition_variable>
#include <cstdio>
#include <ctime>
#include <deque>
#include <mutex>
#include <thread>

namespace anygpt::core {
namespace {

std::atomic<int> g_level{static_cast<int>(LogLevel::kInfo)};

const char* level_name(LogLevel level) {
  switch (level) {
    case LogLevel::kDebug: return "debug";
    case LogLevel::kInfo: return "info";
    case LogLevel::kWarn: return "warn";
    case LogLevel::kError: return "error";
    case LogLevel::kSilent: return "silent";
  }
  return "info";
}

// Single background writer: request threads only take a mutex and push a string.
class Writer {
 public:
  Writer() : thread_([this] { run(); }) {}
  ~Writer() {
    {
      std::lock_guard lock(mu_);
      stop_ = true;
    }
    cv_.notify_one();
    thread_.join();
  }
  void push(std::string line) {
    {
      std::lock_guard lock(mu_);
      queue_.push_back(std::move(line));
    }
    cv_.notify_one();
  }
  void flush() {
    std::unique_lock lock(mu_);
    drained_.wait(lock, [this] { return queue_.empty() && !writing_; });
    std::fflush(stderr);
  }

 private:
  void run() {
    std::unique_lock lock(mu_);
    for (;;) {
      cv_.wait(lock, [this] { return stop_ || !queue_.empty(); });
      if (queue_.empty() && stop_) return;
      std::deque<std::string> batch;
      batch.swap(queue_);
      writing_ = true;
      lock.unlock();
      for (auto& l : batch) std::fwrite(l.data(), 1, l.size(), stderr);
      std::fflush(stderr);
      lock.lock();
      writing_ = false;
      drained_.notify_all();
    }
  }

  std::mutex mu_;
  std::condition_variable cv_;
  std::condition_variable drained_;
  std::deque<std::string> queue_;
  bool stop_ = false;
  bool writing_ = false;
  std::thread thread_;
};

Writer& writer() {
  static Writer w;
  return w;
}

}  // namespace

void set_log_level(LogLevel level) {
  g_level.store(static_cast<int>(level));
}

bool log_enabled(LogLevel level) {
  return level != LogLevel::kSilent && static_cast<int>(level) >= g_level.load(std::memory_order_relaxed);
}

void log(LogLevel level, std::string_view message, std::string_view fields_json) {
  if (!log_enabled(level)) return;
  auto now = std::chrono::system_clock::now();
  auto ms = std::chrono::duration_cast<std::chrono::milliseconds>(now.time_since_epoch()).count();
  std::time_t secs = static_cast<std::time_t>(ms / 1000);
  std::tm tm{};
  gmtime_r(&secs, &tm);
  char ts[64];
  std::snprintf(ts, sizeof ts, "%04d-%02d-%02dT%02d:%02d:%02d.%03dZ", tm.tm_year + 1900, tm.tm_mon + 1, tm.tm_mday,
                tm.tm_hour, tm.tm_min, tm.tm_sec, static_cast<int>(ms % 1000));
  std::string line;
  line.reserve(96 + message.size() + fields_json.size());
  line += "{\"ts\":\"";
  line += ts;
  line += "\",\"level\":\"";
  line += level_name(level);
  line += "\",\"msg\":";
  append_json_string(line, message);
  if (!fields_json.empty()) {
    line += ',';
    line += fields_json;
  }
  line += "}\n";
  writer().push(std::move(line));
}

void flush_log() {
  writer().flush();
}

}  // namespace anygpt::core
