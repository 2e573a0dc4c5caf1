// pipeline/video_jobs: which provider created each video generation job, so that its polls
// (GET /v1/videos/{id}) go to that provider, and whose key created it (another key's poll is a
// 404). Entries live VIDEO_REQUEST_CACHE_TTL_MS; at most kMaxJobs are kept (the oldest go
// first). In memory, per instance. Thread-safe.
#pragma once

#include <chrono>
#include <deque>
#include <map>
#include <mutex>
#include <optional>
#include <string>
#include <string_view>

#include "auth/key_registry.hpp"

namespace anygpt::pipeline {

class VideoJobs {
 public:
  using Clock = std::chrono::steady_clock;
  static constexpr std::size_t kMaxJobs = 100000;

  void remember(std::string id, std::string provider_id, const auth::Digest& key, Clock::time_point expires);
  // The provider that created job `id` for this key, while it is remembered.
  std::optional<std::string> provider_for(std::string_view id, const auth::Digest& key, Clock::time_point now);

 private:
  struct Job {
    std::string provider_id;
    auth::Digest key;
    Clock::time_point expires;
  };
  std::mutex mu_;
  std::map<std::string, Job, std::less<>> jobs_;
  std::deque<std::string> order_;  // ids oldest first (for the size cap)
};

}  // namespace anygpt::pipeline
