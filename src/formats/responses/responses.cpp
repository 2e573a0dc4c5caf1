#include "formats/responses/responses.hpp"

#include "formats/openai/openai.hpp"
#include "formats/responses/answer.hpp"
#include "formats/responses/request.hpp"
#include "formats/responses/stream.hpp"

namespace anygpt::formats::responses {
namespace json = boost::json;

namespace {

unsigned status_of(const core::Error& e) {
  return core::http_status(e.kind);
}

class ResponsesCodec final : public Codec {
 public:
  core::Result<Canonical> decode(const json::value& body, const RouteParams&) const override {
    return decode_request(body);
  }
  core::Result<Canonical> peek(const json::value& body, const RouteParams&) const override {
    return peek_request(body);
  }
  std::string encode(const json::object& answer, const AnswerContext& ctx, const Moment& now) const override {
    return encode_response(answer, ctx, now);
  }
  std::unique_ptr<StreamEncoder> stream(const AnswerContext& ctx) const override { return make_stream_encoder(ctx); }
};

}  // namespace

const Protocol& protocol() {
  // (Upstream 4xx bodies are re-rendered: their params name the translated chat request.)
  static const Protocol kProtocol{"openai-responses",
                                  KeySources{true, {"x-api-key", "api-key", ""}, ""},
                                  &openai::error_body,
                                  &status_of,
                                  false,
                                  nullptr};
  return kProtocol;
}

const Codec& codec() {
  static const ResponsesCodec kCodec;
  return kCodec;
}

}  // namespace anygpt::formats::responses
