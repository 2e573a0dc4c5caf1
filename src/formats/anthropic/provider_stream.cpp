#include <boost/json.hpp>
#include <utility>
#include <vector>

#include "formats/anthropic/provider_parts.hpp"
#include "formats/common/chunks.hpp"
#include "formats/openai/openai.hpp"

namespace anygpt::formats::anthropic {
namespace json = boost::json;

namespace {

// The start of an event's data, for error messages.
std::string excerpt(std::string_view data) {
  return std::string(data.substr(0, 120));
}

// Messages SSE (message_start, content_block_start/delta/stop, message_delta, message_stop,
// ping, error) as canonical chunks, each emitted by the event that completes it.
class MessagesStreamDecoder final : public StreamDecoder {
 public:
  explicit MessagesStreamDecoder(const UpstreamCall& call) : model_(call.model) {}

  std::optional<core::Error> feed(std::string_view bytes, std::vector<json::object>& chunks) override {
    splitter_.append(bytes);
    while (auto event = splitter_.next_event())
      if (auto e = on_event(*event, chunks)) return e;
    return std::nullopt;
  }

  bool complete() const override { return complete_; }

 private:
  // What a content block index holds: its kind, and the OpenAI index of a tool call.
  enum class Kind { kText, kThinking, kTool, kOther };
  struct Block {
    std::int64_t index;
    Kind kind;
    std::int64_t tool;
  };

  std::optional<core::Error> on_event(std::string_view event, std::vector<json::object>& chunks) {
    std::string_view data;
    std::string joined;
    if (complete_ || !openai::event_payload(event, data, joined)) return std::nullopt;
    unsigned char buf[2048];
    json::monotonic_resource arena(buf, sizeof buf);
    json::error_code ec;
    auto parsed = json::parse(data, ec, &arena);
    if (ec || !parsed.is_object()) return upstream_error("anthropic stream: malformed event data: " + excerpt(data));
    const auto& o = parsed.get_object();
    auto type = common::str(o, "type");
    if (type == "error") return stream_error(o);
    if (type == "message_start") return on_start(o, chunks);
    bool known = type == "content_block_start" || type == "content_block_delta" || type == "message_delta" ||
                 type == "message_stop";
    if (!known) return std::nullopt;  // ping, content_block_stop, and event types added later
    if (!started_) return upstream_error("anthropic stream: " + std::string(type) + " before message_start");
    if (type == "content_block_start") return on_block_start(o, chunks);
    if (type == "content_block_delta") return on_delta(o, chunks);
    if (type == "message_delta") return on_message_delta(o, chunks);
    if (usage_.present) chunks.push_back(usage_chunk());
    complete_ = true;
    return std::nullopt;
  }

  std::optional<core::Error> on_start(const json::object& o, std::vector<json::object>& chunks) {
    const auto* m = o.if_contains("message");
    if (started_ || !m || !m->is_object())
      return upstream_error("anthropic stream: message_start without a message, or repeated");
    id_ = common::str(m->get_object(), "id");
    if (auto model = common::str(m->get_object(), "model"); !model.empty()) model_ = model;
    usage_.update(m->get_object().if_contains("usage"));
    started_ = true;
    chunks.push_back(chunk(json::object{{"role", "assistant"}, {"content", ""}}));
    return std::nullopt;
  }

  std::optional<core::Error> on_block_start(const json::object& o, std::vector<json::object>& chunks) {
    const auto* index = o.if_contains("index");
    const auto* b = o.if_contains("content_block");
    if (!index || !index->is_int64() || !b || !b->is_object())
      return upstream_error("anthropic stream: content_block_start without index or content_block");
    const auto& block = b->get_object();
    auto type = common::str(block, "type");
    Block entry{index->get_int64(), Kind::kOther, -1};
    if (type == "text") {
      entry.kind = Kind::kText;
      content("content", common::str(block, "text"), chunks);
    } else if (type == "thinking") {
      entry.kind = Kind::kThinking;
      content("reasoning_content", common::str(block, "thinking"), chunks);
    } else if (type == "tool_use") {
      auto id = common::str(block, "id");
      auto name = common::str(block, "name");
      if (id.empty() || name.empty()) return upstream_error("anthropic stream: a tool_use block without id or name");
      entry = Block{index->get_int64(), Kind::kTool, tools_++};
      json::object call{{"index", entry.tool},
                        {"id", id},
                        {"type", "function"},
                        {"function", json::object{{"name", name}, {"arguments", ""}}}};
      chunks.push_back(chunk(json::object{{"tool_calls", json::array{std::move(call)}}}));
    }
    blocks_.push_back(entry);
    return std::nullopt;
  }

  std::optional<core::Error> on_delta(const json::object& o, std::vector<json::object>& chunks) {
    const auto* index = o.if_contains("index");
    const auto* d = o.if_contains("delta");
    if (!index || !index->is_int64() || !d || !d->is_object())
      return upstream_error("anthropic stream: content_block_delta without index or delta");
    const auto& delta = d->get_object();
    auto type = common::str(delta, "type");
    if (type == "text_delta") content("content", common::str(delta, "text"), chunks);
    if (type == "thinking_delta") content("reasoning_content", common::str(delta, "thinking"), chunks);
    if (type != "input_json_delta") return std::nullopt;  // signature_delta, citations_delta, ...
    const Block* block = find(index->get_int64());
    if (!block || block->kind != Kind::kTool)
      return upstream_error("anthropic stream: input_json_delta for a block that is not a tool_use");
    auto piece = common::str(delta, "partial_json");
    if (piece.empty()) return std::nullopt;
    json::object call{{"index", block->tool}, {"function", json::object{{"arguments", piece}}}};
    chunks.push_back(chunk(json::object{{"tool_calls", json::array{std::move(call)}}}));
    return std::nullopt;
  }

  std::optional<core::Error> on_message_delta(const json::object& o, std::vector<json::object>& chunks) {
    usage_.update(o.if_contains("usage"));
    const auto* d = o.if_contains("delta");
    if (!d || !d->is_object()) return std::nullopt;
    if (auto reason = common::str(d->get_object(), "stop_reason"); !reason.empty())
      chunks.push_back(chunk(json::object{}, finish_reason(reason)));
    return std::nullopt;
  }

  const Block* find(std::int64_t index) const {
    for (const auto& b : blocks_)
      if (b.index == index) return &b;
    return nullptr;
  }

  // A text or reasoning delta (empty text sends nothing).
  void content(std::string_view key, std::string_view text, std::vector<json::object>& chunks) const {
    if (!text.empty()) chunks.push_back(chunk(json::object{{key, text}}));
  }

  json::object chunk(json::object delta, std::string_view finish = {}) const {
    json::object choice{{"index", 0}, {"delta", std::move(delta)}};
    choice["finish_reason"] = finish.empty() ? json::value(nullptr) : json::value(finish);
    return json::object{{"id", id_},
                        {"object", "chat.completion.chunk"},
                        {"created", 0},
                        {"model", model_},
                        {"choices", json::array{std::move(choice)}}};
  }

  json::object usage_chunk() const {
    return json::object{{"id", id_},       {"object", "chat.completion.chunk"}, {"created", 0},
                        {"model", model_}, {"choices", json::array{}},          {"usage", usage_.canonical()}};
  }

  openai::SseSplitter splitter_;
  std::string id_;
  std::string model_;
  bool started_ = false;
  bool complete_ = false;
  std::vector<Block> blocks_;
  std::int64_t tools_ = 0;  // tool_use blocks seen (the next tool call's OpenAI index)
  UsageCounts usage_;
};

}  // namespace

core::Error stream_error(const json::object& event) {
  const auto* e = event.if_contains("error");
  const json::object none;
  const auto& error = e && e->is_object() ? e->get_object() : none;
  auto type = common::str(error, "type");
  auto message = common::str(error, "message");
  auto kind = type == "overloaded_error" ? core::ErrorKind::kUpstreamUnavailable : core::ErrorKind::kUpstreamError;
  return core::make_error(kind, message.empty() ? "anthropic stream error " + std::string(type) : std::string(message),
                          "", std::string(type));
}

std::unique_ptr<StreamDecoder> make_messages_stream_decoder(const UpstreamCall& call) {
  return std::make_unique<MessagesStreamDecoder>(call);
}

}  // namespace anygpt::formats::anthropic
