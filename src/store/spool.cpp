#include "store/spool.hpp"

#include <fcntl.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>

namespace anygpt::store {

Spool::Spool(std::string dir, std::size_t memory_limit) : dir_(std::move(dir)), memory_limit_(memory_limit) {}

Spool::~Spool() {
  if (fd_ >= 0) ::close(fd_);
}

std::optional<core::Error> Spool::storage_error(const std::string& what, int err) {
  failed_ = true;
  return core::make_error(
      core::ErrorKind::kInsufficientStorage,
      "Cannot keep the upload: " + what + " in the spool directory " + dir_ + ": " + std::strerror(err), {},
      "upload_spool_failed");
}

namespace {
// An unlinked temporary file in `dir` (O_TMPFILE where the file system has it), or -1 with errno.
int temporary_file(const std::string& dir) {
  int fd = ::open(dir.c_str(), O_TMPFILE | O_RDWR | O_CLOEXEC, 0600);
  if (fd >= 0 || (errno != EOPNOTSUPP && errno != EISDIR && errno != EINVAL)) return fd;
  std::string path = dir + "/anygpt-upload-XXXXXX";
  fd = ::mkostemp(path.data(), O_CLOEXEC);
  if (fd >= 0) ::unlink(path.c_str());
  return fd;
}

bool write_all(int fd, const char* data, std::size_t n) {
  while (n > 0) {
    ssize_t w = ::write(fd, data, n);
    if (w < 0 && errno == EINTR) continue;
    if (w <= 0) return false;
    data += w;
    n -= static_cast<std::size_t>(w);
  }
  return true;
}
}  // namespace

std::optional<core::Error> Spool::append(std::string_view bytes) {
  if (failed_) return storage_error("an earlier write failed", EIO);
  if (fits_in_memory(bytes.size())) {
    memory_.append(bytes.data(), bytes.size());
    size_ += bytes.size();
    return std::nullopt;
  }
  if (fd_ < 0) {
    fd_ = temporary_file(dir_);
    if (fd_ < 0) return storage_error("cannot create a file", errno);
    if (!write_all(fd_, memory_.data(), memory_.size())) return storage_error("cannot write", errno);
    std::string().swap(memory_);
  }
  if (!write_all(fd_, bytes.data(), bytes.size())) return storage_error("cannot write", errno);
  size_ += bytes.size();
  return std::nullopt;
}

core::Result<std::size_t> Spool::read_at(std::uint64_t offset, char* out, std::size_t n) const {
  if (offset >= size_) return std::size_t{0};
  n = static_cast<std::size_t>(std::min<std::uint64_t>(n, size_ - offset));
  if (fd_ < 0) {
    std::memcpy(out, memory_.data() + offset, n);
    return n;
  }
  for (;;) {
    ssize_t r = ::pread(fd_, out, n, static_cast<off_t>(offset));
    if (r < 0 && errno == EINTR) continue;
    if (r <= 0)
      return core::make_error(core::ErrorKind::kInsufficientStorage,
                              std::string("Cannot read the upload back from the spool: ") +
                                  (r < 0 ? std::strerror(errno) : "file shorter than written"),
                              {}, "upload_spool_failed");
    return static_cast<std::size_t>(r);
  }
}

std::string_view Spool::memory_at(std::uint64_t offset) const {
  if (fd_ >= 0 || offset >= memory_.size()) return {};
  return std::string_view(memory_).substr(static_cast<std::size_t>(offset));
}

}  // namespace anygpt::store
