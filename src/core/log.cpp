#include "core/log.hpp"

#include "core/json_text.hpp"

#include <sys/stat.h>
#include <atomic>
#include <chrono>
#include <condition_variable>
#include <cstdio>
#include <ctime>
#include <deque>
#include <mutex>
#include <string>
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
    if (error_file_) std::fclose(error_file_);
  }
  void push(std::string line, bool to_error_log = false) {
    {
      std::lock_guard lock(mu_);
      if (to_error_log && error_path_.empty()) return;
      queue_.push_back({std::move(line), to_error_log});
    }
    cv_.notify_one();
  }
  void set_error_log(std::string path, std::int64_t max_bytes) {
    std::lock_guard lock(mu_);
    error_path_ = std::move(path);
    error_max_ = max_bytes;
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
      std::deque<Entry> batch;
      batch.swap(queue_);
      writing_ = true;
      std::string error_path = error_path_;
      lock.unlock();
      for (auto& e : batch) {
        if (e.to_error_log)
          append_error(error_path, e.line);
        else
          std::fwrite(e.line.data(), 1, e.line.size(), stderr);
      }
      std::fflush(stderr);
      if (error_file_) std::fflush(error_file_);
      lock.lock();
      writing_ = false;
      drained_.notify_all();
    }
  }

  // Writer thread only: the open error log and its size.
  void append_error(const std::string& path, const std::string& line) {
    if (!error_file_) {
      ::mkdir(path.substr(0, path.rfind('/')).c_str(), 0755);
      error_file_ = std::fopen(path.c_str(), "a");
      if (!error_file_) return;
      struct stat st {};
      error_size_ = ::stat(path.c_str(), &st) == 0 ? st.st_size : 0;
    }
    if (error_size_ > 0 && error_size_ + static_cast<std::int64_t>(line.size()) > error_max_) {
      std::fclose(error_file_);
      std::rename(path.c_str(), (path + ".1").c_str());
      error_file_ = std::fopen(path.c_str(), "a");
      error_size_ = 0;
      if (!error_file_) return;
    }
    std::fwrite(line.data(), 1, line.size(), error_file_);
    error_size_ += static_cast<std::int64_t>(line.size());
  }

  struct Entry {
    std::string line;
    bool to_error_log;
  };
  std::mutex mu_;
  std::condition_variable cv_;
  std::condition_variable drained_;
  std::deque<Entry> queue_;
  std::string error_path_;
  std::int64_t error_max_ = 10 * 1024 * 1024;
  std::FILE* error_file_ = nullptr;
  std::int64_t error_size_ = 0;
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

void set_error_log(std::string path, std::int64_t max_bytes) {
  writer().set_error_log(std::move(path), max_bytes);
}

void error_log(std::string json_line) {
  json_line += '\n';
  writer().push(std::move(json_line), true);
}

}  // namespace anygpt::core
