// store/spool: a request body kept so it can be sent (and resent) after it was read: in memory
// up to a limit, beyond it in an unlinked temporary file (nothing to clean up, even after a
// crash). Synchronous and blocking once in a file: callers run file operations off the event
// loop (see in_file() / fits_in_memory()). One request's; not thread-safe.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

#include "core/error.hpp"

namespace anygpt::store {

class Spool {
 public:
  static constexpr std::size_t kMemoryBytes = 256 * 1024;

  // `dir`: where the temporary file goes once the body outgrows `memory_limit`.
  explicit Spool(std::string dir, std::size_t memory_limit = kMemoryBytes);
  ~Spool();
  Spool(const Spool&) = delete;
  Spool& operator=(const Spool&) = delete;

  // True when appending `n` more bytes stays in memory (no file I/O).
  bool fits_in_memory(std::size_t n) const { return fd_ < 0 && memory_.size() + n <= memory_limit_; }
  bool in_file() const { return fd_ >= 0; }
  std::uint64_t size() const { return size_; }

  // kInsufficientStorage naming the directory when the file cannot be created or written
  // (a full disk); the spool is then unusable.
  std::optional<core::Error> append(std::string_view bytes);
  // Up to `n` bytes at `offset` into `out`; the count read (0 at the end).
  core::Result<std::size_t> read_at(std::uint64_t offset, char* out, std::size_t n) const;
  // The bytes at `offset` without a copy, while the spool is in memory (else empty).
  std::string_view memory_at(std::uint64_t offset) const;

 private:
  std::optional<core::Error> storage_error(const std::string& what, int err);

  std::string dir_;
  std::size_t memory_limit_;
  std::string memory_;
  int fd_ = -1;
  std::uint64_t size_ = 0;
  bool failed_ = false;
};

}  // namespace anygpt::store
