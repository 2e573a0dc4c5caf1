#include "formats/openai/chat_codec.hpp"

#include <boost/json.hpp>

#include "formats/openai/openai.hpp"

namespace anygpt::formats::openai {
namespace json = boost::json;

namespace {

unsigned status_of(const core::Error& e) {
  return core::http_status(e.kind);
}

// `o` serialised, with "created" stamped when the upstream gave none (native providers have no
// such field; formats have no clock, so it comes from `now`).
std::string serialize_stamped(const json::object& o, const Moment& now) {
  const auto* created = o.if_contains("created");
  if (created && created->is_int64() && created->get_int64() > 0) return json::serialize(o);
  json::object copy(o, json::storage_ptr{});
  copy["created"] = now.wall_ms / 1000;
  return json::serialize(copy);
}

// chat.completion.chunk objects as OpenAI SSE; the usage-only chunk only when asked for.
class ChunkEncoder final : public StreamEncoder {
 public:
  explicit ChunkEncoder(bool include_usage) : include_usage_(include_usage) {}
  std::string_view content_type() const override { return "text/event-stream"; }
  void chunk(const json::object& chunk, const Moment& now, std::string& out) override {
    const auto* choices = chunk.if_contains("choices");
    bool usage_only = choices && choices->is_array() && choices->get_array().empty();
    if (usage_only && !include_usage_) return;
    out += "data: ";
    out += serialize_stamped(chunk, now);
    out += "\n\n";
  }
  void finish(const core::Usage&, const Moment&, std::string& out) override { out += "data: [DONE]\n\n"; }
  void fail(const core::Error& error, std::string& out) override { out += stream_error_event(error); }

 private:
  bool include_usage_;
};

class ChatCodec : public Codec {
 public:
  core::Result<Canonical> decode(const json::value& body, const RouteParams&) const override {
    return decode_chat(body);
  }
  bool relays_answer() const override { return true; }
  std::string encode(const json::object& answer, const AnswerContext&, const Moment& now) const override {
    return serialize_stamped(answer, now);
  }
  std::unique_ptr<StreamEncoder> stream(const AnswerContext& ctx) const override {
    return std::make_unique<ChunkEncoder>(ctx.include_usage);
  }
};

// An Azure deployment's chat: the deployment (from the path) is the model, whatever the body
// says; the body's own "model" is renamed on the way upstream.
class DeploymentCodec final : public ChatCodec {
 public:
  core::Result<Canonical> decode(const json::value& body, const RouteParams& route) const override {
    auto c = decode_chat(body, true);
    if (c) c->model = std::string(route.model);
    return c;
  }
};

}  // namespace

core::Result<Canonical> decode_chat(const json::value& body, bool model_optional) {
  auto info = inspect_chat_request(body, model_optional);
  if (!info) return info.error();
  Canonical c;
  c.same_bytes = true;
  c.model = std::move(info->model);
  c.stream = info->stream;
  c.include_usage = info->include_usage;
  return c;
}

const Protocol& protocol() {
  static const Protocol kProtocol{
      "openai", KeySources{true, {"x-api-key", "api-key", ""}, ""}, &error_body, &status_of, true, nullptr};
  return kProtocol;
}

const Codec& chat_codec() {
  static const ChatCodec kCodec;
  return kCodec;
}

const Codec& deployment_chat_codec() {
  static const DeploymentCodec kCodec;
  return kCodec;
}

}  // namespace anygpt::formats::openai
