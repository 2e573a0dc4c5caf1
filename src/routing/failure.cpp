#include "routing/failure.hpp"

#include <cctype>
#include <charconv>
#include <cmath>
#include <ctime>
#include <string>

namespace anygpt::routing {

Verdict classify_status(unsigned status, std::optional<std::chrono::milliseconds> retry_after, bool retried,
                        double jitter, const RetryPolicy& policy) {
  Verdict v;
  if (status < 400) {
    v.next = Next::kDone;
    v.outcome = Outcome::kSuccess;
    return v;
  }
  if (status == 401 || status == 402 || status == 403) {
    v.outcome = Outcome::kCredentials;
    return v;
  }
  if (status == 429) {
    if (retry_after && *retry_after <= policy.max_retry_after && !retried) {
      v.next = Next::kRetrySame;
      v.outcome = Outcome::kNeutral;
      v.wait = *retry_after;
      return v;
    }
    v.outcome = retry_after ? Outcome::kRateLimited : Outcome::kNeutral;
    v.rest = retry_after.value_or(std::chrono::milliseconds(0));
    return v;
  }
  if (status == 404) return v;
  if (status == 408 || status == 409 || status >= 500) {
    if (!retried) {
      v.next = Next::kRetrySame;
      auto span = policy.backoff_max - policy.backoff_min;
      v.wait = policy.backoff_min +
               std::chrono::milliseconds(static_cast<std::int64_t>(std::clamp(jitter, 0.0, 1.0) * span.count()));
    }
    return v;
  }
  v.next = Next::kRelay;
  v.outcome = Outcome::kNeutral;
  return v;
}

bool is_context_overflow(unsigned status, std::string_view body) {
  if (status != 400 && status != 413 && status != 422) return false;
  std::string text(body.substr(0, 8192));
  for (auto& ch : text) ch = static_cast<char>(std::tolower(static_cast<unsigned char>(ch)));
  for (std::string_view phrase :
       {"context_length_exceeded", "context_window_exceeded", "maximum context length", "context length",
        "context window", "prompt is too long", "exceeds the maximum number of tokens", "too many tokens",
        "input is too long", "reduce the length of the messages"})
    if (text.find(phrase) != std::string::npos) return true;
  return false;
}

Verdict classify_transport(const core::Error& error) {
  Verdict v;
  if (error.code == "cancelled") v.outcome = Outcome::kNeutral;
  return v;
}

std::optional<std::chrono::milliseconds> parse_retry_after(std::string_view value, std::int64_t now_epoch_s) {
  while (!value.empty() && value.front() == ' ') value.remove_prefix(1);
  while (!value.empty() && value.back() == ' ') value.remove_suffix(1);
  if (value.empty()) return std::nullopt;
  if (value.front() >= '0' && value.front() <= '9') {
    double seconds = 0;
    auto [end, ec] = std::from_chars(value.data(), value.data() + value.size(), seconds);
    if (ec != std::errc() || end != value.data() + value.size() || !std::isfinite(seconds) || seconds > 86400)
      return std::nullopt;
    return std::chrono::milliseconds(static_cast<std::int64_t>(seconds * 1000));
  }
  std::tm tm{};
  std::string text(value);
  const char* end = ::strptime(text.c_str(), "%a, %d %b %Y %H:%M:%S GMT", &tm);
  if (!end || *end != '\0') return std::nullopt;
  std::int64_t at = ::timegm(&tm);
  return std::chrono::milliseconds(std::max<std::int64_t>(0, at - now_epoch_s) * 1000);
}

}  // namespace anygpt::routing
