#include "mock/mock_config.hpp"

#include <algorithm>
#include <boost/asio/ip/address.hpp>
#include <boost/json/parse.hpp>
#include <boost/json/value.hpp>
#include <cctype>
#include <cerrno>
#include <cmath>
#include <cstdlib>
#include <optional>

#include "mock/json_text.hpp"

namespace anygpt::mock {
namespace json = boost::json;
using core::ErrorKind;

namespace {

core::Error env_error(std::string_view name, std::string_view expected, std::string_view got) {
  return core::make_error(ErrorKind::kInvalidRequest, std::string(name) + ": expected " + std::string(expected) +
                                                          ", got '" + std::string(got) + "'");
}

std::optional<double> parse_number(const std::string& text) {
  if (text.empty()) return std::nullopt;
  char* end = nullptr;
  errno = 0;
  double v = std::strtod(text.c_str(), &end);
  if (errno != 0 || end != text.c_str() + text.size() || !std::isfinite(v)) return std::nullopt;
  return v;
}

std::optional<bool> parse_bool(std::string text) {
  std::transform(text.begin(), text.end(), text.begin(), [](unsigned char c) { return std::tolower(c); });
  if (text == "true" || text == "1" || text == "yes" || text == "on") return true;
  if (text == "false" || text == "0" || text == "no" || text == "off" || text.empty()) return false;
  return std::nullopt;
}

// Reads one numeric variable into `out` when set; checks lo <= v <= hi (and integrality).
std::optional<core::Error> read_number(const EnvLookup& lookup, std::string_view name, double lo, double hi,
                                       bool integer, std::string_view expected, double& out) {
  auto raw = lookup(name);
  if (!raw) return std::nullopt;
  auto v = parse_number(*raw);
  if (!v || *v < lo || *v > hi || (integer && std::floor(*v) != *v)) return env_error(name, expected, *raw);
  out = *v;
  return std::nullopt;
}

}  // namespace

core::Result<MockEnv> load_env(const EnvLookup& lookup) {
  MockEnv env;
  if (auto host = lookup("MOCK_HOST")) {
    boost::system::error_code ec;
    env.host = *host == "localhost" ? "127.0.0.1" : *host;
    boost::asio::ip::make_address(env.host, ec);
    if (ec) return env_error("MOCK_HOST", "an IP address (or localhost)", *host);
  }
  double port = env.port;
  double threads = env.threads;
  double stream_chunks = 0;
  auto& c = env.config;
  struct Spec {
    std::string_view name;
    double lo, hi;
    bool integer;
    std::string_view expected;
    double* out;
  };
  const Spec specs[] = {
      {"MOCK_PROVIDER_PORT", 0, 65535, true, "a port number 0-65535", &port},
      {"MOCK_THREADS", 1, 256, true, "an integer 1-256", &threads},
      {"MOCK_BASE_DELAY", 0, 1e9, false, "milliseconds >= 0", &c.base_delay_ms},
      {"MOCK_DELAY_VARIANCE", 0, 1e9, false, "milliseconds >= 0", &c.delay_variance_ms},
      {"MOCK_ERROR_RATE", 0, 1, false, "a number between 0 and 1", &c.error_rate},
      {"MOCK_TIMEOUT_RATE", 0, 1, false, "a number between 0 and 1", &c.timeout_rate},
      {"MOCK_SLOW_RATE", 0, 1, false, "a number between 0 and 1", &c.slow_rate},
      {"MOCK_SLOW_DELAY", 0, 1e9, false, "milliseconds >= 0", &c.slow_delay_ms},
      {"MOCK_TOKEN_SPEED", 0, 1e9, false, "tokens per second >= 0", &c.token_speed},
      {"MOCK_STREAM_CHUNKS", 0, 1e6, true, "an integer >= 0", &stream_chunks},
      {"MOCK_CHUNK_INTERVAL", 0, 1e9, false, "milliseconds >= 0", &c.chunk_interval_ms},
      {"MOCK_SPEECH_BYTES_PER_CHAR", 1, 65536, true, "an integer 1-65536", &c.speech_bytes_per_char},
  };
  for (const auto& s : specs)
    if (auto err = read_number(lookup, s.name, s.lo, s.hi, s.integer, s.expected, *s.out)) return *err;
  env.port = static_cast<std::uint16_t>(port);
  env.threads = static_cast<int>(threads);
  c.stream_chunks = static_cast<std::int64_t>(stream_chunks);
  if (auto raw = lookup("MOCK_ENABLE_LOGS")) {
    auto b = parse_bool(*raw);
    if (!b) return env_error("MOCK_ENABLE_LOGS", "true or false", *raw);
    c.enable_logs = *b;
  }
  return env;
}

std::string config_json(const MockConfig& c) {
  struct Number {
    std::string_view key;
    double value;
  };
  const Number numbers[] = {
      {"baseDelay", c.base_delay_ms}, {"delayVariance", c.delay_variance_ms},
      {"errorRate", c.error_rate},    {"timeoutRate", c.timeout_rate},
      {"slowRate", c.slow_rate},      {"slowDelay", c.slow_delay_ms},
      {"tokenSpeed", c.token_speed},
  };
  std::string out;
  out.reserve(192);
  out += '{';
  for (const auto& n : numbers) {
    append_key(out, n.key);
    append_double(out, n.value);
    out += ',';
  }
  append_key(out, "enableLogs");
  out += c.enable_logs ? "true" : "false";
  out += ',';
  append_key(out, "streamChunks");
  append_int(out, c.stream_chunks);
  out += ',';
  append_key(out, "chunkIntervalMs");
  append_double(out, c.chunk_interval_ms);
  out += '}';
  return out;
}

core::Result<MockConfig> apply_config_patch(MockConfig base, std::string_view body) {
  boost::system::error_code ec;
  auto doc = json::parse(json::string_view(body.data(), body.size()), ec);
  if (ec || !doc.is_object())
    return core::make_error(ErrorKind::kInvalidRequest, "The body must be a JSON object of config fields", {},
                            "invalid_json");
  const auto& o = doc.get_object();
  struct NumberField {
    std::string_view key;
    double lo, hi;
    double* out;
  };
  double stream_chunks = static_cast<double>(base.stream_chunks);
  const NumberField numbers[] = {
      {"baseDelay", 0, 1e9, &base.base_delay_ms},
      {"delayVariance", 0, 1e9, &base.delay_variance_ms},
      {"errorRate", 0, 1, &base.error_rate},
      {"timeoutRate", 0, 1, &base.timeout_rate},
      {"slowRate", 0, 1, &base.slow_rate},
      {"slowDelay", 0, 1e9, &base.slow_delay_ms},
      {"tokenSpeed", 0, 1e9, &base.token_speed},
      {"streamChunks", 0, 1e6, &stream_chunks},
      {"chunkIntervalMs", 0, 1e9, &base.chunk_interval_ms},
  };
  for (const auto& f : numbers) {
    const auto* v = o.if_contains(json::string_view(f.key.data(), f.key.size()));
    if (!v) continue;
    if (!v->is_number())
      return core::make_error(ErrorKind::kInvalidRequest, std::string(f.key) + " must be a number", std::string(f.key));
    *f.out = std::clamp(v->to_number<double>(), f.lo, f.hi);
  }
  base.stream_chunks = static_cast<std::int64_t>(stream_chunks);
  if (const auto* v = o.if_contains("enableLogs")) {
    if (!v->is_bool())
      return core::make_error(ErrorKind::kInvalidRequest, "enableLogs must be a boolean", "enableLogs");
    base.enable_logs = v->get_bool();
  }
  return base;
}

std::chrono::microseconds chunk_interval(const MockConfig& c) {
  double us = 0;
  if (c.chunk_interval_ms > 0) {
    us = c.chunk_interval_ms * 1000.0;
  } else if (c.token_speed > 0) {
    us = 1e6 / c.token_speed;
  }
  return std::chrono::microseconds(static_cast<std::int64_t>(us));
}

}  // namespace anygpt::mock
