#include <boost/json.hpp>

#include "formats/common/chunks.hpp"
#include "formats/ollama/answer.hpp"
#include "formats/ollama/ollama.hpp"
#include "formats/ollama/request.hpp"
#include "formats/ollama/stream.hpp"

namespace anygpt::formats::ollama {
namespace json = boost::json;

namespace {

// /api/chat and /api/generate: the same answers and streams, differing in the request and text field.
class TextCodec final : public Codec {
 public:
  using Decode = core::Result<Canonical> (*)(const json::value& body);
  TextCodec(Endpoint endpoint, Decode decoder) : endpoint_(endpoint), decode_(decoder) {}

  core::Result<Canonical> decode(const json::value& body, const RouteParams&) const override { return decode_(body); }
  // (A body without "stream" streams: Ollama's default.)
  core::Result<Canonical> peek(const json::value& body, const RouteParams&) const override {
    return common::peek_model_and_stream(body, true);
  }
  std::string encode(const json::object& answer, const AnswerContext& ctx, const Moment& now) const override {
    return encode_answer(endpoint_, answer, ctx, now);
  }
  std::unique_ptr<StreamEncoder> stream(const AnswerContext& ctx) const override {
    return make_stream_encoder(endpoint_, ctx);
  }

 private:
  Endpoint endpoint_;
  Decode decode_;
};

}  // namespace

const Codec& chat_codec() {
  static const TextCodec kCodec(Endpoint::kChat, &decode_chat);
  return kCodec;
}

const Codec& generate_codec() {
  static const TextCodec kCodec(Endpoint::kGenerate, &decode_generate);
  return kCodec;
}

}  // namespace anygpt::formats::ollama
