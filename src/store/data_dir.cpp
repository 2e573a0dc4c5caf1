#include "store/data_dir.hpp"

#include <fcntl.h>
#include <unistd.h>

#include <boost/json.hpp>
#include <cerrno>
#include <cstring>
#include <fstream>
#include <random>
#include <sstream>

#include "config/data_files.hpp"

namespace anygpt::store {
namespace json = boost::json;
using core::ErrorKind;
using core::make_error;

std::string DataDir::file(std::string_view name) const {
  std::string p = dir_;
  if (!p.empty() && p.back() != '/') p += '/';
  p += name;
  return p;
}

core::Result<json::value> DataDir::load_or_create(std::string_view name, std::string_view default_text) const {
  std::string path = file(name);
  if (::access(path.c_str(), F_OK) != 0 && errno == ENOENT) {
    if (auto err = write_atomic(name, default_text)) return *err;
    return config::parse_json_document(path, default_text);
  }
  return load(name);
}

core::Result<json::value> DataDir::load(std::string_view name) const {
  std::string path = file(name);
  std::ifstream in(path, std::ios::binary);
  if (!in) return make_error(ErrorKind::kInternal, path + ": cannot read: " + std::strerror(errno));
  std::stringstream ss;
  ss << in.rdbuf();
  return config::parse_json_document(path, ss.str());
}

std::optional<core::Error> DataDir::write_atomic(std::string_view name, std::string_view content) const {
  std::string path = file(name);
  thread_local std::mt19937_64 rng{std::random_device{}()};
  std::string tmp = path + ".tmp." + std::to_string(::getpid()) + "." + std::to_string(rng() % 1000000);
  auto fail = [&](const char* step) {
    std::string msg = path + ": " + step + " failed: " + std::strerror(errno);
    ::unlink(tmp.c_str());
    return make_error(ErrorKind::kInternal, msg);
  };
  int fd = ::open(tmp.c_str(), O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0600);
  if (fd < 0) return fail("create temp file");
  std::size_t off = 0;
  while (off < content.size()) {
    ssize_t n = ::write(fd, content.data() + off, content.size() - off);
    if (n < 0) {
      if (errno == EINTR) continue;
      ::close(fd);
      return fail("write");
    }
    off += static_cast<std::size_t>(n);
  }
  if (::fsync(fd) != 0) {
    ::close(fd);
    return fail("fsync");
  }
  if (::close(fd) != 0) return fail("close");
  if (::rename(tmp.c_str(), path.c_str()) != 0) return fail("rename");
  int dfd = ::open(dir_.empty() ? "." : dir_.c_str(), O_RDONLY | O_DIRECTORY | O_CLOEXEC);
  if (dfd >= 0) {
    ::fsync(dfd);
    ::close(dfd);
  }
  return std::nullopt;
}

namespace {
void pretty(std::string& out, const json::value& v, int indent) {
  auto pad = [&](int n) { out.append(static_cast<std::size_t>(n) * 2, ' '); };
  switch (v.kind()) {
    case json::kind::object: {
      const auto& o = v.get_object();
      if (o.empty()) {
        out += "{}";
        return;
      }
      out += "{\n";
      bool first = true;
      for (const auto& kv : o) {
        if (!first) out += ",\n";
        first = false;
        pad(indent + 1);
        out += json::serialize(json::value(kv.key()));
        out += ": ";
        pretty(out, kv.value(), indent + 1);
      }
      out += '\n';
      pad(indent);
      out += '}';
      return;
    }
    case json::kind::array: {
      const auto& a = v.get_array();
      if (a.empty()) {
        out += "[]";
        return;
      }
      out += "[\n";
      bool first = true;
      for (const auto& e : a) {
        if (!first) out += ",\n";
        first = false;
        pad(indent + 1);
        pretty(out, e, indent + 1);
      }
      out += '\n';
      pad(indent);
      out += ']';
      return;
    }
    default: out += json::serialize(v);
  }
}
}  // namespace

std::string pretty_json(const json::value& v) {
  std::string out;
  pretty(out, v, 0);
  out += '\n';
  return out;
}

}  // namespace anygpt::store
