#include "formats/gemini/provider.hpp"

#include <boost/json.hpp>
#include <memory>
#include <string>

#include "formats/common/chunks.hpp"
#include "formats/gemini/gemini.hpp"
#include "formats/gemini/provider_answer.hpp"
#include "formats/gemini/provider_request.hpp"
#include "formats/openai/openai.hpp"

namespace anygpt::formats::gemini {
namespace json = boost::json;

namespace {

class GeminiProvider final : public ProviderCodec {
 public:
  std::string path(const UpstreamCall& call) const override {
    std::string path = "/models/" + std::string(strip_model_prefix(call.model));
    if (call.op == Operation::kEmbeddings) return path + ":batchEmbedContents";
    return path + (call.stream ? ":streamGenerateContent?alt=sse" : ":generateContent");
  }

  core::Result<std::string> encode_request(const json::object& canonical, const UpstreamCall& call) const override {
    auto body = call.op == Operation::kEmbeddings ? embed_request(canonical, strip_model_prefix(call.model))
                                                  : generate_request(canonical);
    if (!body) return body.error();
    return json::serialize(*body);
  }

  core::Result<json::object> decode_answer(std::string_view body, const UpstreamCall& call) const override {
    if (call.op == Operation::kEmbeddings) return embeddings_answer(body, call.model);
    return chat_answer(body, call.model);
  }

  std::unique_ptr<StreamDecoder> stream_decoder(const UpstreamCall& call) const override {
    return make_stream_decoder(call.model);
  }
  std::unique_ptr<StreamWatcher> stream_watcher(const UpstreamCall&) const override { return make_stream_watcher(); }

  std::optional<core::Usage> answer_usage(std::string_view body, const UpstreamCall&) const override {
    auto metadata = openai::top_level_object(body, "usageMetadata");
    if (!metadata) return std::nullopt;
    if (metadata->empty()) return core::Usage{};
    return openai::usage_from(json::object{{"usage", usage_from_metadata(*metadata)}});
  }
  std::string error_message(std::string_view body) const override {
    json::error_code ec;
    auto v = json::parse(body, ec);
    const auto* error = ec ? nullptr : error_object(v);
    return error ? std::string(common::str(*error, "message")) : std::string();
  }
};

}  // namespace

const ProviderCodec& provider_codec() {
  static const GeminiProvider kCodec;
  return kCodec;
}

}  // namespace anygpt::formats::gemini
