#include <array>
#include <boost/json.hpp>
#include <string>

#include "formats/common/chunks.hpp"
#include "formats/common/event_scan.hpp"
#include "formats/ollama/provider_answer.hpp"
#include "formats/ollama/provider_stream.hpp"
#include "formats/openai/openai.hpp"

namespace anygpt::formats::ollama {
namespace json = boost::json;

namespace {

using MaybeError = std::optional<core::Error>;

constexpr std::array<std::string_view, 2> kTextKeys{"content", "thinking"};
constexpr std::array<std::string_view, 1> kMarks{"tool_calls"};
constexpr std::array<std::string_view, 2> kTopMarks{"done", "error"};
constexpr std::array<std::string_view, 1> kThinking{"thinking"};  // reasoning: not continued by a prefill
const common::EventScanSpec kScan{kTextKeys, kMarks, kTopMarks, {}, {}, "content", kThinking};

// /api/chat NDJSON watched for a client that receives it untouched. Lines are told apart as
// the decoder does (by where each JSON value ends). A line with text only gets one SAX pass;
// tool calls, the done:true line and {"error"} lines are parsed in full, for the decoder's
// checks: an error line fails the stream, a done line of a model load/unload with nothing
// delivered is not an answer, the done line's counts are the usage.
class NdjsonWatcher final : public StreamWatcher {
 public:
  NdjsonWatcher() : scanner_(kScan, &text_) {}

  MaybeError feed(std::string_view bytes) override {
    while (!bytes.empty() && !complete_) {
      std::error_code ec;
      auto n = scanner_.write(bytes, ec);
      if (ec) return upstream_error("Ollama sent a stream line that is not JSON (" + ec.message() + ")");
      auto piece = bytes.substr(0, n);
      bytes.remove_prefix(n);
      if (!scanner_.done()) {
        line_.append(piece);
        continue;
      }
      MaybeError e;
      if (line_.empty()) {
        e = on_line(scanner_.take(), piece);
      } else {
        line_.append(piece);
        e = on_line(scanner_.take(), line_);
        line_.clear();
      }
      if (e) return e;
    }
    return std::nullopt;
  }
  bool complete() const override { return complete_; }
  core::Usage usage() const override {
    if (!complete_ || !usage_) return core::Usage{};
    return openai::usage_from(json::object{{"usage", *usage_}});
  }
  std::size_t delivered_chars() const override { return chars_; }
  StreamProgress progress() const override { return StreamProgress{text_, continuable_ && !complete_, 0}; }

 private:
  MaybeError on_line(const common::EventScan& scan, std::string_view text) {
    if (!scan.object) return upstream_error("Ollama sent a stream line that is not a JSON object");
    chars_ += scan.text_chars;
    if (scan.flags || scan.marked || text_.size() > kMaxContinuedText) continuable_ = false;
    if (!continuable_) text_.clear();  // (the scanner keeps capturing; nothing is kept)
    if (scan.text_chars > 0) delivered_ = true;
    if (!scan.marked) return std::nullopt;
    json::error_code ec;
    json::parse_options options;
    options.max_depth = 64;
    auto v = json::parse(text, ec, {}, options);
    if (ec || !v.is_object()) return upstream_error("Ollama sent a stream line that is not JSON");
    const auto& line = v.get_object();
    if (auto e = line_error(line)) return e;
    const json::value* m = line.if_contains("message");
    const json::object* message = m && m->is_object() ? &m->get_object() : nullptr;
    if (message && common::field(*message, "tool_calls")) {
      auto calls = read_tool_calls(*message, 0, ids_);
      if (!calls) return calls.error();
      for (const auto& c : *calls) chars_ += common::code_points(c.arguments);
      delivered_ = delivered_ || !calls->empty();
    }
    const json::value* d = line.if_contains("done");
    if (!d || !d->is_bool() || !d->get_bool()) return std::nullopt;
    auto reason = common::str(line, "done_reason");
    if (load_only(reason) && !delivered_)
      return upstream_error("the Ollama stream is a model " + std::string(reason) + ", not an answer");
    usage_ = usage_of(line);
    complete_ = true;
    return std::nullopt;
  }

  std::string text_;         // the message text delivered, while continuable_
  bool continuable_ = true;  // text lines only so far
  common::EventScanner scanner_;
  std::string line_;  // the bytes of a line split across reads
  std::optional<json::object> usage_;
  CallIds ids_;
  std::size_t chars_ = 0;
  bool delivered_ = false;
  bool complete_ = false;
};

}  // namespace

std::unique_ptr<StreamWatcher> make_ndjson_watcher() {
  return std::make_unique<NdjsonWatcher>();
}

}  // namespace anygpt::formats::ollama
