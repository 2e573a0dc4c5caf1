// routing/stats: a plain snapshot of provider health as the original's providers.json stores
// it. Built by routing::HealthBoard off the request path; written back by provider_stats.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <vector>

namespace anygpt::routing {

// One successful upstream call, as a `response_times` entry (never the caller's key).
struct ResponseSample {
  std::int64_t timestamp_ms = 0;  // epoch ms
  double response_time_ms = 0;
  std::int64_t input_tokens = 0;
  std::int64_t output_tokens = 0;
  std::optional<double> provider_latency_ms;  // time to first byte
  std::optional<double> observed_speed_tps;
};

struct ModelStats {
  std::string model_id;
  std::vector<ResponseSample> samples;  // oldest first, at most the window
  std::int64_t errors = 0;              // counted failures since start (decayed view is the score)
  std::int64_t consecutive_errors = 0;
  std::optional<double> avg_response_time, avg_provider_latency, avg_token_speed;  // EMAs, ms / tokens/s
  bool disabled = false;                                                           // circuit open
};

struct ProviderStats {
  std::string provider_id;
  std::vector<ModelStats> models;
  std::optional<double> avg_response_time, avg_provider_latency;
  std::int64_t errors = 0;
  std::optional<double> score;  // 0-100; nullopt when never observed
  bool disabled = false;        // provider circuit open
};

}  // namespace anygpt::routing
