#include "formats/openai/stream_inspect.hpp"

#include "formats/common/event_scan.hpp"
#include "formats/openai/openai.hpp"

#include <array>
#include <string>

namespace anygpt::formats::openai {

namespace {

// ("delta" is a string only in a transcription stream's transcript.text.delta; a chat chunk's
// delta is an object.)
constexpr std::array<std::string_view, 6> kTextKeys{"content",   "arguments",         "refusal",
                                                    "reasoning", "reasoning_content", "delta"};
// A tool call or a finish reason makes a chunk content even without text (and a transcript's
// whole "text", in transcript.text.done).
constexpr std::array<std::string_view, 3> kContentMarks{"tool_calls", "finish_reason", "text"};
constexpr std::array<std::string_view, 2> kFlags{"tool_calls", "finish_reason"};  // bits 0 and 1
// Validates, spots top-level "usage":{...}, measures delta text, tells content chunks and captures
// the content text.
const common::EventScanSpec kScan{kTextKeys, kContentMarks, {}, {}, "usage", "content", kFlags};

}  // namespace

EventInfo inspect_event(std::string_view event, std::string* text) {
  EventInfo info;
  std::string_view data;
  std::string joined;
  if (!event_payload(event, data, joined)) return info;
  if (data == "[DONE]") {
    info.kind = EventInfo::Kind::kDone;
    return info;
  }
  const auto captured_from = text ? text->size() : 0;
  auto scan = common::scan_event(data, kScan, text);
  if (!scan.object && text) text->resize(captured_from);
  info.kind = scan.object ? EventInfo::Kind::kChunk : EventInfo::Kind::kMalformed;
  info.tool_call = (scan.flags & 1u) != 0;
  info.finish = (scan.flags & 2u) != 0;
  info.has_usage = scan.has_reported;
  info.delivered_chars = scan.text_chars;
  info.content = scan.text_chars > 0 || scan.marked;
  return info;
}

}  // namespace anygpt::formats::openai
