#include "pipeline/video_jobs.hpp"

namespace anygpt::pipeline {

void VideoJobs::remember(std::string id, std::string provider_id, const auth::Digest& key, Clock::time_point expires) {
  std::lock_guard lock(mu_);
  while (jobs_.size() >= kMaxJobs && !order_.empty()) {
    jobs_.erase(order_.front());
    order_.pop_front();
  }
  auto [it, added] = jobs_.insert_or_assign(id, Job{std::move(provider_id), key, expires});
  if (added) order_.push_back(std::move(id));
}

std::optional<std::string> VideoJobs::provider_for(std::string_view id, const auth::Digest& key,
                                                   Clock::time_point now) {
  std::lock_guard lock(mu_);
  auto it = jobs_.find(id);
  // (An expired job stays until the size cap pushes it out: each id is in order_ exactly once.)
  if (it == jobs_.end() || it->second.key != key || now >= it->second.expires) return std::nullopt;
  return it->second.provider_id;
}

}  // namespace anygpt::pipeline
