#include "formats/anthropic/stream.hpp"

#include <algorithm>
#include <boost/json.hpp>
#include <string>
#include <vector>

#include "core/json_text.hpp"
#include "formats/anthropic/answer.hpp"
#include "formats/anthropic/anthropic.hpp"
#include "formats/common/chunks.hpp"

namespace anygpt::formats::anthropic {
namespace json = boost::json;

std::size_t complete_utf8_prefix(std::string_view bytes) {
  std::size_t n = bytes.size();
  for (std::size_t back = 1; back <= 4 && back <= n; ++back) {
    auto c = static_cast<unsigned char>(bytes[n - back]);
    if ((c & 0xC0) == 0x80) continue;  // a continuation byte: look further back
    std::size_t need = c < 0x80 ? 1 : (c & 0xE0) == 0xC0 ? 2 : (c & 0xF0) == 0xE0 ? 3 : (c & 0xF8) == 0xF0 ? 4 : 1;
    return need > back ? n - back : n;
  }
  return n;
}

namespace {

void event(std::string_view type, const json::object& data, std::string& out) {
  out += "event: ";
  out += type;
  out += "\ndata: ";
  out += json::serialize(data);
  out += "\n\n";
}

class MessageStreamEncoder final : public StreamEncoder {
 public:
  explicit MessageStreamEncoder(const AnswerContext& ctx) : model_(ctx.model), request_id_(ctx.request_id) {}
  std::string_view content_type() const override { return "text/event-stream"; }

  void chunk(const json::object& chunk, const Moment&, std::string& out) override {
    if (done_) return;
    if (!started_) start(chunk, out);
    if (const auto* u = chunk.if_contains("usage"); u && u->is_object())
      cached_tokens_ = common::usage_parts(chunk).cached_tokens;
    const auto* choice = common::first_choice(chunk);
    if (!choice) return;
    if (const auto* d = choice->if_contains("delta"); d && d->is_object()) {
      text(common::str(d->get_object(), "content"), out);
      if (const auto* calls = d->get_object().if_contains("tool_calls"); calls && calls->is_array())
        for (const auto& call : calls->get_array())
          if (call.is_object()) tool_fragment(call.get_object(), out);
    }
    if (auto reason = common::str(*choice, "finish_reason"); !reason.empty()) {
      finish_reason_ = reason;
      close(out);
    }
  }

  void finish(const core::Usage& usage, const Moment&, std::string& out) override {
    if (done_) return;
    if (!started_) start(json::object{}, out);
    close(out);
    json::object delta{{"stop_reason", stop_reason(finish_reason_, called_tools_)}, {"stop_sequence", nullptr}};
    event("message_delta",
          json::object{
              {"type", "message_delta"}, {"delta", std::move(delta)}, {"usage", usage_object(usage, cached_tokens_)}},
          out);
    event("message_stop", json::object{{"type", "message_stop"}}, out);
    done_ = true;
  }

  // The client has message_start and `blocks` content blocks, the last an open text block.
  bool resume(const StreamProgress& progress) override {
    if (!progress.continuable || progress.blocks == 0 || started_) return false;
    started_ = true;
    blocks_ = static_cast<std::int64_t>(progress.blocks);
    index_ = blocks_ - 1;
    open_ = Block::kText;
    return true;
  }

  void fail(const core::Error& error, std::string& out) override {
    if (done_) return;
    out += "event: error\ndata: ";
    out += error_body(error);
    out += "\n\n";
    done_ = true;
  }

 private:
  // kPendingTool: a tool call whose name has not arrived yet (content_block_start needs it).
  enum class Block { kNone, kText, kTool, kPendingTool };

  void start(const json::object& chunk, std::string& out) {
    auto parts = common::usage_parts(chunk);
    json::object message{{"id", message_id(common::str(chunk, "id"), request_id_)},
                         {"type", "message"},
                         {"role", "assistant"},
                         {"model", model_},
                         {"content", json::array{}},
                         {"stop_reason", nullptr},
                         {"stop_sequence", nullptr},
                         {"usage", usage_object(parts.usage, parts.cached_tokens)}};
    event("message_start", json::object{{"type", "message_start"}, {"message", std::move(message)}}, out);
    started_ = true;
  }

  void open(json::object content_block, Block kind, std::string& out) {
    index_ = blocks_++;
    open_ = kind;
    event("content_block_start",
          json::object{{"type", "content_block_start"}, {"index", index_}, {"content_block", std::move(content_block)}},
          out);
  }

  void text(std::string_view piece, std::string& out) {
    if (piece.empty()) return;
    if (open_ != Block::kText) {
      close(out);
      open(json::object{{"type", "text"}, {"text", ""}}, Block::kText, out);
    }
    delta(piece, out);
  }

  // One OpenAI tool_calls[] fragment. A new index (without an index: a new id) starts a new
  // tool_use block; late fragments of a call whose block is already closed cannot be sent (a
  // closed block cannot be reopened) and are dropped.
  void tool_fragment(const json::object& fragment, std::string& out) {
    long long slot = tool_slot_ < 0 ? 0 : tool_slot_;
    const auto* index = fragment.if_contains("index");
    bool indexed = index && index->is_int64();
    if (indexed) slot = index->get_int64();
    auto id = common::str(fragment, "id");
    const auto* f = fragment.if_contains("function");
    const json::object* function = f && f->is_object() ? &f->get_object() : nullptr;
    auto name = function ? common::str(*function, "name") : std::string_view();
    auto arguments = function ? common::str(*function, "arguments") : std::string_view();
    bool in_tool = open_ == Block::kTool || open_ == Block::kPendingTool;
    bool same = in_tool && slot == tool_slot_ && (indexed || id.empty() || tool_id_.empty() || id == tool_id_);
    if (!same) {
      if (id.empty() && std::find(slots_.begin(), slots_.end(), slot) != slots_.end()) return;
      close(out);
      open_ = Block::kPendingTool;
      tool_slot_ = slot;
      slots_.push_back(slot);
      tool_id_.clear();
      tool_name_.clear();
    }
    if (tool_id_.empty()) tool_id_ = id;
    if (tool_name_.empty()) tool_name_ = name;
    if (open_ == Block::kTool) {
      delta(arguments, out);
      return;
    }
    pending_arguments_ += arguments;
    if (!tool_name_.empty()) open_tool(out);
  }

  void open_tool(std::string& out) {
    tool_id_ = tool_use_id(tool_id_, request_id_, slots_.size() - 1);
    open(json::object{{"type", "tool_use"}, {"id", tool_id_}, {"name", tool_name_}, {"input", json::object{}}},
         Block::kTool, out);
    called_tools_ = true;
    delta(pending_arguments_, out);
    pending_arguments_.clear();
  }

  // A text_delta / input_json_delta for the open block; bytes of a UTF-8 character split across
  // chunks wait in carry_ so every event is valid UTF-8.
  void delta(std::string_view piece, std::string& out) {
    if (carry_.empty()) {  // the usual case: nothing held back, no copy
      std::size_t ready = complete_utf8_prefix(piece);
      if (ready > 0) send(piece.substr(0, ready), out);
      carry_.assign(piece.substr(ready));
      return;
    }
    carry_ += piece;
    std::size_t ready = complete_utf8_prefix(carry_);
    if (ready == 0) return;
    send(std::string_view(carry_).substr(0, ready), out);
    carry_.erase(0, ready);
  }

  // The most frequent event, written directly (no DOM): the same bytes json::serialize gives.
  void send(std::string_view bytes, std::string& out) {
    out += "event: content_block_delta\ndata: ";
    out += R"({"type":"content_block_delta","index":)";
    out += std::to_string(index_);
    out += open_ == Block::kText ? R"(,"delta":{"type":"text_delta","text":)"
                                 : R"(,"delta":{"type":"input_json_delta","partial_json":)";
    core::append_json_string(out, bytes);
    out += "}}\n\n";
  }

  void close(std::string& out) {
    if (open_ == Block::kNone) return;
    if (open_ == Block::kPendingTool) open_tool(out);
    if (!carry_.empty()) send(carry_, out);
    carry_.clear();
    event("content_block_stop", json::object{{"type", "content_block_stop"}, {"index", index_}}, out);
    open_ = Block::kNone;
  }

  std::string model_;
  std::string request_id_;
  bool started_ = false;
  bool done_ = false;
  Block open_ = Block::kNone;
  std::int64_t index_ = 0;        // the open block's index
  std::int64_t blocks_ = 0;       // blocks opened so far
  long long tool_slot_ = -1;      // OpenAI index of the current tool call
  std::vector<long long> slots_;  // OpenAI indexes of every tool call seen
  std::string tool_id_;
  std::string tool_name_;
  std::string pending_arguments_;  // arguments of a kPendingTool call
  std::string carry_;              // an incomplete UTF-8 sequence of the open block
  std::string finish_reason_;
  bool called_tools_ = false;
  std::int64_t cached_tokens_ = 0;
};

}  // namespace

std::unique_ptr<StreamEncoder> make_stream_encoder(const AnswerContext& ctx) {
  return std::make_unique<MessageStreamEncoder>(ctx);
}

}  // namespace anygpt::formats::anthropic
