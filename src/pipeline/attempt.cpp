#include "pipeline/attempt.hpp"

#include <boost/json.hpp>
#include <random>

#include "core/log.hpp"
#include "core/watchdog.hpp"
#include "formats/common/chunks.hpp"
#include "formats/openai/embeddings_codec.hpp"
#include "formats/openai/media_codec.hpp"
#include "formats/openai/openai.hpp"
#include "formats/openai/stream_inspect.hpp"
#include "formats/openai/upload_codec.hpp"
#include "pipeline/continuation.hpp"
#include "pipeline/hedge.hpp"
#include "pipeline/stream_relay.hpp"
#include "pipeline/uploads.hpp"
#include "providers/registry.hpp"

namespace anygpt::pipeline {
namespace json = boost::json;
namespace oai = formats::openai;
using core::ErrorKind;
using core::make_error;

double ms_between(Clock::time_point a, Clock::time_point b) {
  return std::chrono::duration<double, std::milli>(b - a).count();
}

std::int64_t wall_ms() {
  return std::chrono::duration_cast<std::chrono::milliseconds>(std::chrono::system_clock::now().time_since_epoch())
      .count();
}

namespace {

std::mt19937_64& thread_rng() {
  thread_local std::mt19937_64 rng{std::random_device{}()};
  return rng;
}

core::Error upstream_status_error(const routing::Candidate& c, unsigned status) {
  auto e = make_error(ErrorKind::kUpstreamError,
                      "Provider '" + c.provider->provider.id + "' answered HTTP " + std::to_string(status), {},
                      "upstream_error");
  if (status == 429) e.code = "upstream_rate_limited";
  e.provider = c.provider->provider.id;
  e.upstream_status = static_cast<int>(status);
  return e;
}

// Does the failure match an excluded-errors.json pattern (case-insensitive substring)?
bool is_excluded(const Gateway& gw, unsigned status, std::string_view text) {
  auto patterns = gw.excluded_errors.load();
  if (!patterns || patterns->empty()) return false;
  std::string lower;
  lower.reserve(std::min<std::size_t>(text.size(), 4096) + 16);
  if (status) lower = "http " + std::to_string(status) + " ";
  for (char ch : text.substr(0, 4096)) lower += static_cast<char>(std::tolower(static_cast<unsigned char>(ch)));
  for (const auto& p : *patterns)
    if (!p.empty() && lower.find(p) != std::string::npos) return true;
  return false;
}

void account(const Caller& caller, std::int64_t tokens) {
  auth::KeyRegistry::account(*caller.key, tokens);
}

// The error kind a relayed client-fault status stands for.
ErrorKind client_fault_kind(unsigned status) {
  switch (status) {
    case 404: return ErrorKind::kNotFound;
    case 413: return ErrorKind::kPayloadTooLarge;
    default: return ErrorKind::kInvalidRequest;
  }
}

// A 4xx the client caused (bad parameter, context too long...): passed through as the provider
// phrased it, so the client can fix its request. OpenAI clients get the provider's body as it
// is; other protocols get its message in their own error shape.
boost::asio::awaitable<void> relay_client_error(server::Exchange& ex, const formats::Protocol& protocol,
                                                const formats::ProviderCodec* upstream, unsigned status,
                                                const std::string& content_type, std::string& body,
                                                std::string_view provider_key) {
  // Some providers echo the credential they were given in their error text: never relay it.
  if (provider_key.size() >= 8)
    for (auto pos = body.find(provider_key); pos != std::string::npos; pos = body.find(provider_key, pos))
      body.replace(pos, provider_key.size(), "***");
  if (upstream) {  // a native provider's error, in the client's shape
    auto message = upstream->error_message(body);
    auto e = make_error(client_fault_kind(status),
                        "Provider rejected the request: " + (message.empty() ? body.substr(0, 500) : message));
    server::Response r{protocol.error_status(e), "application/json", protocol.error_body(e), {}};
    co_await ex.reply(std::move(r));
    co_return;
  }
  json::error_code ec;
  auto v = json::parse(body, ec);
  const json::value* inner = !ec && v.is_object() ? v.as_object().if_contains("error") : nullptr;
  if (inner && protocol.relays_upstream_errors) {
    server::Response r{status, content_type.empty() ? "application/json" : content_type, std::move(body), {}};
    co_await ex.reply(std::move(r));
    co_return;
  }
  auto e = make_error(client_fault_kind(status), "Provider rejected the request: " + body.substr(0, 500));
  if (inner && inner->is_object()) {
    const auto& o = inner->as_object();
    if (const auto* m = o.if_contains("message"); m && m->is_string())
      e.message = "Provider rejected the request: " + std::string(m->as_string());
    if (const auto* p = o.if_contains("param"); p && p->is_string()) e.param = std::string(p->as_string());
    if (const auto* c = o.if_contains("code"); c && c->is_string()) e.code = std::string(c->as_string());
  }
  server::Response r{protocol.relays_upstream_errors ? status : protocol.error_status(e),
                     "application/json",
                     protocol.error_body(e),
                     {}};
  co_await ex.reply(std::move(r));
}

// Fills the verdict for an upstream error status, minding excluded patterns.
void judge_status(AttemptContext& a, AttemptReport& rep, unsigned status, const std::string& retry_after,
                  std::string_view body) {
  auto ra = routing::parse_retry_after(retry_after, wall_ms() / 1000);
  std::uniform_real_distribution<double> jitter(0, 1);
  rep.verdict = routing::classify_status(status, ra, a.retried, jitter(thread_rng()), a.gw.retry);
  // Too long for this model: never resent to it; a fallback model gets it, when there is one
  // (else the provider's 400 is relayed).
  if (rep.verdict.next == routing::Next::kRelay && a.has_next_model && routing::is_context_overflow(status, body)) {
    rep.verdict.next = routing::Next::kNextModel;
    a.last = upstream_status_error(a.c, status);
  }
  rep.obs.outcome = rep.verdict.outcome;
  if (rep.verdict.outcome == routing::Outcome::kRateLimited) rep.obs.rest_until = Clock::now() + rep.verdict.rest;
  if (rep.verdict.next == routing::Next::kRetrySame || rep.verdict.next == routing::Next::kFailOver) {
    a.last = upstream_status_error(a.c, status);
    if (rep.obs.outcome != routing::Outcome::kNeutral && is_excluded(a.gw, status, body))
      rep.obs.outcome = routing::Outcome::kNeutral;
  }
}

void judge_transport(AttemptContext& a, AttemptReport& rep, const core::Error& error) {
  rep.verdict = routing::classify_transport(error);
  rep.obs.outcome = rep.verdict.outcome;
  a.last = error;
  a.last.provider = a.c.provider->provider.id;
  if (rep.obs.outcome != routing::Outcome::kNeutral && is_excluded(a.gw, 0, error.message))
    rep.obs.outcome = routing::Outcome::kNeutral;
}

formats::Moment moment(const Job& job) {
  return formats::Moment{wall_ms(),
                         std::chrono::duration_cast<std::chrono::nanoseconds>(Clock::now() - job.started).count()};
}

}  // namespace

// What an answer without usage is billed: an estimate of the request's input (chat: its prompt;
// embeddings: its texts and token ids; images, speech and uploads: the original's charges), or 0 when the
// request was never decoded.
std::int64_t estimated_input_tokens(const Job& job) {
  if (!job.object || !job.object->is_object()) return 0;
  const auto& request = job.object->as_object();
  switch (job.canon.op) {
    case formats::Operation::kChat: return formats::common::estimate_prompt_tokens(request);
    case formats::Operation::kEmbeddings: return oai::estimate_embedding_tokens(request);
    case formats::Operation::kImages: return oai::estimate_image_tokens(request);
    case formats::Operation::kSpeech: return oai::estimate_speech_tokens(request);
    case formats::Operation::kVideos: return oai::estimate_image_tokens(request);
    case formats::Operation::kImageEdits:
    case formats::Operation::kTranscriptions:
    case formats::Operation::kTranslations: return oai::estimate_upload_tokens(job.canon.op, request);
  }
  return 0;
}

namespace {

// What the provider keeps from this answer (a video job, a stored Response) is read back through
// it, by its creator only. (Nothing for an empty id.)
void remember_held(const AttemptContext& a, Held kind, std::string_view id) {
  if (id.empty()) return;
  record_holder(a.gw, kind, std::string(id), a.c.provider->provider.id, auth::key_digest(a.caller.key->api_key));
}

formats::AnswerContext answer_context(const AttemptContext& a, const server::Exchange& ex) {
  return formats::AnswerContext{a.model, ex.request_id(), a.job.canon.include_usage, a.job.canon.embeddings_base64,
                                a.job.client_object};
}

// The call for this attempt: the operation's endpoint of the candidate, with the provider's key
// sent the way its protocol wants it.
upstream::Request upstream_request(const AttemptContext& a, bool stream, upstream::Abort& abort) {
  const auto& auth = providers::descriptor(a.c.provider->provider.protocol);
  upstream::Request r{&a.c.endpoint(a.job.canon.op, stream),
                      a.body,
                      a.source,
                      a.job.upload ? std::string_view(a.job.upload->content_type) : std::string_view{},
                      a.c.provider->provider.api_key,
                      auth.key_header,
                      auth.extra_headers,
                      stream,
                      &abort,
                      a.deadline};
  return r;
}

formats::UpstreamCall upstream_call(const AttemptContext& a) {
  return formats::UpstreamCall{a.job.canon.op, a.c.upstream_model, a.job.canon.stream,
                               a.gw.config.anthropic_default_max_tokens};
}

// Answers go to the client byte for byte from an OpenAI-compatible provider to an OpenAI-shaped
// client, and from a native provider to a client of the same protocol.
bool relays_bytes(const AttemptContext& a) {
  if (a.c.provider->codec) return same_protocol(a.job, a.c);
  return a.job.codec.relays_answer();
}

void mark_bad_answer(AttemptContext& a, AttemptReport& rep) {
  rep.verdict = routing::Verdict{};
  rep.obs.outcome = routing::Outcome::kFailure;
  a.last = make_error(ErrorKind::kUpstreamError,
                      "Provider '" + a.c.provider->provider.id + "' returned a body that is not a valid answer", {},
                      "upstream_bad_response");
}

}  // namespace

// The usage of a native answer relayed untouched (nullopt when it is not a valid answer).
std::optional<core::Usage> native_usage(const AttemptContext& a, std::string_view body) {
  return a.c.provider->codec->answer_usage(body, upstream_call(a));
}

namespace {
// The usage an answer relayed as it is reports (nullopt when it is not a valid answer). A
// transcription may be plain text (text, srt, vtt): always an answer, its usage maybe unknown.
std::optional<core::Usage> relayed_usage(const AttemptContext& a, std::string_view body) {
  if (a.c.provider->codec) return native_usage(a, body);
  const auto op = a.job.canon.op;
  if (op == formats::Operation::kTranscriptions || op == formats::Operation::kTranslations)
    return oai::transcription_usage(body);
  return oai::usage_from_body(body);
}
}  // namespace

bool same_protocol(const Job& job, const routing::Candidate& c) {
  return !job.continuing && c.provider->codec &&
         job.protocol.name == config::protocol_name(c.provider->provider.protocol);
}

boost::asio::awaitable<AttemptReport> try_plain(server::Exchange& ex, AttemptContext& a) {
  AttemptReport rep;
  upstream::Abort abort;
  auto req = upstream_request(a, false, abort);
  auto start = Clock::now();
  ex.watch_client([&abort] { abort.trigger(); });
  auto res = co_await a.client.call(req);
  ex.unwatch_client();
  rep.obs.total_ms = ms_between(start, Clock::now());
  if (ex.client_gone()) {
    rep.answered = true;  // nobody to answer; the upstream call was cancelled
    co_return rep;
  }
  if (!res && res.error().kind == ErrorKind::kInsufficientStorage) {  // our spool, not the provider
    rep.answered = true;
    co_await reply_error(ex, res.error(), a.job.protocol);
    co_return rep;
  }
  if (!res) {
    judge_transport(a, rep, res.error());
    co_return rep;
  }
  auto& r = *res;
  judge_status(a, rep, r.status, r.retry_after, r.body);
  if (rep.verdict.next == routing::Next::kRelay) {
    rep.answered = true;
    co_await relay_client_error(ex, a.job.protocol, a.c.provider->codec, r.status, r.content_type, r.body,
                                a.c.provider->provider.api_key);
    co_return rep;
  }
  if (rep.verdict.next != routing::Next::kDone) co_return rep;
  server::Response out;
  std::optional<core::Usage> usage;
  if (relays_bytes(a)) {
    usage = relayed_usage(a, r.body);
    if (a.job.canon.op == formats::Operation::kVideos) remember_held(a, Held::kVideoJob, oai::video_job_id(r.body));
    if (a.c.provider->codec) remember_held(a, Held::kResponse, a.c.provider->codec->stored_id(r.body));
    out = server::Response{
        r.status, r.content_type.empty() ? "application/json" : std::move(r.content_type), std::move(r.body), {}};
  } else if (const auto* upstream = a.c.provider->codec) {
    auto answer = upstream->decode_answer(r.body, upstream_call(a));
    if (answer) {
      usage = oai::usage_from(*answer);
      out = server::Response{200,
                             std::string(a.job.codec.content_type()),
                             a.job.codec.encode(*answer, answer_context(a, ex), moment(a.job)),
                             {}};
    }
  } else {
    json::monotonic_resource arena;  // the answer's DOM lives only until it is encoded
    json::error_code ec;
    auto answer = json::parse(r.body, ec, &arena);
    if (!ec && answer.is_object()) {
      usage = oai::usage_from(answer.as_object());
      out = server::Response{200,
                             std::string(a.job.codec.content_type()),
                             a.job.codec.encode(answer.as_object(), answer_context(a, ex), moment(a.job)),
                             {}};
    }
  }
  if (!usage) {
    mark_bad_answer(a, rep);
    co_return rep;
  }
  rep.answered = true;
  rep.obs.ttfb_ms = rep.obs.total_ms;
  rep.obs.input_tokens = usage->prompt_tokens;
  rep.obs.output_tokens = usage->completion_tokens;
  if (usage->completion_tokens > 0 && *rep.obs.total_ms > 0)
    rep.obs.tokens_per_s = usage->completion_tokens * 1000.0 / *rep.obs.total_ms;
  account(a.caller, usage->present ? usage->total_tokens : estimated_input_tokens(a.job));
  if (a.caller.key->is_admin()) out.headers.emplace_back("x-anygpt-provider", a.c.provider->provider.id);
  if (a.job.sink) a.job.sink->keep(out);
  co_await ex.reply(std::move(out));
  co_return rep;
}

namespace {

// Reads a non-SSE answer to a stream request whole (an error, or a provider ignoring "stream").
boost::asio::awaitable<core::Result<std::string>> read_all(upstream::Stream& stream) {
  std::string all;
  for (;;) {
    auto piece = co_await stream.next();
    if (!piece) co_return piece.error();
    if (piece->empty()) co_return all;
    all.append(piece->data(), piece->size());
  }
}

// A 2xx that is not SSE (a provider that ignores "stream"): relayed as it is to OpenAI-shaped
// clients, or given to the protocol's stream encoder as one chunk.
boost::asio::awaitable<void> relay_whole_answer(server::Exchange& ex, AttemptContext& a, AttemptReport& rep,
                                                upstream::Stream& stream, std::string& all) {
  if (relays_bytes(a)) {
    auto usage = oai::usage_from_body(all);
    account(a.caller, usage && usage->present ? usage->total_tokens : 0);
    server::Response out{stream.status(), stream.content_type(), std::move(all), {}};
    co_await ex.reply(std::move(out));
    co_return;
  }
  json::error_code ec;
  auto answer = json::parse(all, ec);
  if (ec || !answer.is_object()) {
    mark_bad_answer(a, rep);
    rep.answered = false;
    co_return;
  }
  auto usage = oai::usage_from(answer.as_object());
  account(a.caller, usage.total_tokens);
  auto encoder = a.job.codec.stream(answer_context(a, ex));
  std::string out;
  encoder->chunk(completion_as_chunk(answer.as_object()), moment(a.job), out);
  encoder->finish(usage, moment(a.job), out);
  const bool begun = co_await ex.begin_stream(200, encoder->content_type());
  if (!begun) co_return;
  const bool written = co_await ex.write_chunk(out);
  if (written) co_await ex.end_stream();
}

// A 2xx binary answer (speech) relayed piece by piece as it arrives, with the host's content
// type. Billed the request's estimate once the answer began (the host produced it); a body cut
// midway resets the client's connection (binary has no in-band error) and counts against the
// provider.
boost::asio::awaitable<void> relay_binary(server::Exchange& ex, AttemptContext& a, AttemptReport& rep,
                                          upstream::Stream& stream, Clock::time_point start) {
  server::Headers headers;
  if (a.caller.key->is_admin()) headers.emplace_back("x-anygpt-provider", a.c.provider->provider.id);
  std::string type(stream.content_type());
  if (type.empty()) type = "application/octet-stream";
  rep.answered = true;
  const bool begun = co_await ex.begin_stream(200, type, std::move(headers));
  if (!begun) {
    rep.obs.outcome = routing::Outcome::kNeutral;
    co_return;
  }
  account(a.caller, estimated_input_tokens(a.job));
  for (;;) {
    auto piece = co_await stream.next();
    if (!piece) {
      const bool gone = ex.client_gone();
      rep.obs.outcome = gone ? routing::Outcome::kNeutral : routing::Outcome::kFailure;
      if (!gone) {
        record_failure(a.gw, ex, a.caller, piece.error(), 200);
        ex.abort();
      }
      co_return;
    }
    if (piece->empty()) break;
    const bool written = co_await ex.write_chunk(*piece);
    if (!written) {
      rep.obs.outcome = routing::Outcome::kNeutral;
      co_return;
    }
  }
  co_await ex.end_stream();
  rep.obs.total_ms = ms_between(start, Clock::now());
  rep.obs.outcome = routing::Outcome::kSuccess;
}

// The client leaving cancels the attempt's upstream call (through the gate when racing a hedge).
void watch_client(server::Exchange& ex, const AttemptContext& a, upstream::Abort& abort) {
  if (a.gate)
    a.gate->attach(a.lane, &abort);
  else
    ex.watch_client([&abort] { abort.trigger(); });
}

// Cancels the attempt's upstream call when its first content is late.
class FirstTokenWatch final : public core::DeadlineWatch {
 public:
  explicit FirstTokenWatch(upstream::Abort& abort) : abort_(abort) {}

 private:
  void on_deadline() override { abort_.trigger(); }
  upstream::Abort& abort_;
};

// The attempt lost to the first-token deadline: a latency failure of the pair, failed over.
void first_token_missed(AttemptContext& a, AttemptReport& rep, Clock::time_point start) {
  rep.verdict = routing::Verdict{};
  rep.obs.outcome = routing::Outcome::kFailure;
  rep.obs.ttfb_ms = ms_between(start, Clock::now());
  a.last = core::make_error(core::ErrorKind::kUpstreamTimeout,
                            "Provider '" + a.c.provider->provider.id + "' sent no content within " +
                                std::to_string(a.gw.config.upstream_first_token_timeout_ms) + " ms",
                            "", "first_token_timeout");
  a.last.provider = a.c.provider->provider.id;
}

}  // namespace

boost::asio::awaitable<AttemptReport> try_stream(server::Exchange& ex, AttemptContext& a) {
  AttemptReport rep;
  upstream::Abort abort;
  auto req = upstream_request(a, true, abort);
  watch_client(ex, a, abort);
  struct Unwatch {
    Unwatch(server::Exchange& e, const AttemptContext& c) : ex(e), a(c) {}
    ~Unwatch() {
      if (a.gate)
        a.gate->attach(a.lane, nullptr);
      else
        ex.unwatch_client();
    }
    server::Exchange& ex;
    const AttemptContext& a;
  } unwatch(ex, a);
  auto start = Clock::now();
  const bool binary = a.job.canon.op == formats::Operation::kSpeech;  // audio bytes, relayed as they come
  // A stream's first content must come within the first-token deadline (headers included), or
  // the attempt is abandoned before anything reached the client and the next candidate serves.
  FirstTokenWatch first_token(abort);
  if (!binary)
    first_token.arm(core::Watchdog::for_this_thread(),
                    start + std::chrono::milliseconds(a.gw.config.upstream_first_token_timeout_ms));
  auto opened = co_await a.client.open_stream(req);
  if (ex.client_gone()) {
    rep.answered = true;
    co_return rep;
  }
  if (!opened) {
    judge_transport(a, rep, opened.error());
    if (first_token.fired()) first_token_missed(a, rep, start);
    co_return rep;
  }
  auto& stream = *opened;
  rep.obs.ttfb_ms = ms_between(start, Clock::now());
  const auto* upstream = a.c.provider->codec;
  const bool sse = stream.content_type().rfind("text/event-stream", 0) == 0;
  if (stream.status() >= 400 || (!upstream && !sse && !binary)) {
    first_token.disarm();  // a whole body, not a stream of events
    auto all = co_await read_all(stream);
    if (!all) {
      judge_transport(a, rep, all.error());
      co_return rep;
    }
    judge_status(a, rep, stream.status(), stream.retry_after(), *all);
    if (a.seam && a.seam->active) {  // a continuation's refusal is never the client's answer
      if (rep.verdict.next == routing::Next::kRelay || rep.verdict.next == routing::Next::kDone) {
        rep.verdict.next = routing::Next::kFailOver;
        if (rep.verdict.outcome == routing::Outcome::kSuccess) rep.obs.outcome = routing::Outcome::kFailure;
      }
      co_return rep;
    }
    const bool answers = rep.verdict.next == routing::Next::kRelay || rep.verdict.next == routing::Next::kDone;
    if (answers && a.gate && !a.gate->claim(a.lane)) co_return rep;  // the other lane of a hedge answered
    if (rep.verdict.next == routing::Next::kRelay) {
      rep.answered = true;
      co_await relay_client_error(ex, a.job.protocol, a.c.provider->codec, stream.status(), stream.content_type(), *all,
                                  a.c.provider->provider.api_key);
    } else if (rep.verdict.next == routing::Next::kDone) {
      rep.answered = true;
      rep.obs.total_ms = ms_between(start, Clock::now());
      co_await relay_whole_answer(ex, a, rep, stream, *all);
    }
    co_return rep;
  }
  if (binary) {
    co_await relay_binary(ex, a, rep, stream, start);
    co_return rep;
  }
  // A continuation goes on with the client's encoder, mid-message; else the stream gets its own.
  const bool resuming = a.seam && a.seam->active;
  std::unique_ptr<formats::StreamEncoder> own_encoder;
  formats::StreamEncoder* encoder = resuming ? a.seam->encoder.get() : nullptr;
  const bool raw = relays_bytes(a);
  if (!encoder && (!raw || upstream)) {
    own_encoder = a.job.codec.stream(answer_context(a, ex));
    encoder = own_encoder.get();
  }
  std::unique_ptr<formats::StreamDecoder> decoder;
  std::unique_ptr<formats::StreamWatcher> watcher;
  if (upstream && raw) watcher = upstream->stream_watcher(upstream_call(a));
  if (upstream && !raw) decoder = upstream->stream_decoder(upstream_call(a));
  server::Headers headers;
  if (a.caller.key->is_admin()) headers.emplace_back("x-anygpt-provider", a.c.provider->provider.id);
  RelayTarget target;
  target.include_usage = a.job.canon.include_usage;
  target.add_done = a.job.canon.op == formats::Operation::kChat;
  target.encoder = encoder;
  target.decoder = decoder.get();
  target.watcher = watcher.get();
  target.started = a.job.started;
  target.content_type = encoder ? encoder->content_type() : std::string_view("text/event-stream");
  target.headers = &headers;
  target.first_token = &first_token;
  target.may_cut = a.seam && continuable(a.job);
  if (resuming) target.seam = a.seam;
  target.gate = a.gate;
  target.lane = a.lane;
  auto end = co_await relay_events(ex, stream, target, a.c.provider->provider.id);
  if (watcher) remember_held(a, Held::kResponse, watcher->stored_id());
  if (end.kind == StreamEnd::Kind::kLost) co_return rep;  // the other lane of a hedge answered
  if (end.kind == StreamEnd::Kind::kCut) {                // the client's stream stays open for a continuation
    const std::int64_t part =
        end.usage.present ? end.usage.completion_tokens : oai::estimate_tokens(end.delivered_chars);
    account(a.caller, end.usage.present ? end.usage.total_tokens : part);
    add_cut(*a.seam, std::move(end.text), part, end.error, std::move(own_encoder));
    record_failure(a.gw, ex, a.caller, end.error, 200);
    rep.verdict = routing::Verdict{};
    rep.obs.outcome = routing::Outcome::kFailure;
    rep.obs.total_ms = ms_between(start, Clock::now());
    a.last = end.error;
    co_return rep;
  }
  if (end.kind == StreamEnd::Kind::kNotStarted) {  // nothing was sent: fail over as before the headers
    rep.verdict = routing::Verdict{};
    rep.obs.outcome = routing::Outcome::kFailure;
    a.last = end.error;
    a.last.provider = a.c.provider->provider.id;
    if (first_token.fired()) first_token_missed(a, rep, start);
    co_return rep;
  }
  rep.answered = true;
  auto finished = Clock::now();
  // Bill what the provider reported, or else what the client actually received.
  std::int64_t completion = end.usage.present ? end.usage.completion_tokens : oai::estimate_tokens(end.delivered_chars);
  account(a.caller, end.usage.present ? end.usage.total_tokens : completion);
  if (!ex.client_gone() && end.kind != StreamEnd::Kind::kClientGone) co_await ex.end_stream();
  rep.obs.total_ms = ms_between(start, finished);
  if (end.kind == StreamEnd::Kind::kBroken) {
    rep.obs.outcome = routing::Outcome::kFailure;  // it looked fine, then broke: the provider's fault
    record_failure(a.gw, ex, a.caller, end.error, 200);
  } else if (end.kind == StreamEnd::Kind::kClientGone) {
    rep.obs.outcome = routing::Outcome::kNeutral;
  } else {
    rep.obs.outcome = routing::Outcome::kSuccess;
    rep.obs.input_tokens = end.usage.prompt_tokens;
    rep.obs.output_tokens = completion;
    if (end.first_event) rep.obs.ttfb_ms = ms_between(start, *end.first_event);
    double gen_ms = std::max(ms_between(end.first_event.value_or(start), finished), 250.0);
    if (completion > 0) rep.obs.tokens_per_s = completion * 1000.0 / gen_ms;
  }
  co_return rep;
}

}  // namespace anygpt::pipeline
