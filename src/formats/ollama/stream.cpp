#include "formats/ollama/stream.hpp"

#include <boost/json.hpp>
#include <string>

#include "formats/common/chunks.hpp"

namespace anygpt::formats::ollama {
namespace json = boost::json;

namespace {

void append_line(const json::object& line, std::string& out) {
  out += json::serialize(line);
  out += '\n';
}

class NdjsonEncoder final : public StreamEncoder {
 public:
  NdjsonEncoder(Endpoint endpoint, std::string_view model) : endpoint_(endpoint), model_(model) {}

  std::string_view content_type() const override { return "application/x-ndjson"; }

  void chunk(const json::object& chunk, const Moment& now, std::string& out) override {
    const auto* choice = common::first_choice(chunk);
    if (!choice) return;
    if (const auto* d = choice->if_contains("delta"); d && d->is_object()) on_delta(d->get_object(), now, out);
    if (auto reason = common::str(*choice, "finish_reason"); !reason.empty()) {
      done_reason_ = done_reason(reason);
      flush_calls(now, out);
    }
  }

  void finish(const core::Usage& usage, const Moment& now, std::string& out) override {
    flush_calls(now, out);
    auto line = line_head(model_, now);
    set_text(line, "", "");
    line["done"] = true;
    line["done_reason"] = done_reason_;
    add_metrics(line, usage, now);
    append_line(line, out);
  }

  // Each line stands alone: the next ones simply carry on the text.
  bool resume(const StreamProgress& progress) override { return progress.continuable; }

  // ollama-js's stream iterator throws Error(message) on a line with an "error" key.
  void fail(const core::Error& error, std::string& out) override {
    append_line(json::object{{"error", error.message}}, out);
  }

 private:
  void on_delta(const json::object& delta, const Moment& now, std::string& out) {
    auto text = common::str(delta, "content");
    if (text.empty()) text = common::str(delta, "refusal");
    auto thinking = reasoning(delta);
    if (endpoint_ == Endpoint::kChat)
      if (const auto* calls = delta.if_contains("tool_calls")) calls_.add(*calls);
    if (text.empty() && thinking.empty()) return;
    auto line = line_head(model_, now);
    set_text(line, text, thinking);
    line["done"] = false;
    append_line(line, out);
  }

  // The endpoint's text field: message {role, content, thinking?} for chat, response (+ thinking) for generate.
  void set_text(json::object& line, std::string_view text, std::string_view thinking) const {
    if (endpoint_ == Endpoint::kGenerate) {
      line["response"] = text;
      if (!thinking.empty()) line["thinking"] = thinking;
      return;
    }
    json::object message{{"role", "assistant"}, {"content", text}};
    if (!thinking.empty()) message["thinking"] = thinking;
    line["message"] = std::move(message);
  }

  // Ollama sends tool calls whole: the assembled calls as one line, once.
  void flush_calls(const Moment& now, std::string& out) {
    if (calls_.empty()) return;
    json::array calls;
    for (const auto& c : calls_.calls()) calls.push_back(tool_call(c.name, c.arguments));
    calls_.clear();
    auto line = line_head(model_, now);
    line["message"] = json::object{{"role", "assistant"}, {"content", ""}, {"tool_calls", std::move(calls)}};
    line["done"] = false;
    append_line(line, out);
  }

  Endpoint endpoint_;
  std::string model_;
  std::string_view done_reason_ = "stop";  // a literal from done_reason()
  common::ToolCallAccumulator calls_;
};

}  // namespace

std::unique_ptr<StreamEncoder> make_stream_encoder(Endpoint endpoint, const AnswerContext& ctx) {
  return std::make_unique<NdjsonEncoder>(endpoint, ctx.model);
}

}  // namespace anygpt::formats::ollama
