#include <boost/json.hpp>
#include <memory>

#include "formats/gemini/answer.hpp"
#include "formats/gemini/gemini.hpp"
#include "formats/gemini/request.hpp"
#include "formats/gemini/stream.hpp"

namespace anygpt::formats::gemini {
namespace json = boost::json;

namespace {

class GenerateCodec final : public Codec {
 public:
  core::Result<Canonical> decode(const json::value& body, const RouteParams& route) const override {
    auto request = chat_request(body, route.model, route.stream);
    if (!request) return request.error();
    Canonical canonical;
    canonical.op = Operation::kChat;
    canonical.model = std::string(strip_model_prefix(route.model));
    canonical.stream = route.stream;
    canonical.body = std::move(*request);
    return canonical;
  }
  core::Result<Canonical> peek(const json::value&, const RouteParams& route) const override {
    if (strip_model_prefix(route.model).empty())
      return core::make_error(core::ErrorKind::kInvalidRequest, "the model name in the path is empty", "model");
    Canonical canonical;
    canonical.model = std::string(strip_model_prefix(route.model));
    canonical.stream = route.stream;
    return canonical;
  }
  std::string encode(const json::object& answer, const AnswerContext& ctx, const Moment&) const override {
    return encode_answer(answer, ctx);
  }
  std::unique_ptr<StreamEncoder> stream(const AnswerContext& ctx) const override {
    return std::make_unique<GenerateStream>(ctx);
  }
};

}  // namespace

const Codec& generate_codec() {
  static const GenerateCodec kCodec;
  return kCodec;
}

core::Result<std::int64_t> count_tokens(const json::value& body, std::string_view model) {
  const auto* nested = body.is_object() ? body.get_object().if_contains("generateContentRequest") : nullptr;
  if (!nested || nested->is_null()) {
    auto request = chat_request(body, model, false);
    if (!request) return request.error();
    return common::estimate_prompt_tokens(*request);
  }
  auto request = chat_request(*nested, model, false);
  if (!request) {
    core::Error e = request.error();
    e.param = e.param.empty() ? "generateContentRequest" : "generateContentRequest." + e.param;
    return e;
  }
  return common::estimate_prompt_tokens(*request);
}

std::string count_tokens_body(std::int64_t total_tokens) {
  return json::serialize(json::object{{"totalTokens", total_tokens}});
}

}  // namespace anygpt::formats::gemini
