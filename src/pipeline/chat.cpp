#include "pipeline/chat.hpp"

#include <boost/asio/redirect_error.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/asio/use_awaitable.hpp>
#include <boost/json.hpp>
#include <random>

#include "core/json_text.hpp"
#include "core/log.hpp"
#include "formats/openai/capabilities.hpp"
#include "formats/openai/openai.hpp"
#include "formats/openai/stream_inspect.hpp"
#include "routing/plan.hpp"

namespace anygpt::pipeline {
namespace json = boost::json;
namespace oai = formats::openai;
using core::ErrorKind;
using core::make_error;
using routing::Clock;

namespace {

std::mt19937_64& thread_rng() {
  thread_local std::mt19937_64 rng{std::random_device{}()};
  return rng;
}

double ms_between(Clock::time_point a, Clock::time_point b) {
  return std::chrono::duration<double, std::milli>(b - a).count();
}

std::int64_t wall_ms() {
  return std::chrono::duration_cast<std::chrono::milliseconds>(std::chrono::system_clock::now().time_since_epoch())
      .count();
}

// The body sent upstream: the client's bytes untouched unless the model name must change or
// a stream needs usage reported.
struct UpstreamBody {
  std::string rewritten;
  std::string_view view;
};

UpstreamBody build_body(const std::string& original, json::value& parsed, const oai::ChatRequestInfo& info,
                        const routing::Candidate& c) {
  bool rename = c.upstream_model != info.model;
  bool ask_usage = info.stream && !info.include_usage;
  if (!rename && !ask_usage) return UpstreamBody{{}, original};
  auto& o = parsed.as_object();
  if (!rename && !o.contains("stream_options")) {
    // Splice the field in after the opening brace: no re-serialisation of the whole body.
    auto brace = original.find('{');
    UpstreamBody b;
    b.rewritten.reserve(original.size() + 48);
    b.rewritten.append(original, 0, brace + 1);
    b.rewritten += R"("stream_options":{"include_usage":true},)";
    b.rewritten.append(original, brace + 1);
    b.view = b.rewritten;
    return b;
  }
  o["model"] = c.upstream_model;
  if (ask_usage) {
    auto& so = o["stream_options"];
    if (!so.is_object()) so = json::object();
    so.as_object()["include_usage"] = true;
  }
  UpstreamBody b{json::serialize(parsed), {}};
  b.view = b.rewritten;
  return b;
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

const char* outcome_name(routing::Outcome o) {
  switch (o) {
    case routing::Outcome::kSuccess: return "success";
    case routing::Outcome::kFailure: return "failure";
    case routing::Outcome::kCredentials: return "credentials_rejected";
    case routing::Outcome::kRateLimited: return "rate_limited";
    case routing::Outcome::kNeutral: return "neutral";
  }
  return "?";
}

// One debug line per attempt: which provider, what happened, how long it took.
void log_attempt(const server::Exchange& ex, const routing::Candidate& c, std::string_view model, int attempt,
                 routing::Outcome outcome, std::string_view detail, double latency_ms) {
  if (!core::log_enabled(core::LogLevel::kDebug)) return;
  std::string fields = "\"request_id\":";
  core::append_json_string(fields, ex.request_id());
  fields += ",\"provider\":";
  core::append_json_string(fields, c.provider->provider.id);
  fields += ",\"model\":";
  core::append_json_string(fields, model);
  fields += ",\"attempt\":" + std::to_string(attempt) + ",\"outcome\":\"" + outcome_name(outcome) + "\",\"detail\":";
  core::append_json_string(fields, detail);
  fields += ",\"latency_ms\":" + std::to_string(static_cast<std::int64_t>(latency_ms));
  core::log(core::LogLevel::kDebug, "upstream attempt", fields);
}

void account(const Caller& caller, std::int64_t tokens) {
  auth::KeyRegistry::account(*caller.key, tokens);
}

// A 4xx the client caused (bad parameter, context too long...): passed through as the provider
// phrased it, so the client can fix its request.
boost::asio::awaitable<void> relay_client_error(server::Exchange& ex, unsigned status, const std::string& content_type,
                                                std::string& body, std::string_view provider_key) {
  // Some providers echo the credential they were given in their error text: never relay it.
  if (provider_key.size() >= 8)
    for (auto pos = body.find(provider_key); pos != std::string::npos; pos = body.find(provider_key, pos))
      body.replace(pos, provider_key.size(), "***");
  json::error_code ec;
  auto v = json::parse(body, ec);
  if (ec || !v.is_object() || !v.as_object().contains("error")) {
    auto e = make_error(ErrorKind::kInvalidRequest, "Provider rejected the request: " + body.substr(0, 500));
    server::Response r{status, "application/json", oai::error_body(e), {}};
    co_await ex.reply(std::move(r));
    co_return;
  }
  server::Response r{status, content_type.empty() ? "application/json" : content_type, std::move(body), {}};
  co_await ex.reply(std::move(r));
}

// What one attempt came to. `answered`: the client got its answer (or left); otherwise the
// verdict says whether to retry or fail over.
struct AttemptReport {
  bool answered = false;
  routing::Verdict verdict;
  routing::Observation obs;
};

// Everything an attempt needs besides the exchange.
struct AttemptContext {
  Gateway& gw;
  upstream::Client& client;
  const Caller& caller;
  const oai::ChatRequestInfo& info;
  const routing::Candidate& c;
  std::string_view body;
  Clock::time_point deadline;
  bool retried;
  core::Error& last;
};

// Fills the verdict for an upstream error status, minding excluded patterns.
void judge_status(AttemptContext& a, AttemptReport& rep, unsigned status, const std::string& retry_after,
                  std::string_view body) {
  auto ra = routing::parse_retry_after(retry_after, wall_ms() / 1000);
  std::uniform_real_distribution<double> jitter(0, 1);
  rep.verdict = routing::classify_status(status, ra, a.retried, jitter(thread_rng()), a.gw.retry);
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

boost::asio::awaitable<AttemptReport> try_plain(server::Exchange& ex, AttemptContext& a) {
  AttemptReport rep;
  upstream::Abort abort;
  upstream::Request req{a.c.endpoint, a.body, a.c.provider->provider.api_key, false, &abort, a.deadline};
  auto start = Clock::now();
  ex.watch_client([&abort] { abort.trigger(); });
  auto res = co_await a.client.call(req);
  ex.unwatch_client();
  auto end = Clock::now();
  rep.obs.total_ms = ms_between(start, end);
  if (ex.client_gone()) {
    rep.answered = true;  // nobody to answer; the upstream call was cancelled
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
    co_await relay_client_error(ex, r.status, r.content_type, r.body, a.c.provider->provider.api_key);
    co_return rep;
  }
  if (rep.verdict.next != routing::Next::kDone) co_return rep;
  auto usage = oai::usage_from_body(r.body);
  if (!usage) {
    rep.verdict = routing::Verdict{};
    rep.obs.outcome = routing::Outcome::kFailure;
    a.last = make_error(ErrorKind::kUpstreamError,
                        "Provider '" + a.c.provider->provider.id + "' returned a body that is not a JSON object", {},
                        "upstream_bad_response");
    co_return rep;
  }
  rep.answered = true;
  rep.obs.ttfb_ms = rep.obs.total_ms;
  rep.obs.input_tokens = usage->prompt_tokens;
  rep.obs.output_tokens = usage->completion_tokens;
  if (usage->completion_tokens > 0 && *rep.obs.total_ms > 0)
    rep.obs.tokens_per_s = usage->completion_tokens * 1000.0 / *rep.obs.total_ms;
  account(a.caller, usage->present ? usage->total_tokens : 0);
  server::Response out{
      r.status, r.content_type.empty() ? "application/json" : std::move(r.content_type), std::move(r.body), {}};
  if (a.caller.key->is_admin()) out.headers.emplace_back("x-anygpt-provider", a.c.provider->provider.id);
  co_await ex.reply(std::move(out));
  co_return rep;
}

// How a relayed stream ended.
struct StreamEnd {
  enum class Kind { kComplete, kBroken, kClientGone } kind = Kind::kComplete;
  core::Usage usage;                // as reported by the provider (present=false when not)
  std::size_t delivered_chars = 0;  // text the client received, for billing without usage
  std::optional<Clock::time_point> first_event;
  core::Error error;  // kBroken: what broke it
};

// Relays SSE events as they arrive: drops malformed chunks (logged), drops the usage-only chunk
// when the client did not ask for it, and finishes a stream the provider ended without
// [DONE]. A cut or stalled upstream ends with an error event and no [DONE].
boost::asio::awaitable<StreamEnd> pump_events(server::Exchange& ex, upstream::Stream& stream,
                                              const oai::ChatRequestInfo& info, const routing::Candidate& c) {
  StreamEnd end;
  oai::SseSplitter splitter;
  std::string out;
  bool done_seen = false;
  for (;;) {
    auto piece = co_await stream.next();
    if (!piece) {
      if (ex.client_gone()) {
        end.kind = StreamEnd::Kind::kClientGone;
        co_return end;
      }
      end.kind = StreamEnd::Kind::kBroken;
      auto err = piece.error();
      err.message = "Provider '" + c.provider->provider.id + "' stream failed after it started: " + err.message;
      std::string event = oai::stream_error_event(err);
      co_await ex.write_chunk(event);
      end.error = std::move(err);
      end.error.provider = c.provider->provider.id;
      co_return end;
    }
    if (piece->empty()) break;
    if (!end.first_event) end.first_event = Clock::now();
    splitter.append(*piece);
    out.clear();
    while (auto ev = splitter.next_event()) {
      auto seen = oai::inspect_event(*ev);
      using Kind = oai::EventInfo::Kind;
      if (seen.kind == Kind::kMalformed) {
        core::log(core::LogLevel::kWarn, "skipped a malformed stream chunk from provider '" + c.provider->provider.id +
                                             "' (" + std::to_string(ev->size()) + " bytes)");
        continue;
      }
      if (seen.kind == Kind::kDone) done_seen = true;
      end.delivered_chars += seen.delivered_chars;
      if (seen.has_usage) {
        if (auto data = oai::event_data(*ev)) {
          json::error_code ec;
          auto v = json::parse(*data, ec);
          if (!ec && v.is_object()) {
            auto u = oai::usage_from(v.as_object());
            if (u.present) end.usage = u;
            const auto* choices = v.as_object().if_contains("choices");
            bool usage_only = u.present && choices && choices->is_array() && choices->as_array().empty();
            if (usage_only && !info.include_usage) continue;
          }
        }
      }
      out.append(ev->data(), ev->size());
      out += "\n\n";
    }
    if (out.empty()) continue;
    const bool written = co_await ex.write_chunk(out);
    if (!written) {
      end.kind = StreamEnd::Kind::kClientGone;
      co_return end;
    }
  }
  // The provider ended the body cleanly: the answer is complete even without its [DONE].
  if (!done_seen) {
    const bool written = co_await ex.write_chunk("data: [DONE]\n\n");
    if (!written) end.kind = StreamEnd::Kind::kClientGone;
  }
  co_return end;
}

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

// The client probe armed here stays armed for the whole relay: a client that leaves aborts the
// upstream read even while the upstream is silent.
boost::asio::awaitable<AttemptReport> try_stream(server::Exchange& ex, AttemptContext& a) {
  AttemptReport rep;
  upstream::Abort abort;
  upstream::Request req{a.c.endpoint, a.body, a.c.provider->provider.api_key, true, &abort, a.deadline};
  ex.watch_client([&abort] { abort.trigger(); });
  struct Unwatch {
    explicit Unwatch(server::Exchange& e) : ex(e) {}
    ~Unwatch() { ex.unwatch_client(); }
    server::Exchange& ex;
  } unwatch(ex);
  auto start = Clock::now();
  auto opened = co_await a.client.open_stream(req);
  if (ex.client_gone()) {
    rep.answered = true;
    co_return rep;
  }
  if (!opened) {
    judge_transport(a, rep, opened.error());
    co_return rep;
  }
  auto& stream = *opened;
  rep.obs.ttfb_ms = ms_between(start, Clock::now());
  if (stream.status() >= 400 || stream.content_type().rfind("text/event-stream", 0) != 0) {
    auto all = co_await read_all(stream);
    if (!all) {
      judge_transport(a, rep, all.error());
      co_return rep;
    }
    judge_status(a, rep, stream.status(), stream.retry_after(), *all);
    if (rep.verdict.next == routing::Next::kRelay) {
      rep.answered = true;
      co_await relay_client_error(ex, stream.status(), stream.content_type(), *all, a.c.provider->provider.api_key);
    } else if (rep.verdict.next == routing::Next::kDone) {
      // A 2xx that is not SSE (a provider that ignores "stream"): relay it as it is.
      rep.answered = true;
      rep.obs.total_ms = ms_between(start, Clock::now());
      auto usage = oai::usage_from_body(*all);
      account(a.caller, usage && usage->present ? usage->total_tokens : 0);
      server::Response out{stream.status(), stream.content_type(), std::move(*all), {}};
      co_await ex.reply(std::move(out));
    }
    co_return rep;
  }
  server::Headers headers;
  if (a.caller.key->is_admin()) headers.emplace_back("x-anygpt-provider", a.c.provider->provider.id);
  rep.answered = true;
  const bool begun = co_await ex.begin_stream(200, "text/event-stream", std::move(headers));
  if (!begun) {
    rep.obs.outcome = routing::Outcome::kNeutral;
    co_return rep;
  }
  auto end = co_await pump_events(ex, stream, a.info, a.c);
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

boost::asio::awaitable<void> wait_for(server::Exchange& ex, std::chrono::milliseconds d) {
  boost::asio::steady_timer timer(ex.executor(), d);
  boost::system::error_code ec;
  co_await timer.async_wait(boost::asio::redirect_error(boost::asio::use_awaitable, ec));
}

// Why a model cannot serve the request's capabilities, or empty.
std::string capability_gap(const routing::ModelRule& rule, unsigned required) {
  unsigned checked = required & ~static_cast<unsigned>(oai::kTools);  // models.json never lists tools
  if (!rule.declared_caps || (checked & ~rule.declared_caps) == 0) return {};
  return oai::capability_names(checked & ~rule.declared_caps);
}

}  // namespace

boost::asio::awaitable<void> chat_completions(Gateway& gw, server::Exchange& ex, upstream::Client& client) {
  auto caller = authenticate(gw, ex, true);
  if (!caller) co_return co_await reply_error(ex, caller.error());
  // (co_await only as a whole statement: GCC 12 miscompiles it inside conditions.)
  auto denied = co_await admit(gw, *caller, ex);
  if (denied) co_return co_await reply_error(ex, *denied);

  json::error_code ec;
  json::monotonic_resource arena;  // one block for the whole parsed request, freed at once
  auto parsed = json::parse(ex.body(), ec, &arena);
  if (ec)
    co_return co_await reply_error(
        ex,
        make_error(ErrorKind::kInvalidRequest, "Request body is not valid JSON: " + ec.message(), {}, "invalid_json"));
  auto info = oai::inspect_chat_request(parsed);
  if (!info) co_return co_await reply_error(ex, info.error());

  auto catalog = gw.catalog.load();
  if (catalog->candidates(info->model).empty())
    co_return co_await reply_error(
        ex, make_error(ErrorKind::kNotFound,
                       "The model '" + info->model + "' does not exist or no enabled provider serves it", "model",
                       "model_not_found"));
  unsigned required = oai::required_capabilities(parsed.as_object());
  if (auto gap = capability_gap(catalog->rule(info->model), required); !gap.empty())
    co_return co_await reply_error(
        ex, make_error(ErrorKind::kInvalidRequest, "The model '" + info->model + "' does not support: " + gap,
                       "messages", "model_capability_missing"));

  // The requested model, then its fallbacks (models.json "fallbacks"), each once.
  std::vector<std::string_view> chain{info->model};  // views into the request and the catalog
  for (const auto& f : catalog->rule(info->model).fallbacks)
    if (std::find(chain.begin(), chain.end(), f) == chain.end()) chain.push_back(f);

  auto& board = *gw.health;
  const auto& tier = *caller->tier;
  routing::ScoreBand band{tier.min_provider_score, tier.max_provider_score};
  const auto deadline = Clock::now() + std::chrono::milliseconds(gw.config.routing_budget_ms);
  int attempts_left = gw.config.routing_max_attempts;
  int attempt_no = 0;
  bool any_capable = false;
  bool out_of_budget = false;
  core::Error last = make_error(ErrorKind::kUpstreamUnavailable, "No provider could serve the request");

  for (const auto& model : chain) {
    if (out_of_budget) break;
    if (model != info->model && !capability_gap(catalog->rule(model), required).empty()) continue;
    const auto& cands = catalog->candidates(model);
    std::vector<std::size_t> slots;
    std::vector<std::size_t> index;  // slots[i] -> cands[index[i]]
    for (std::size_t i = 0; i < cands.size(); ++i) {
      if (cands[i].skipped_caps & required) continue;
      slots.push_back(cands[i].slot);
      index.push_back(i);
    }
    any_capable = any_capable || !slots.empty();
    auto order =
        routing::plan_attempts(board, slots, band, gw.config.routing_spread_points, Clock::now(), thread_rng());
    for (auto e : order) {
      if (out_of_budget) break;
      const auto& c = cands[index[e]];
      auto body = build_body(ex.body(), parsed, *info, c);
      bool retried = false;
      for (;;) {
        if (attempts_left == 0 || Clock::now() >= deadline) {
          out_of_budget = true;
          break;
        }
        auto ticket = board.claim(c.slot, Clock::now());
        if (!ticket.valid) break;  // taken out meanwhile (another request saw it fail)
        --attempts_left;
        ++attempt_no;
        AttemptContext actx{gw, client, *caller, *info, c, body.view, deadline, retried, last};
        auto t0 = Clock::now();
        AttemptReport rep;
        if (info->stream)
          rep = co_await try_stream(ex, actx);
        else
          rep = co_await try_plain(ex, actx);
        rep.obs.wall_ms = wall_ms();
        board.record(ticket, rep.obs, Clock::now());
        log_attempt(ex, c, model, attempt_no, rep.obs.outcome, rep.answered ? "answered" : last.message,
                    ms_between(t0, Clock::now()));
        if (rep.answered) co_return;
        bool probe = ticket.model_probe || ticket.provider_probe;  // single-shot by contract
        if (rep.verdict.next != routing::Next::kRetrySame || retried || probe || attempts_left == 0) break;
        if (Clock::now() + rep.verdict.wait >= deadline) break;
        retried = true;
        if (rep.verdict.wait.count() > 0) co_await wait_for(ex, rep.verdict.wait);
        if (ex.client_gone()) co_return;
      }
    }
  }
  if (!any_capable)
    co_return co_await reply_error(
        ex, make_error(ErrorKind::kInvalidRequest,
                       "No provider of '" + info->model + "' supports: " + oai::capability_names(required), "messages",
                       "capability_not_supported"));
  if (attempt_no == 0) {
    // Every provider is out of rotation after repeated failures: answer at once, say when to retry.
    std::vector<std::size_t> chain_slots;
    for (const auto& model : chain)
      for (const auto& c : catalog->candidates(model)) chain_slots.push_back(c.slot);
    auto next = board.next_probe(chain_slots, Clock::now());
    auto wait_s =
        std::max<std::int64_t>(1, std::chrono::duration_cast<std::chrono::seconds>(next - Clock::now()).count() + 1);
    ex.add_header("Retry-After", std::to_string(wait_s));
    auto e = make_error(ErrorKind::kUpstreamUnavailable,
                        "Every provider of '" + info->model +
                            "' is temporarily out of rotation after repeated failures; retry in " +
                            std::to_string(wait_s) + " s",
                        {}, "no_healthy_provider");
    record_failure(gw, ex, *caller, e, core::http_status(e.kind));
    co_return co_await reply_error(ex, e);
  }
  if (last.kind != ErrorKind::kUpstreamTimeout && last.kind != ErrorKind::kUpstreamUnavailable)
    last.kind = ErrorKind::kUpstreamError;
  record_failure(gw, ex, *caller, last, core::http_status(last.kind));
  co_await reply_error(ex, last);
}

}  // namespace anygpt::pipeline

namespace anygpt::pipeline {
namespace {
thread_local upstream::Client* t_client = nullptr;
}
void set_thread_client(upstream::Client* client) {
  t_client = client;
}
upstream::Client& thread_client() {
  return *t_client;
}
}  // namespace anygpt::pipeline
