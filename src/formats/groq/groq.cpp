#include "formats/groq/groq.hpp"

#include <boost/json.hpp>

#include "formats/openai/openai.hpp"
#include "formats/openai/reshape.hpp"

namespace anygpt::formats::groq {
namespace json = boost::json;

namespace {

unsigned status_of(const core::Error& e) {
  return core::http_status(e.kind);
}

std::string request_id(const AnswerContext& ctx) {
  return "req_" + std::string(ctx.request_id);
}

// Groq's timing fields, in seconds. anygpt sees the whole call: it reports it as completion time.
void add_times(json::object& usage, const Moment& now) {
  double seconds = static_cast<double>(now.elapsed_ns) / 1e9;
  usage["queue_time"] = 0.0;
  usage["prompt_time"] = 0.0;
  usage["completion_time"] = seconds;
  usage["total_time"] = seconds;
}

class ChatCodec final : public openai::ReshapingCodec {
 public:
  void reshape_answer(json::object& answer, const AnswerContext& ctx, const Moment& now) const override {
    if (auto* u = answer.if_contains("usage"); u && u->is_object()) add_times(u->as_object(), now);
    answer["x_groq"] = json::object{{"id", request_id(ctx)}};
  }
  void reshape_chunk(json::object& chunk, bool first, const AnswerContext& ctx, const Moment& now) const override {
    auto* usage = chunk.if_contains("usage");
    bool final_usage = usage && usage->is_object();
    if (!first && !final_usage) return;
    json::object x{{"id", request_id(ctx)}};
    if (final_usage) {
      add_times(usage->as_object(), now);
      x["usage"] = *usage;
    }
    chunk["x_groq"] = std::move(x);
  }
};

}  // namespace

const Protocol& protocol() {
  static const Protocol kProtocol{"groq", KeySources{true, {}, ""}, &openai::error_body, &status_of, false, nullptr};
  return kProtocol;
}

const Codec& chat_codec() {
  static const ChatCodec kCodec;
  return kCodec;
}

}  // namespace anygpt::formats::groq
