#include "formats/anthropic/anthropic.hpp"

#include <boost/json.hpp>

#include "formats/anthropic/answer.hpp"
#include "formats/anthropic/request.hpp"
#include "formats/anthropic/stream.hpp"

namespace anygpt::formats::anthropic {
namespace json = boost::json;
using core::ErrorKind;

namespace {

const char* anthropic_error_type(ErrorKind kind) {
  switch (kind) {
    case ErrorKind::kInvalidRequest:
    case ErrorKind::kMethodNotAllowed: return "invalid_request_error";
    case ErrorKind::kUnauthorized: return "authentication_error";
    case ErrorKind::kForbidden: return "permission_error";
    case ErrorKind::kNotFound: return "not_found_error";
    case ErrorKind::kConflict: return "conflict_error";
    case ErrorKind::kPayloadTooLarge: return "request_too_large";
    case ErrorKind::kQuotaExceeded:
    case ErrorKind::kRateLimited: return "rate_limit_error";
    case ErrorKind::kUpstreamUnavailable: return "overloaded_error";
    case ErrorKind::kUpstreamTimeout: return "timeout_error";
    case ErrorKind::kUpstreamError:
    case ErrorKind::kInsufficientStorage:
    case ErrorKind::kInternal: return "api_error";
  }
  return "api_error";
}

unsigned status_of(const core::Error& error) {
  return core::http_status(error.kind);
}

class MessagesCodec final : public Codec {
 public:
  core::Result<Canonical> decode(const json::value& body, const RouteParams&) const override {
    return decode_request(body, true);
  }
  core::Result<Canonical> peek(const json::value& body, const RouteParams&) const override {
    return common::peek_model_and_stream(body, false);
  }
  std::string encode(const json::object& answer, const AnswerContext& ctx, const Moment&) const override {
    return encode_message(answer, ctx);
  }
  std::unique_ptr<StreamEncoder> stream(const AnswerContext& ctx) const override { return make_stream_encoder(ctx); }
};

}  // namespace

std::string error_body(const core::Error& error) {
  json::object inner{{"type", anthropic_error_type(error.kind)}, {"message", error.message}};
  return json::serialize(json::object{{"type", "error"}, {"error", std::move(inner)}});
}

const Protocol& protocol() {
  static const Protocol kProtocol{
      "anthropic", KeySources{true, {"x-api-key", "", ""}, ""}, &error_body, &status_of, false, nullptr};
  return kProtocol;
}

const Codec& messages_codec() {
  static const MessagesCodec kCodec;
  return kCodec;
}

core::Result<std::int64_t> count_tokens(const json::value& body) {
  auto canonical = decode_request(body, false);
  if (!canonical) return canonical.error();
  const auto* chat = canonical->body.if_object();
  return chat ? common::estimate_prompt_tokens(*chat) : std::int64_t{0};
}

std::string count_tokens_body(std::int64_t input_tokens) {
  return json::serialize(json::object{{"input_tokens", input_tokens}});
}

}  // namespace anygpt::formats::anthropic
