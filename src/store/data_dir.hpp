// store: persistence. DataDir reads and atomically writes AnyGPT's data files in one directory.
#pragma once

#include <boost/json/value.hpp>
#include <optional>
#include <string>
#include <string_view>

#include "core/error.hpp"

namespace anygpt::store {

// Owns one data directory. Thread-safe (stateless apart from the path); callers must not
// call it on an event-loop thread: it does blocking file I/O.
class DataDir {
 public:
  explicit DataDir(std::string dir) : dir_(std::move(dir)) {}

  const std::string& path() const { return dir_; }
  std::string file(std::string_view name) const;

  // Parses `name`; creates it with `default_text` if it does not exist. A corrupt file is
  // never touched: the error names the file and the position of the JSON error.
  core::Result<boost::json::value> load_or_create(std::string_view name, std::string_view default_text) const;

  // Parses `name`, which must exist (for reloads: a missing file is an error, not a default).
  core::Result<boost::json::value> load(std::string_view name) const;

  // Writes `content` to `name` atomically: temp file, fsync, rename, fsync of the directory.
  // On failure the previous file is intact.
  std::optional<core::Error> write_atomic(std::string_view name, std::string_view content) const;

 private:
  std::string dir_;
};

// Two-space indented JSON, like the original's files.
std::string pretty_json(const boost::json::value& v);

}  // namespace anygpt::store
