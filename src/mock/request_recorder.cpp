#include "mock/request_recorder.hpp"

#include <boost/json/parse.hpp>
#include <boost/json/serialize.hpp>
#include <boost/json/value.hpp>

#include "mock/json_text.hpp"

namespace anygpt::mock {
namespace json = boost::json;

namespace {

// `s` with each invalid UTF-8 byte replaced by U+FFFD (JSON text must be UTF-8).
std::string valid_utf8(std::string_view s) {
  std::string out;
  out.reserve(s.size());
  for (std::size_t i = 0; i < s.size();) {
    auto c = static_cast<unsigned char>(s[i]);
    std::size_t len = c < 0x80 ? 1 : (c >> 5) == 0x6 ? 2 : (c >> 4) == 0xE ? 3 : (c >> 3) == 0x1E ? 4 : 0;
    bool ok = len > 0 && i + len <= s.size();
    for (std::size_t k = 1; ok && k < len; ++k) ok = (static_cast<unsigned char>(s[i + k]) & 0xC0) == 0x80;
    if (ok) {
      out.append(s.data() + i, len);
      i += len;
    } else {
      out += "\xEF\xBF\xBD";
      ++i;
    }
  }
  return out;
}

}  // namespace

void RequestRecorder::record(RecordedRequest request) {
  std::lock_guard lock(mu_);
  ++total_;
  if (!request.model.empty()) {
    auto it = counts_.find(request.model);
    if (it == counts_.end()) {
      counts_.emplace(request.model, 1);
    } else {
      ++it->second;
    }
  }
  if (records_.size() == kMaxRecords) records_.pop_front();
  records_.push_back(std::move(request));
}

void RequestRecorder::clear() {
  std::lock_guard lock(mu_);
  records_.clear();
  counts_.clear();
  total_ = 0;
}

std::string RequestRecorder::to_json() const {
  // Copy under the lock, render outside it: model calls keep recording meanwhile.
  std::deque<RecordedRequest> records;
  std::unordered_map<std::string, std::uint64_t> counts;
  std::uint64_t total = 0;
  {
    std::lock_guard lock(mu_);
    records = records_;
    counts = counts_;
    total = total_;
  }
  std::string out = "{\"requests\":[";
  bool first = true;
  for (const auto& r : records) {
    if (!first) out += ',';
    first = false;
    out += "{\"method\":";
    append_json_string(out, r.method);
    out += ",\"path\":";
    append_json_string(out, r.path);
    out += ",\"headers\":";
    out += r.headers_json;
    out += ",\"body\":";
    append_json_string(out, valid_utf8(r.body));  // the exact bytes received
    out += ",\"bodyJson\":";
    boost::system::error_code ec;
    auto parsed = r.body.empty() ? json::value() : json::parse(r.body, ec);
    out += ec ? "null" : json::serialize(parsed);
    out += ",\"model\":";
    if (r.model.empty()) {
      out += "null";
    } else {
      append_json_string(out, r.model);
    }
    out += ",\"receivedAt\":";
    append_int(out, r.received_ms);
    out += '}';
  }
  out += "],\"counts\":{";
  first = true;
  for (const auto& [model, n] : counts) {
    if (!first) out += ',';
    first = false;
    append_json_string(out, model);
    out += ':';
    append_int(out, static_cast<std::int64_t>(n));
  }
  out += "},\"total\":";
  append_int(out, static_cast<std::int64_t>(total));
  out += '}';
  return out;
}

}  // namespace anygpt::mock
