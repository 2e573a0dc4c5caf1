#include "formats/openai/stream_inspect.hpp"

#include "formats/common/event_scan.hpp"
#include "formats/openai/openai.hpp"

#include <array>
#include <string>

namespace anygpt::formats::openai {

namespace {

constexpr std::array<std::string_view, 5> kTextKeys{"content", "arguments", "refusal", "reasoning",
                                                    "reasoning_content"};
// A tool call or a finish reason makes a chunk content even without text.
constexpr std::array<std::string_view, 2> kContentMarks{"tool_calls", "finish_reason"};
// Validates, spots top-level "usage":{...}, measures delta text and tells content chunks.
const common::EventScanSpec kScan{kTextKeys, kContentMarks, {}, {}, "usage"};

}  // namespace

EventInfo inspect_event(std::string_view event) {
  EventInfo info;
  std::string_view data;
  std::string joined;
  if (!event_payload(event, data, joined)) return info;
  if (data == "[DONE]") {
    info.kind = EventInfo::Kind::kDone;
    return info;
  }
  auto scan = common::scan_event(data, kScan);
  info.kind = scan.object ? EventInfo::Kind::kChunk : EventInfo::Kind::kMalformed;
  info.has_usage = scan.has_reported;
  info.delivered_chars = scan.text_chars;
  info.content = scan.text_chars > 0 || scan.marked;
  return info;
}

}  // namespace anygpt::formats::openai
