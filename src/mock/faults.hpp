// mock: injected faults (POST /mock/faults) and the table that hands them to model calls.
#pragma once

#include <atomic>
#include <cstdint>
#include <mutex>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "core/error.hpp"

namespace anygpt::mock {

enum class FaultKind {
  kStatus,          // answer `status` with an error body in the route's protocol (+ Retry-After)
  kReset,           // TCP reset before any response byte
  kNoAnswer,        // hold the request until the client leaves (or 10 minutes)
  kSlowFirstToken,  // wait delay_ms before the first byte, then answer normally
  kStreamCut,       // stream: after_chunks events then reset; non-stream: reset
  kStreamStall,     // stream: after_chunks events then silence; non-stream: no answer
  kMalformedChunk,  // stream: a non-JSON event after after_chunks events; non-stream: non-JSON body
  kMissingDone,     // stream: no end event (`data: [DONE]`, message_stop, ...); non-stream: no effect
};

std::string_view fault_name(FaultKind kind);

struct Fault {
  std::uint64_t id = 0;
  FaultKind kind = FaultKind::kStatus;
  std::string model;              // empty = every model
  std::int64_t remaining = -1;    // requests it still applies to; -1 = unlimited
  unsigned status = 0;            // kStatus
  std::int64_t retry_after = -1;  // kStatus: Retry-After seconds; -1 = no header
  std::string message;            // kStatus: overrides the default error message
  std::string code;               // kStatus: overrides the default error code
  std::string type;               // kStatus: overrides the default error type
  double delay_ms = 0;            // kSlowFirstToken
  std::int64_t after_chunks = 0;  // stream faults: SSE events sent before the fault
};

// Parses a POST /mock/faults body ({"fault": kind, "model"?, "count"?, parameters...}).
core::Result<Fault> parse_fault(std::string_view body);

// {"id":..,"fault":..,"model":..|null,"remaining":..|null, parameters...}
std::string fault_json(const Fault& fault);

// The active faults. Thread-safe; take() costs one atomic load while the table is empty.
class FaultTable {
 public:
  // Stores the fault and returns its id.
  std::uint64_t add(Fault fault);
  // The fault that applies to one request for `model` (model-specific faults first, then global
  // ones, oldest first), counting the application; nullopt when none applies.
  std::optional<Fault> take(std::string_view model);
  void clear();
  // {"faults":[...]}
  std::string list_json() const;

 private:
  mutable std::mutex mu_;
  std::vector<Fault> faults_;
  std::atomic<std::size_t> size_{0};
  std::uint64_t next_id_ = 1;
};

}  // namespace anygpt::mock
