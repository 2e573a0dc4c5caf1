#include "formats/responses/provider.hpp"

#include <array>
#include <boost/json.hpp>

#include "formats/common/chunks.hpp"
#include "formats/common/event_scan.hpp"
#include "formats/common/sse_watcher.hpp"
#include "formats/openai/openai.hpp"

namespace anygpt::formats::responses {
namespace json = boost::json;
using core::ErrorKind;

namespace {

constexpr std::array<std::string_view, 1> kTextKeys{"delta"};
const common::EventScanSpec kContentScan{kTextKeys, {}, {}, {}, {}, {}, {}};

core::Error upstream_error(std::string message, ErrorKind kind = ErrorKind::kUpstreamError) {
  return core::make_error(kind, std::move(message));
}

// The lifecycle events, parsed in full; every other event only carries content.
bool lifecycle(std::string_view name) {
  return name.empty() || name == "error" || (name.rfind("response.", 0) == 0 && name.find('.', 9) == std::string::npos);
}

class ResponsesWatcher final : public common::SseWatcher {
 public:
  bool complete() const override { return complete_; }
  core::Usage usage() const override { return complete_ ? usage_ : core::Usage{}; }
  std::size_t delivered_chars() const override { return chars_; }
  std::string_view stored_id() const override { return id_; }

 private:
  std::optional<core::Error> on_event(std::string_view event) override {
    std::string_view data;
    std::string joined;
    if (complete_ || !openai::event_payload(event, data, joined) || data == "[DONE]") return std::nullopt;
    if (!lifecycle(common::sse_event_name(event))) {
      auto scan = common::scan_event(data, kContentScan);
      if (!scan.object) return malformed(data);
      chars_ += scan.text_chars;
      return std::nullopt;
    }
    json::monotonic_resource arena;
    json::error_code ec;
    auto parsed = json::parse(data, ec, &arena);
    if (ec || !parsed.is_object()) return malformed(data);
    const auto& o = parsed.get_object();
    auto type = common::str(o, "type");
    if (type == "error") return failure(common::str(o, "code"), common::str(o, "message"));
    const auto* r = o.if_contains("response");
    const json::object* response = r ? r->if_object() : nullptr;
    if (response && id_.empty()) id_ = std::string(common::str(*response, "id"));
    if (type == "response.failed") {
      const auto* e = response ? response->if_contains("error") : nullptr;
      const auto* err = e ? e->if_object() : nullptr;
      return failure(err ? common::str(*err, "code") : "", err ? common::str(*err, "message") : "response.failed");
    }
    if (type == "response.completed" || type == "response.incomplete") {
      if (response) usage_ = openai::usage_from(*response);
      complete_ = true;
      return std::nullopt;
    }
    if (!lifecycle(type)) chars_ += common::scan_event(data, kContentScan).text_chars;  // (no event: line)
    return std::nullopt;
  }

  static core::Error failure(std::string_view code, std::string_view message) {
    bool overloaded = code == "rate_limit_exceeded" || code == "server_is_overloaded";
    std::string text = "responses stream: ";
    text += message.empty() ? std::string_view("error event") : message;
    return upstream_error(std::move(text), overloaded ? ErrorKind::kUpstreamUnavailable : ErrorKind::kUpstreamError);
  }
  static core::Error malformed(std::string_view data) {
    return upstream_error("responses stream: malformed event data: " + std::string(data.substr(0, 120)));
  }

  bool complete_ = false;
  std::size_t chars_ = 0;
  std::string id_;  // the response.id of its lifecycle events
  core::Usage usage_;
};

// Never fed: encode_request refuses every canonical request, so nothing is translated from a
// provider of this protocol. (Kept as an error, not a null decoder, should that change.)
class RefusingDecoder final : public StreamDecoder {
 public:
  std::optional<core::Error> feed(std::string_view, std::vector<json::object>&) override { return refusal(); }
  bool complete() const override { return false; }
  static core::Error refusal() {
    return upstream_error("openai-responses providers are not translated to chat completions");
  }
};

class ResponsesProvider final : public ProviderCodec {
 public:
  std::string path(const UpstreamCall& call) const override {
    return call.op == Operation::kEmbeddings ? "/embeddings" : "/responses";
  }

  core::Result<std::string> encode_request(const json::object&, const UpstreamCall& call) const override {
    std::string message = "The model '";
    message += call.model;
    message +=
        "' has a provider that serves only the Responses API (protocol openai-responses): call POST /v1/responses";
    return core::make_error(ErrorKind::kInvalidRequest, std::move(message), "model", "responses_only");
  }
  core::Result<json::object> decode_answer(std::string_view, const UpstreamCall&) const override {
    return RefusingDecoder::refusal();
  }
  std::unique_ptr<StreamDecoder> stream_decoder(const UpstreamCall&) const override {
    return std::make_unique<RefusingDecoder>();
  }
  std::unique_ptr<StreamWatcher> stream_watcher(const UpstreamCall&) const override { return make_stream_watcher(); }

  // A Response object's usage is {"input_tokens","output_tokens","total_tokens"}, which
  // openai::usage_from_body reads as it reads chat usage.
  std::optional<core::Usage> answer_usage(std::string_view body, const UpstreamCall&) const override {
    return openai::usage_from_body(body);
  }
  // OpenAI's {"error":{"message"}}.
  std::string error_message(std::string_view body) const override {
    auto error = openai::top_level_object(body, "error");
    return error ? std::string(common::str(*error, "message")) : std::string();
  }
  // A Response object's "id" (what GET /responses/{id} reads back).
  std::string stored_id(std::string_view body) const override {
    json::error_code ec;
    auto v = json::parse(body, ec);
    if (ec || !v.is_object()) return {};
    return std::string(common::str(v.get_object(), "id"));
  }
};

}  // namespace

std::unique_ptr<StreamWatcher> make_stream_watcher() {
  return std::make_unique<ResponsesWatcher>();
}

const ProviderCodec& provider_codec() {
  static const ResponsesProvider kCodec;
  return kCodec;
}

}  // namespace anygpt::formats::responses
