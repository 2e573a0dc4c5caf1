#pragma once

#include <cstdint>
#include <string>
#include <string_view>

namespace anygpt::core {

enum class LogLevel { kDebug = 0, kInfo, kWarn, kError, kSilent };

// Process-wide logger. log() formats a JSON line and hands it to a background writer thread,
// so request threads never block on stderr. Thread-safe. flush_log() drains the queue
// (called at shutdown).
void set_log_level(LogLevel level);
bool log_enabled(LogLevel level);
void log(LogLevel level, std::string_view message, std::string_view fields_json = {});
void flush_log();

// The error log: JSON lines (one per failed request) appended to `path` by the same background
// writer, rotated to `path` + ".1" once it passes `max_bytes`. Lines are dropped until set.
void set_error_log(std::string path, std::int64_t max_bytes);
void error_log(std::string json_line);  // REQUIRES: one JSON object, no newline

}  // namespace anygpt::core
