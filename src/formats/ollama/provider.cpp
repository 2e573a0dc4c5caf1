#include "formats/ollama/provider.hpp"

#include <boost/json.hpp>

#include "formats/common/chunks.hpp"
#include "formats/ollama/provider_answer.hpp"
#include "formats/ollama/provider_request.hpp"
#include "formats/ollama/provider_stream.hpp"
#include "formats/openai/openai.hpp"

namespace anygpt::formats::ollama {
namespace json = boost::json;

namespace {

class OllamaProvider final : public ProviderCodec {
 public:
  std::string path(const UpstreamCall& call) const override {
    return call.op == Operation::kEmbeddings ? "/api/embed" : "/api/chat";
  }

  core::Result<std::string> encode_request(const json::object& canonical, const UpstreamCall& call) const override {
    return call.op == Operation::kEmbeddings ? encode_embed_request(canonical, call)
                                             : encode_chat_request(canonical, call);
  }

  core::Result<json::object> decode_answer(std::string_view body, const UpstreamCall& call) const override {
    return call.op == Operation::kEmbeddings ? decode_embed_answer(body, call.model)
                                             : decode_chat_answer(body, call.model);
  }

  std::unique_ptr<StreamDecoder> stream_decoder(const UpstreamCall& call) const override {
    return make_ndjson_decoder(call.model);
  }
  std::unique_ptr<StreamWatcher> stream_watcher(const UpstreamCall&) const override { return make_ndjson_watcher(); }

  // Ollama errors are {"error": "<message>"}.
  // (Ollama's counts are top-level numbers of a small answer: read by decoding it.)
  std::optional<core::Usage> answer_usage(std::string_view body, const UpstreamCall& call) const override {
    auto answer = decode_answer(body, call);
    if (!answer) return std::nullopt;
    return openai::usage_from(*answer);
  }
  std::string error_message(std::string_view body) const override {
    json::error_code ec;
    auto v = json::parse(body, ec);
    if (ec || !v.is_object()) return {};
    return std::string(common::str(v.get_object(), "error"));
  }
};

}  // namespace

const ProviderCodec& provider_codec() {
  static const OllamaProvider kCodec;
  return kCodec;
}

}  // namespace anygpt::formats::ollama
