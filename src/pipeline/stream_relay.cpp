#include "pipeline/stream_relay.hpp"

#include <boost/json.hpp>
#include <vector>

#include "core/log.hpp"
#include "formats/common/chunks.hpp"
#include "formats/openai/openai.hpp"
#include "formats/openai/stream_inspect.hpp"
#include "pipeline/attempt.hpp"

namespace anygpt::pipeline {
namespace json = boost::json;
namespace oai = formats::openai;
using Kind = oai::EventInfo::Kind;

namespace {

// Per-stream state of relay_events. (A constructor, not aggregate init: it lives in a
// coroutine frame, where GCC 12 double-destroys brace-initialised aggregates.)
struct Relay {
  Relay(RelayTarget t, std::string_view provider) : target(t), provider_id(provider) {}

  RelayTarget target;
  std::string_view provider_id;
  StreamEnd end;
  bool done_seen = false;
  bool content_seen = false;         // a content event came: the response may be committed
  bool committed = false;            // the client has the head
  std::string pending;               // what was held back before the commit
  std::vector<json::object> chunks;  // a native upstream's decoded chunks of one read

  formats::Moment now() const {
    return formats::Moment{
        wall_ms(),
        std::chrono::duration_cast<std::chrono::nanoseconds>(routing::Clock::now() - target.started).count()};
  }

  // The chunk as-is for OpenAI clients. Only usage chunks are parsed.
  void pass_through(std::string_view ev, const oai::EventInfo& seen, std::string& out) {
    if (seen.has_usage) {
      if (auto data = oai::event_data(ev)) {
        json::error_code ec;
        auto v = json::parse(*data, ec);
        if (!ec && v.is_object()) {
          auto u = oai::usage_from(v.as_object());
          if (u.present) end.usage = u;
          const auto* choices = v.as_object().if_contains("choices");
          bool usage_only = u.present && choices && choices->is_array() && choices->as_array().empty();
          if (usage_only && !target.include_usage) return;
        }
      }
    }
    out.append(ev.data(), ev.size());
    out += "\n\n";
  }

  // The chunk through the encoder. False when it was an in-band error event (the stream broke).
  bool translate(std::string_view ev, const oai::EventInfo& seen, std::string& out) {
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
    target.encoder->chunk(chunk, now(), out);
    return true;
  }

  // A native upstream's bytes through its decoder, then the encoder. False when the stream
  // carried an in-band error (end.error set).
  bool decode(std::string_view bytes, std::string& out) {
    chunks.clear();
    auto err = target.decoder->feed(bytes, chunks);
    for (const auto& chunk : chunks) {
      end.delivered_chars += formats::common::delivered_chars(chunk);
      content_seen = content_seen || formats::common::is_content_chunk(chunk);
      auto u = oai::usage_from(chunk);
      if (u.present) end.usage = u;
      target.encoder->chunk(chunk, now(), out);
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
  // when a translated stream carried an in-band error (the error event is in `out`).
  bool split(oai::SseSplitter& splitter, std::string& out) {
    while (auto ev = splitter.next_event()) {
      auto seen = oai::inspect_event(*ev);
      if (seen.kind == Kind::kMalformed) {
        core::log(core::LogLevel::kWarn, "skipped a malformed stream chunk from provider '" + std::string(provider_id) +
                                             "' (" + std::to_string(ev->size()) + " bytes)");
        continue;
      }
      if (seen.kind == Kind::kDone) done_seen = true;
      end.delivered_chars += seen.delivered_chars;
      content_seen = content_seen || seen.content;
      if (!target.encoder) {
        pass_through(*ev, seen, out);
      } else if (!translate(*ev, seen, out)) {
        out += broken_event(end.error);
        return false;
      }
    }
    return true;
  }

  // The usage to report at a clean end: the provider's, else an estimate of what was delivered.
  core::Usage final_usage() const {
    if (end.usage.present) return end.usage;
    core::Usage u;
    u.completion_tokens = oai::estimate_tokens(end.delivered_chars);
    u.total_tokens = u.completion_tokens;
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
};

}  // namespace

namespace {

// Sends `out` (empties it). Before the commit it is held back until a content event came, or
// `force`; then the head and everything held back go first. False when the client is gone.
boost::asio::awaitable<bool> deliver(server::Exchange& ex, Relay& relay, std::string& out, bool force) {
  if (!relay.committed) {
    relay.pending += out;
    out.clear();
    if (!relay.content_seen && !force) co_return true;
    if (relay.target.first_token) relay.target.first_token->disarm();
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
      if (!relay.committed) {
        relay.end.kind = StreamEnd::Kind::kNotStarted;
        relay.end.error = std::move(err);
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
      const bool ok = target.watcher ? relay.watch(*piece, out) : relay.decode(*piece, out);
      if (!ok) {
        out += relay.broken_event(relay.end.error);
        broken = true;
      }
    } else {
      splitter.append(*piece);
      broken = !relay.split(splitter, out);
    }
    if (broken && !relay.committed && !relay.content_seen) {  // an in-band error before any content
      relay.end.kind = StreamEnd::Kind::kNotStarted;
      co_return relay.result();
    }
    const bool written = co_await deliver(ex, relay, out, broken);
    if (!written) {
      relay.end.kind = StreamEnd::Kind::kClientGone;
      co_return relay.result();
    }
    if (broken) co_return relay.result();
  }
  const bool ended = target.watcher ? target.watcher->complete() : !target.decoder || target.decoder->complete();
  if (!ended) {
    auto err = core::make_error(core::ErrorKind::kUpstreamError,
                                "Provider '" + std::string(provider_id) + "' stream ended before its end signal");
    if (!relay.committed && !relay.content_seen) {
      relay.end.kind = StreamEnd::Kind::kNotStarted;
      relay.end.error = std::move(err);
      co_return relay.result();
    }
    out += relay.broken_event(std::move(err));
    co_await deliver(ex, relay, out, true);
    co_return relay.result();
  }
  // The provider ended the body cleanly: the answer is complete even without its [DONE].
  if (target.encoder && !target.watcher)  // a watched stream's own end events went through
    target.encoder->finish(relay.final_usage(), relay.now(), out);
  else if (!target.encoder && !relay.done_seen)
    out += "data: [DONE]\n\n";
  const bool written = co_await deliver(ex, relay, out, true);
  if (!written) relay.end.kind = StreamEnd::Kind::kClientGone;
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
