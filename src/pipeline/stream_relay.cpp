#include "pipeline/stream_relay.hpp"

#include <boost/json.hpp>
#include <vector>

#include "core/log.hpp"
#include "formats/common/chunks.hpp"
#include "formats/openai/openai.hpp"
#include "formats/openai/stream_inspect.hpp"
#include "pipeline/attempt.hpp"
#include "pipeline/continuation.hpp"
#include "pipeline/hedge.hpp"

namespace anygpt::pipeline {
namespace json = boost::json;
namespace oai = formats::openai;
using Kind = oai::EventInfo::Kind;

namespace {

// The chunk with `billed` more completion (and total) tokens in its usage: what the client is
// shown when earlier parts of its answer were billed already.
void add_billed(json::object& chunk, std::int64_t billed) {
  auto* usage = chunk.if_contains("usage");
  if (!usage || !usage->is_object()) return;
  for (const char* key : {"completion_tokens", "total_tokens"}) {
    auto& v = usage->get_object()[key];
    v = (v.is_int64() ? v.get_int64() : v.is_uint64() ? static_cast<std::int64_t>(v.get_uint64()) : 0) + billed;
  }
}

// Per-stream state of relay_events. (A constructor, not aggregate init: it lives in a
// coroutine frame, where GCC 12 double-destroys brace-initialised aggregates.)
struct Relay {
  Relay(RelayTarget t, std::string_view provider) : target(t), provider_id(provider), committed(t.seam != nullptr) {}

  RelayTarget target;
  std::string_view provider_id;
  StreamEnd end;
  bool done_seen = false;
  bool content_seen = false;         // a content event came: the response may be committed
  bool committed = false;            // the client has the head
  bool tool_call = false;            // a tool call went by (a cut inside it cannot be continued)
  bool finished = false;             // a finish reason went by
  bool lost = false;                 // the other lane of a hedge race committed first
  std::string pending;               // what was held back before the commit
  std::vector<json::object> chunks;  // a native upstream's decoded chunks of one read

  formats::Moment now() const {
    return formats::Moment{
        wall_ms(),
        std::chrono::duration_cast<std::chrono::nanoseconds>(routing::Clock::now() - target.started).count()};
  }

  // Nothing of this stream reached the client yet (for a continuation: nothing since the seam).
  bool unsent() const { return target.seam ? !content_seen : !committed; }

  // A break now can be continued by prefill: text went to the client, and it is not inside a
  // tool call or past the finish. A watched stream's text is the watcher's, and the client's
  // encoder must be able to carry on inside the message it did not write.
  bool can_cut() {
    if (!target.may_cut || tool_call || finished || !content_seen) return false;
    if (target.watcher) {
      auto progress = target.watcher->progress();
      if (!progress.continuable || progress.text.size() > kMaxPrefillBytes ||
          progress.text.find_first_not_of(" \t\r\n") == std::string_view::npos)
        return false;
      if (!target.encoder->resume(progress)) return false;
      end.text.assign(progress.text);
      return true;
    }
    const std::size_t before = target.seam ? target.seam->text.size() : 0;
    if (before + end.text.size() > kMaxPrefillBytes) return false;
    return before > 0 || end.text.find_first_not_of(" \t\r\n") != std::string::npos;
  }

  // The first content after a seam starts without the overlap; usage counts what was billed before.
  bool reshapes(bool first_content, bool has_usage) const {
    return target.seam && ((first_content && !target.seam->overlap.empty()) || (has_usage && target.seam->billed > 0));
  }
  void reshape(json::object& chunk, bool first_content, std::size_t text_from) {
    if (first_content) end.text.erase(text_from, formats::common::drop_leading(chunk, target.seam->overlap));
    add_billed(chunk, target.seam->billed);
  }

  // The chunk as-is for OpenAI clients. Only usage chunks (and a continuation's first content)
  // are parsed.
  void pass_through(std::string_view ev, const oai::EventInfo& seen, bool first_content, std::size_t text_from,
                    std::string& out) {
    if (!seen.has_usage && !reshapes(first_content, false)) {
      out.append(ev.data(), ev.size());
      out += "\n\n";
      return;
    }
    auto data = oai::event_data(ev);
    json::error_code ec;
    auto v = data ? json::parse(*data, ec) : json::value();
    if (!data || ec || !v.is_object()) {
      out.append(ev.data(), ev.size());
      out += "\n\n";
      return;
    }
    auto& chunk = v.as_object();
    auto u = oai::usage_from(chunk);
    if (u.present) end.usage = u;
    const auto* choices = chunk.if_contains("choices");
    bool usage_only = u.present && choices && choices->is_array() && choices->as_array().empty();
    if (usage_only && !target.include_usage) return;
    if (!reshapes(first_content, u.present)) {
      out.append(ev.data(), ev.size());
      out += "\n\n";
      return;
    }
    reshape(chunk, first_content, text_from);
    out += "data: ";
    out += json::serialize(chunk);
    out += "\n\n";
  }

  // A canonical chunk to the encoder, reshaped after a seam.
  void encode(const json::object& chunk, bool first_content, std::size_t text_from, std::string& out) {
    const bool has_usage = chunk.contains("usage") && chunk.at("usage").is_object();
    if (!reshapes(first_content, has_usage)) {
      target.encoder->chunk(chunk, now(), out);
      return;
    }
    json::object own(chunk, json::storage_ptr{});
    reshape(own, first_content, text_from);
    target.encoder->chunk(own, now(), out);
  }

  // The chunk through the encoder. False when it was an in-band error event (the stream broke).
  bool translate(std::string_view ev, const oai::EventInfo& seen, bool first_content, std::size_t text_from,
                 std::string& out) {
    std::string_view data;
    std::string joined;
    if (seen.kind != Kind::kChunk || !oai::event_payload(ev, data, joined)) return true;
    // Chunks are small: parse each into a stack block (no heap allocation for the usual chunk).
    unsigned char block[4096];
    json::monotonic_resource arena(block, sizeof block);
    json::error_code ec;
    auto v = json::parse(data, ec, &arena);
    if (ec || !v.is_object()) return true;
    const auto& chunk = v.as_object();
    if (const auto* err = chunk.if_contains("error"); err && !chunk.contains("choices")) {
      const json::value* m = err->is_object() ? err->as_object().if_contains("message") : nullptr;
      std::string message = m && m->is_string() ? std::string(m->as_string()) : json::serialize(*err);
      end.error = core::make_error(
          core::ErrorKind::kUpstreamError,
          "Provider '" + std::string(provider_id) + "' reported an error mid-stream: " + message.substr(0, 500));
      return false;
    }
    if (seen.has_usage) {
      auto u = oai::usage_from(chunk);
      if (u.present) end.usage = u;
    }
    encode(chunk, first_content, text_from, out);
    return true;
  }

  // A native upstream's bytes through its decoder, then the encoder. False when the stream
  // carried an in-band error (end.error set).
  bool decode(std::string_view bytes, std::string& out) {
    chunks.clear();
    auto err = target.decoder->feed(bytes, chunks);
    for (const auto& chunk : chunks) {
      end.delivered_chars += formats::common::delivered_chars(chunk);
      const bool content = formats::common::is_content_chunk(chunk);
      const bool first_content = content && !content_seen;
      content_seen = content_seen || content;
      if (target.seam && !content_seen) continue;  // the continuation's role chunk: the client has its head
      const auto text_from = end.text.size();
      auto marks = formats::common::append_delta_text(chunk, end.text);
      tool_call = tool_call || marks.tool_call;
      finished = finished || marks.finish;
      auto u = oai::usage_from(chunk);
      if (u.present) end.usage = u;
      encode(chunk, first_content, text_from, out);
    }
    return !err || upstream_failed(std::move(*err));
  }

  // A native upstream's bytes to a client of its own protocol, as they are, past the watcher.
  // False when the stream carried an in-band error (end.error set).
  bool watch(std::string_view bytes, std::string& out) {
    auto err = target.watcher->feed(bytes);
    out.append(bytes.data(), bytes.size());
    content_seen = content_seen || target.watcher->delivered_chars() > 0 || target.watcher->complete();
    return !err || upstream_failed(std::move(*err));
  }

  bool upstream_failed(core::Error err) {
    end.error = std::move(err);
    end.error.message =
        "Provider '" + std::string(provider_id) + "' reported an error mid-stream: " + end.error.message;
    return false;
  }

  // The end as the relay leaves it, with what a watcher learned.
  StreamEnd result() {
    if (target.watcher) {
      end.usage = target.watcher->usage();
      end.delivered_chars = target.watcher->delivered_chars();
    }
    return end;
  }

  // The complete OpenAI SSE events buffered in `splitter`, passed through or translated. False
  // when a translated stream carried an in-band error (end.error set).
  bool split(oai::SseSplitter& splitter, std::string& out) {
    while (auto ev = splitter.next_event()) {
      const auto text_from = end.text.size();
      auto seen = oai::inspect_event(*ev, &end.text);
      if (seen.kind == Kind::kMalformed) {
        core::log(core::LogLevel::kWarn, "skipped a malformed stream chunk from provider '" + std::string(provider_id) +
                                             "' (" + std::to_string(ev->size()) + " bytes)");
        continue;
      }
      if (seen.kind == Kind::kDone) done_seen = true;
      end.delivered_chars += seen.delivered_chars;
      const bool first_content = seen.content && !content_seen;
      content_seen = content_seen || seen.content;
      tool_call = tool_call || seen.tool_call;
      finished = finished || seen.finish;
      if (target.seam && !content_seen) continue;  // the continuation's role chunk: the client has its head
      if (!target.encoder)
        pass_through(*ev, seen, first_content, text_from, out);
      else if (!translate(*ev, seen, first_content, text_from, out))
        return false;
    }
    return true;
  }

  // The usage to report at a clean end: the provider's, else an estimate of what was delivered;
  // plus what was billed before a seam.
  core::Usage final_usage() const {
    core::Usage u = end.usage;
    if (!u.present) {
      u.completion_tokens = oai::estimate_tokens(end.delivered_chars);
      u.total_tokens = u.completion_tokens;
    }
    if (target.seam) {
      u.completion_tokens += target.seam->billed;
      u.total_tokens += target.seam->billed;
    }
    return u;
  }

  // Ends a broken stream in the client's protocol.
  std::string broken_event(core::Error err) {
    end.kind = StreamEnd::Kind::kBroken;
    std::string event;
    if (target.encoder)
      target.encoder->fail(err, event);
    else
      event = oai::stream_error_event(err);
    end.error = std::move(err);
    end.error.provider = std::string(provider_id);
    return event;
  }

  // Leaves the stream open for a continuation.
  void cut(core::Error err) {
    end.kind = StreamEnd::Kind::kCut;
    end.error = std::move(err);
    end.error.provider = std::string(provider_id);
  }
};

}  // namespace

namespace {

// Sends `out` (empties it). Before the commit it is held back until a content event came, or
// `force`; then the head and everything held back go first. False when the client is gone.
boost::asio::awaitable<bool> deliver(server::Exchange& ex, Relay& relay, std::string& out, bool force) {
  if (relay.content_seen && relay.target.first_token) relay.target.first_token->disarm();
  if (!relay.committed) {
    relay.pending += out;
    out.clear();
    if (!relay.content_seen && !force) co_return true;
    if (relay.target.gate && !relay.target.gate->claim(relay.target.lane)) {
      relay.lost = true;
      co_return false;
    }
    server::Headers headers;
    if (relay.target.headers) headers = *relay.target.headers;
    relay.committed = true;
    const bool begun = co_await ex.begin_stream(200, relay.target.content_type, std::move(headers));
    if (!begun) co_return false;
    out.swap(relay.pending);
  }
  bool written = true;
  if (!out.empty()) written = co_await ex.write_chunk(out);
  out.clear();
  co_return written;
}

}  // namespace

boost::asio::awaitable<StreamEnd> relay_events(server::Exchange& ex, upstream::Stream& stream, RelayTarget target,
                                               std::string_view provider_id) {
  Relay relay(target, provider_id);
  oai::SseSplitter splitter;
  std::string out;
  for (;;) {
    auto piece = co_await stream.next();
    if (!piece) {
      if (ex.client_gone()) {
        relay.end.kind = StreamEnd::Kind::kClientGone;
        co_return relay.result();
      }
      auto err = piece.error();
      err.message = "Provider '" + std::string(provider_id) + "' stream failed after it started: " + err.message;
      if (relay.unsent()) {
        relay.end.kind = StreamEnd::Kind::kNotStarted;
        relay.end.error = std::move(err);
        co_return relay.result();
      }
      if (relay.can_cut()) {
        relay.cut(std::move(err));
        co_return relay.result();
      }
      out = relay.broken_event(std::move(err));
      co_await deliver(ex, relay, out, true);
      co_return relay.result();
    }
    if (piece->empty()) break;
    if (!relay.end.first_event) relay.end.first_event = routing::Clock::now();
    bool broken = false;
    if (target.decoder || target.watcher) {
      broken = !(target.watcher ? relay.watch(*piece, out) : relay.decode(*piece, out));
    } else {
      splitter.append(*piece);
      broken = !relay.split(splitter, out);
    }
    if (broken && relay.unsent() && !relay.content_seen) {  // an in-band error before any content
      relay.end.kind = StreamEnd::Kind::kNotStarted;
      co_return relay.result();
    }
    const bool cut = broken && relay.can_cut();
    if (broken && !cut) out += relay.broken_event(relay.end.error);
    const bool written = co_await deliver(ex, relay, out, broken);
    if (!written) {
      relay.end.kind = relay.lost ? StreamEnd::Kind::kLost : StreamEnd::Kind::kClientGone;
      co_return relay.result();
    }
    if (cut) relay.cut(relay.end.error);
    if (broken) co_return relay.result();
  }
  const bool ended = target.watcher ? target.watcher->complete() : !target.decoder || target.decoder->complete();
  if (!ended) {
    auto err = core::make_error(core::ErrorKind::kUpstreamError,
                                "Provider '" + std::string(provider_id) + "' stream ended before its end signal");
    if (relay.unsent() && !relay.content_seen) {
      relay.end.kind = StreamEnd::Kind::kNotStarted;
      relay.end.error = std::move(err);
      co_return relay.result();
    }
    if (relay.can_cut()) {  // (everything read was delivered in the loop)
      relay.cut(std::move(err));
      co_return relay.result();
    }
    out += relay.broken_event(std::move(err));
    co_await deliver(ex, relay, out, true);
    co_return relay.result();
  }
  // The provider ended the body cleanly: the answer is complete even without its [DONE].
  if (target.encoder && !target.watcher)  // a watched stream's own end events went through
    target.encoder->finish(relay.final_usage(), relay.now(), out);
  else if (!target.encoder && !relay.done_seen && target.add_done)
    out += "data: [DONE]\n\n";
  const bool written = co_await deliver(ex, relay, out, true);
  if (!written) relay.end.kind = relay.lost ? StreamEnd::Kind::kLost : StreamEnd::Kind::kClientGone;
  co_return relay.result();
}

json::object completion_as_chunk(const json::object& completion) {
  json::object chunk = completion;
  chunk["object"] = "chat.completion.chunk";
  if (auto* choices = chunk.if_contains("choices"); choices && choices->is_array())
    for (auto& c : choices->as_array()) {
      if (!c.is_object()) continue;
      auto& o = c.as_object();
      if (auto* m = o.if_contains("message")) {
        json::value message = std::move(*m);
        o.erase("message");
        o["delta"] = std::move(message);
      }
    }
  chunk.erase("usage");
  return chunk;
}

}  // namespace anygpt::pipeline
