#include <array>
#include <boost/json.hpp>

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

 private:
  std::optional<core::Error> on_event(std::string_view event) override {
    std::string_view data;
    std::string joined;
    if (complete_ || !openai::event_payload(event, data, joined)) return std::nullopt;
    auto name = common::sse_event_name(event);
    if (content_only(name)) {
      auto scan = common::scan_event(data, kContentScan);
      if (!scan.object) return malformed(data);
      if (!started_ && name != "ping") return before_start(name);
      chars_ += scan.text_chars;
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
    return std::nullopt;
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
  UsageCounts usage_;
};

}  // namespace

std::unique_ptr<StreamWatcher> make_messages_stream_watcher() {
  return std::make_unique<MessagesStreamWatcher>();
}

}  // namespace anygpt::formats::anthropic
