#include "formats/openai/reshape.hpp"

#include <boost/json.hpp>

#include "formats/openai/chat_codec.hpp"
#include "formats/openai/openai.hpp"

namespace anygpt::formats::openai {
namespace json = boost::json;

namespace {

bool is_usage_only(const json::object& chunk) {
  const auto* choices = chunk.if_contains("choices");
  return choices && choices->is_array() && choices->get_array().empty();
}

// Chunks reshaped one at a time. The chunk that carries the finish_reason is held until the
// usage-only chunk (requested upstream) arrives or the stream ends, so dialects can put the
// final usage into it (Groq's x_groq.usage).
class ReshapingEncoder final : public StreamEncoder {
 public:
  ReshapingEncoder(const ReshapingCodec& codec, const AnswerContext& ctx) : codec_(codec), ctx_(ctx) {}
  std::string_view content_type() const override { return "text/event-stream"; }

  void chunk(const json::object& in, const Moment& now, std::string& out) override {
    json::object c(in, json::storage_ptr{});  // own storage: `in` may live in the relay's per-event arena
    if (is_usage_only(c)) {
      if (held_) {
        if (const auto* u = c.if_contains("usage")) (*held_)["usage"] = *u;
        release(now, out);
      }
      if (!ctx_.include_usage) return;
      emit(c, now, out);
      return;
    }
    release(now, out);
    if (has_finish_reason(c)) {
      held_ = std::move(c);
      return;
    }
    emit(c, now, out);
  }

  void finish(const core::Usage&, const Moment& now, std::string& out) override {
    release(now, out);
    out += "data: [DONE]\n\n";
  }

  void fail(const core::Error& error, std::string& out) override {
    held_.reset();
    out += codec_.error_event(error);
  }

 private:
  static bool has_finish_reason(const json::object& c) {
    const auto* choices = c.if_contains("choices");
    if (!choices || !choices->is_array()) return false;
    for (const auto& ch : choices->get_array())
      if (ch.is_object())
        if (const auto* f = ch.get_object().if_contains("finish_reason"); f && f->is_string()) return true;
    return false;
  }
  void emit(json::object& c, const Moment& now, std::string& out) {
    codec_.reshape_chunk(c, first_, ctx_, now);
    first_ = false;
    out += "data: ";
    out += json::serialize(c);
    out += "\n\n";
  }
  void release(const Moment& now, std::string& out) {
    if (!held_) return;
    auto c = std::move(*held_);
    held_.reset();
    emit(c, now, out);
  }

  const ReshapingCodec& codec_;
  AnswerContext ctx_;
  bool first_ = true;
  std::optional<json::object> held_;
};

}  // namespace

core::Result<Canonical> ReshapingCodec::decode(const json::value& body, const RouteParams&) const {
  return decode_chat(body);
}

std::string ReshapingCodec::encode(const json::object& answer, const AnswerContext& ctx, const Moment& now) const {
  json::object a(answer, json::storage_ptr{});
  reshape_answer(a, ctx, now);
  return json::serialize(a);
}

std::unique_ptr<StreamEncoder> ReshapingCodec::stream(const AnswerContext& ctx) const {
  return std::make_unique<ReshapingEncoder>(*this, ctx);
}

std::string ReshapingCodec::error_event(const core::Error& error) const {
  return stream_error_event(error);
}

}  // namespace anygpt::formats::openai
