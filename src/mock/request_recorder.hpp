// mock: the record of what the mock received on its model routes, every wire format
// (GET /mock/requests), so tests can assert exactly what the gateway forwarded.
#pragma once

#include <cstdint>
#include <deque>
#include <mutex>
#include <string>
#include <unordered_map>

namespace anygpt::mock {

struct RecordedRequest {
  std::string method;
  std::string path;          // the request target, query included
  std::string headers_json;  // {"name":"value",...}, names lower-cased, rendered when recorded
  std::string body;
  std::string model;             // empty when the body named none
  std::int64_t received_ms = 0;  // unix milliseconds
};

// The last kMaxRecords requests plus per-model and total counters. Thread-safe: one mutex,
// held for a move on record() and for a copy on to_json(), which renders outside it.
class RequestRecorder {
 public:
  static constexpr std::size_t kMaxRecords = 100;

  void record(RecordedRequest request);
  void clear();
  // {"requests":[{method,path,headers,body,bodyJson,model,receivedAt}...],"counts":{model:n},
  // "total":n}: `body` is the body text as received, `bodyJson` the same parsed (null when it is
  // not JSON).
  std::string to_json() const;

 private:
  mutable std::mutex mu_;
  std::deque<RecordedRequest> records_;
  std::unordered_map<std::string, std::uint64_t> counts_;
  std::uint64_t total_ = 0;
};

}  // namespace anygpt::mock
