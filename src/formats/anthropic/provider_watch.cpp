#include <array>
#include <boost/json.hpp>
#include <string>

#include "formats/anthropic/provider_parts.hpp"
#include "formats/common/chunks.hpp"
#include "formats/common/event_scan.hpp"
#include "formats/common/sse_watcher.hpp"
#include "formats/openai/openai.hpp"

namespace anygpt::formats::anthropic {
namespace json = boost::json;

namespace {

constexpr std::array<std::string_view, 3> kTextKeys{"text", "partial_json", "thinking"};
const common::EventScanSpec kContentScan{kTextKeys, {}, {}, {}, {}, {}, {}};
// A content_block_delta: its text captured; anything but text (tool input, thinking) flagged.
constexpr std::array<std::string_view, 3> kNotText{"partial_json", "thinking", "signature"};
const common::EventScanSpec kDeltaScan{kTextKeys, {}, {}, {}, {}, "text", kNotText};

// The events that carry only content: one SAX pass each (validity and text). Anything else
// (message_start/delta/stop, error, events without an "event:" line or of a newer kind) is
// parsed in full.
bool content_only(std::string_view name) {
  return name == "content_block_delta" || name == "content_block_start" || name == "content_block_stop" ||
         name == "ping";
}

// Messages SSE watched for a client that receives it untouched: usage from message_start and
// message_delta, the end at message_stop, `event: error` as the stream's failure.
class MessagesStreamWatcher final : public common::SseWatcher {
 public:
  bool complete() const override { return complete_; }
  core::Usage usage() const override {
    if (!complete_ || !usage_.present) return core::Usage{};
    return openai::usage_from(json::object{{"usage", usage_.canonical()}});
  }
  std::size_t delivered_chars() const override { return chars_; }
  StreamProgress progress() const override {
    return StreamProgress{text_, continuable_ && text_open_ && !complete_, static_cast<std::size_t>(blocks_)};
  }

 private:
  std::optional<core::Error> on_event(std::string_view event) override {
    std::string_view data;
    std::string joined;
    if (complete_ || !openai::event_payload(event, data, joined)) return std::nullopt;
    auto name = common::sse_event_name(event);
    if (content_only(name)) {
      const bool delta = name == "content_block_delta" && continuable_;
      auto scan = delta ? common::scan_event(data, kDeltaScan, &text_) : common::scan_event(data, kContentScan);
      if (!scan.object) return malformed(data);
      if (!started_ && name != "ping") return before_start(name);
      chars_ += scan.text_chars;
      if (scan.flags || text_.size() > kMaxContinuedText) stop_following();
      if (name == "content_block_start") begin_block(data);
      if (name == "content_block_stop") text_open_ = false;
      return std::nullopt;
    }
    unsigned char buf[2048];
    json::monotonic_resource arena(buf, sizeof buf);
    json::error_code ec;
    auto parsed = json::parse(data, ec, &arena);
    if (ec || !parsed.is_object()) return malformed(data);
    const auto& o = parsed.get_object();
    auto type = common::str(o, "type");
    if (type == "error") return stream_error(o);
    if (type == "message_start") {
      const auto* m = o.if_contains("message");
      if (started_ || !m || !m->is_object())
        return upstream_error("anthropic stream: message_start without a message, or repeated");
      usage_.update(m->get_object().if_contains("usage"));
      started_ = true;
      return std::nullopt;
    }
    const bool content = content_only(type) && type != "ping";
    if (type != "message_delta" && type != "message_stop" && !content) return std::nullopt;
    if (!started_) return before_start(type);
    if (type == "message_delta") usage_.update(o.if_contains("usage"));
    if (type == "message_stop") complete_ = true;
    if (content) chars_ += common::scan_event(data, kContentScan).text_chars;
    stop_following();  // (a finish, or content without its event line: the text is no longer known)
    return std::nullopt;
  }

  // A new content block: only a text block keeps the answer continuable.
  void begin_block(std::string_view data) {
    ++blocks_;
    json::error_code ec;
    auto v = json::parse(data, ec);
    const auto* block = !ec && v.is_object() ? v.get_object().if_contains("content_block") : nullptr;
    text_open_ = block && block->is_object() && common::str(block->get_object(), "type") == "text";
    if (!text_open_) stop_following();
  }
  void stop_following() {
    continuable_ = false;
    std::string().swap(text_);
  }

  static core::Error malformed(std::string_view data) {
    return upstream_error("anthropic stream: malformed event data: " + std::string(data.substr(0, 120)));
  }
  static core::Error before_start(std::string_view type) {
    return upstream_error("anthropic stream: " + std::string(type) + " before message_start");
  }

  bool started_ = false;
  bool complete_ = false;
  std::size_t chars_ = 0;
  std::string text_;         // the text delivered, while continuable_
  bool continuable_ = true;  // text blocks only so far
  bool text_open_ = false;   // the last block begun is a text block, not yet stopped
  std::int64_t blocks_ = 0;
  UsageCounts usage_;
};

}  // namespace

std::unique_ptr<StreamWatcher> make_messages_stream_watcher() {
  return std::make_unique<MessagesStreamWatcher>();
}

}  // namespace anygpt::formats::anthropic
