#include "formats/anthropic/provider.hpp"

#include <boost/json.hpp>

#include "formats/anthropic/provider_parts.hpp"
#include "formats/common/chunks.hpp"
#include "formats/openai/openai.hpp"

namespace anygpt::formats::anthropic {
namespace json = boost::json;

namespace {

class MessagesProvider final : public ProviderCodec {
 public:
  std::string path(const UpstreamCall&) const override { return "/v1/messages"; }

  core::Result<std::string> encode_request(const json::object& canonical, const UpstreamCall& call) const override {
    return encode_messages_request(canonical, call);
  }

  core::Result<json::object> decode_answer(std::string_view body, const UpstreamCall& call) const override {
    return decode_message(body, call);
  }

  std::unique_ptr<StreamDecoder> stream_decoder(const UpstreamCall& call) const override {
    return make_messages_stream_decoder(call);
  }

  std::unique_ptr<StreamWatcher> stream_watcher(const UpstreamCall&) const override {
    return make_messages_stream_watcher();
  }

  // {"type":"error","error":{"type","message"}} -> message.
  std::optional<core::Usage> answer_usage(std::string_view body, const UpstreamCall&) const override {
    auto usage = openai::top_level_object(body, "usage");
    if (!usage) return std::nullopt;
    json::value v = std::move(*usage);
    UsageCounts counts;
    counts.update(&v);
    if (!counts.present) return core::Usage{};
    return openai::usage_from(json::object{{"usage", counts.canonical()}});
  }
  std::string error_message(std::string_view body) const override {
    json::error_code ec;
    auto parsed = json::parse(body, ec);
    const auto* error = !ec && parsed.is_object() ? parsed.get_object().if_contains("error") : nullptr;
    return error && error->is_object() ? std::string(common::str(error->get_object(), "message")) : std::string();
  }
};

}  // namespace

const ProviderCodec& provider_codec() {
  static const MessagesProvider kProvider;
  return kProvider;
}

}  // namespace anygpt::formats::anthropic
