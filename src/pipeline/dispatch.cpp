#include "pipeline/dispatch.hpp"

#include <boost/asio/redirect_error.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/asio/use_awaitable.hpp>
#include <boost/json.hpp>
#include <random>

#include "core/json_text.hpp"
#include "core/log.hpp"
#include "formats/openai/capabilities.hpp"
#include "pipeline/attempt.hpp"
#include "pipeline/continuation.hpp"
#include "pipeline/hedge.hpp"
#include "pipeline/image_inlining.hpp"
#include "pipeline/uploads.hpp"
#include "routing/plan.hpp"

namespace anygpt::pipeline {
namespace json = boost::json;
namespace oai = formats::openai;
using core::ErrorKind;
using core::make_error;

namespace {

std::mt19937_64& plan_rng() {
  thread_local std::mt19937_64 rng{std::random_device{}()};
  return rng;
}

// The body sent upstream: the request's bytes untouched unless the model name must change or
// an OpenAI client's stream needs usage reported.
struct UpstreamBody {
  UpstreamBody() = default;
  UpstreamBody(std::string r, std::string_view v) : rewritten(std::move(r)), view(v) {}
  std::string rewritten;
  std::string_view view;
  std::unique_ptr<upstream::BodySource> source;  // instead of `view`: an upload
};

// What a native provider is sent: the canonical request in its own protocol. kInvalidRequest when
// the protocol cannot express it (e.g. embeddings on Anthropic): the candidate is skipped.
core::Result<UpstreamBody> native_body(const Job& job, const routing::Candidate& c, std::int64_t default_max_tokens) {
  if (job.canon.op != formats::Operation::kChat && job.canon.op != formats::Operation::kEmbeddings)
    return make_error(ErrorKind::kInvalidRequest,
                      "Provider '" + c.provider->provider.id + "' speaks " +
                          config::protocol_name(c.provider->provider.protocol) + ", which has no such API",
                      "model", "operation_not_supported");
  // (The model goes in the call, not into the shared object: other candidates read it too.)
  formats::UpstreamCall call{job.canon.op, c.upstream_model, job.canon.stream, default_max_tokens};
  auto bytes = c.provider->codec->encode_request(job.object->as_object(), call);
  if (!bytes) return bytes.error();
  UpstreamBody b{std::move(*bytes), {}};
  b.view = b.rewritten;
  return b;
}

// The client's own bytes for a provider of its protocol; only a body "model" is renamed.
UpstreamBody own_body(const Job& job, const routing::Candidate& c) {
  auto& o = job.client_object->as_object();
  const auto* model = o.if_contains("model");
  if (!model || !model->is_string() || model->get_string() == c.upstream_model)
    return UpstreamBody{{}, job.client_bytes};
  o["model"] = c.upstream_model;
  UpstreamBody b{json::serialize(o), {}};
  b.view = b.rewritten;
  return b;
}

core::Result<UpstreamBody> build_body(Gateway& gw, Job& job, const routing::Candidate& c,
                                      std::int64_t default_max_tokens) {
  if (same_protocol(job, c)) return own_body(job, c);
  // REQUIRES: decoded (passthrough_only() was false, as it is whenever such a candidate exists).
  if (c.provider->codec) return native_body(job, c, default_max_tokens);
  if (job.upload) {
    UpstreamBody b;
    b.source = std::make_unique<UploadBody>(gw, *job.upload, c.upstream_model);
    return b;
  }
  if (!job.canon.same_bytes && job.bytes.empty()) {
    job.canonical_bytes = json::serialize(job.canon.body);
    job.bytes = job.canonical_bytes;
    job.bytes_model = job.canon.model;
  }
  bool rename = c.upstream_model != job.bytes_model;
  if (!rename && !job.ask_usage) return UpstreamBody{{}, job.bytes};
  auto& o = job.object->as_object();
  if (!rename && !o.contains("stream_options")) {
    // Splice the field in after the opening brace: no re-serialisation of the whole body.
    auto brace = job.bytes.find('{');
    UpstreamBody b;
    b.rewritten.reserve(job.bytes.size() + 48);
    b.rewritten.append(job.bytes.substr(0, brace + 1));
    b.rewritten += R"("stream_options":{"include_usage":true},)";
    b.rewritten.append(job.bytes.substr(brace + 1));
    b.view = b.rewritten;
    return b;
  }
  o["model"] = c.upstream_model;  // (set every time: an earlier candidate may have renamed it)
  if (job.ask_usage) {
    auto& so = o["stream_options"];
    if (!so.is_object()) so = json::object();
    so.as_object()["include_usage"] = true;
  }
  UpstreamBody b{json::serialize(*job.object), {}};
  b.view = b.rewritten;
  return b;
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

// The capabilities a request needs: a chat request's from its content (oai::required_capabilities);
// image generation makes images and speech makes audio, as the original gates them (§2.2); image
// edits read and make images; transcriptions and translations read audio.
unsigned required_capabilities(const Job& job) {
  switch (job.canon.op) {
    case formats::Operation::kChat:
      return job.object && job.object->is_object() ? oai::required_capabilities(job.object->as_object()) : 0;
    case formats::Operation::kImages: return oai::kImageOutput;
    case formats::Operation::kSpeech: return oai::kAudioOutput;
    case formats::Operation::kImageEdits: return oai::kImageInput | oai::kImageOutput;
    case formats::Operation::kTranscriptions:
    case formats::Operation::kTranslations: return oai::kAudioInput;
    case formats::Operation::kEmbeddings:
    case formats::Operation::kVideos: return 0;
  }
  return 0;
}

// The field a capability refusal names: a chat request's messages, else the model.
const char* capability_param(const Job& job) {
  return job.canon.op == formats::Operation::kChat ? "messages" : "model";
}

// Every provider is out of rotation after repeated failures: the error that says when to retry.
core::Error no_healthy_provider(Gateway& gw, server::Exchange& ex, const routing::Catalog& catalog,
                                const std::vector<std::string_view>& chain, std::string_view model) {
  std::vector<std::size_t> chain_slots;
  for (const auto& m : chain)
    for (const auto& c : catalog.candidates(m)) chain_slots.push_back(c.slot);
  auto next = gw.health->next_probe(chain_slots, Clock::now());
  auto wait_s =
      std::max<std::int64_t>(1, std::chrono::duration_cast<std::chrono::seconds>(next - Clock::now()).count() + 1);
  ex.add_header("Retry-After", std::to_string(wait_s));
  return make_error(ErrorKind::kUpstreamUnavailable,
                    "Every provider of '" + std::string(model) +
                        "' is temporarily out of rotation after repeated failures; retry in " + std::to_string(wait_s) +
                        " s",
                    {}, "no_healthy_provider");
}

// The body's "fallbacks" (LiteLLM's and Bifrost's field: model ids to try, in order, when the
// requested model fails), removed from `body`, each resolved as the protocol names models.
// kInvalidRequest naming the field for anything but an array of model ids anygpt serves.
struct RequestFallbacks {
  bool present = false;  // the body had the field (so the bytes going upstream must drop it)
  std::vector<std::string> models;
};
core::Result<RequestFallbacks> take_request_fallbacks(const routing::Catalog& catalog,
                                                      const formats::Protocol& protocol, json::value& body) {
  RequestFallbacks out;
  auto* o = body.if_object();
  const auto* f = o ? o->if_contains("fallbacks") : nullptr;
  if (!f) return out;
  if (!f->is_array() && !f->is_null())
    return make_error(ErrorKind::kInvalidRequest, "'fallbacks' must be an array of model ids", "fallbacks");
  if (f->is_array()) {
    const auto& list = f->get_array();
    for (std::size_t i = 0; i < list.size(); ++i) {
      const std::string param = "fallbacks[" + std::to_string(i) + "]";
      if (!list[i].is_string() || list[i].get_string().empty())
        return make_error(ErrorKind::kInvalidRequest, "'" + param + "' must be a model id", param);
      auto served = served_model(catalog, protocol, list[i].get_string());
      if (served.empty())
        return make_error(ErrorKind::kInvalidRequest,
                          "The fallback model '" + std::string(list[i].get_string()) +
                              "' does not exist or no enabled provider serves it",
                          param, "model_not_found");
      out.models.emplace_back(served);
    }
  }
  o->erase("fallbacks");
  out.present = true;
  return out;
}

// After the request overflowed chain[at]'s context window (when models.json gives it): the models
// after it with a larger known window first (largest first), then those whose window is unknown,
// then those known to be no larger (each group in chain order).
void prefer_larger_windows(const routing::Catalog& catalog, std::vector<std::string_view>& chain, std::size_t at) {
  const auto window = catalog.rule(chain[at]).context_window;
  if (window == 0) return;
  auto group = [&](std::string_view m) {
    auto w = catalog.rule(m).context_window;
    return w > window ? 0 : w == 0 ? 1 : 2;
  };
  std::stable_sort(chain.begin() + static_cast<std::ptrdiff_t>(at) + 1, chain.end(),
                   [&](std::string_view a, std::string_view b) {
                     auto ga = group(a), gb = group(b);
                     if (ga != gb) return ga < gb;
                     return ga == 0 && catalog.rule(a).context_window > catalog.rule(b).context_window;
                   });
}

// This attempt races a hedge: hedging is on, the request has no side effects the gateway cannot
// see, and it is not a continuation.
bool hedging(const Gateway& gw, const Job& job, const Seam& seam) {
  return gw.config.routing_hedge_after_ms > 0 && !seam.active && hedgeable(job);
}

// Metrics of one race whose hedge started: which lane served, and what the loser cost upstream
// (its prompt, which the provider read before it was cancelled).
void count_hedge(Gateway& gw, const Job& job, const RaceResult& race) {
  gw.counters.hedges.fetch_add(1, std::memory_order_relaxed);
  if (race.hedge->answered) gw.counters.hedge_wins.fetch_add(1, std::memory_order_relaxed);
  if (race.first.lost || race.hedge->lost)
    gw.counters.hedge_loser_tokens.fetch_add(static_cast<std::uint64_t>(estimated_input_tokens(job)),
                                             std::memory_order_relaxed);
}

// The attempts a request may still make, shared by its lanes.
struct Budget {
  Budget(int attempts, Clock::time_point until) : attempts_left(attempts), deadline(until) {}
  int attempts_left;
  int attempt_no = 0;
  Clock::time_point deadline;
};

// The hedge of one attempt: the next candidate of the same model, started by race() when the
// first attempt's content is late. Lives in run_attempts' frame until the race is over.
struct HedgeLane {
  HedgeLane(AttemptContext& first, Job& j, const routing::Candidate& cand, HedgeGate& g, Budget& b)
      : model_ctx(first), job(j), c(cand), gate(g), budget(b) {}
  AttemptContext& model_ctx;  // the first lane's (the same request, model, seam)
  Job& job;
  const routing::Candidate& c;
  HedgeGate& gate;
  Budget& budget;
  int attempt_no = 0;  // this lane's number among the request's attempts (for the log)
  std::optional<UpstreamBody> body;
  routing::Ticket ticket;
  std::optional<AttemptContext> ctx;
};

// Starts the hedge's attempt, or nullopt when its pair cannot be claimed, its protocol cannot
// express the request or the budget is spent.
HedgeStart hedge_start(server::Exchange& ex, HedgeLane& lane) {
  return [&ex, &lane]() -> std::optional<boost::asio::awaitable<AttemptReport>> {
    auto& first = lane.model_ctx;
    auto now = Clock::now();
    if (lane.budget.attempts_left == 0 || now >= lane.budget.deadline) return std::nullopt;
    auto body = build_body(first.gw, lane.job, lane.c, first.gw.config.anthropic_default_max_tokens);
    if (!body) return std::nullopt;
    lane.ticket = first.gw.health->claim(lane.c.slot, now);
    if (!lane.ticket.valid) return std::nullopt;
    --lane.budget.attempts_left;
    lane.attempt_no = ++lane.budget.attempt_no;
    lane.body = std::move(*body);
    lane.ctx.emplace(AttemptContext{first.gw, first.client, first.caller, first.job, lane.c, first.model,
                                    lane.body->view, first.deadline, false, first.last, first.has_next_model});
    lane.ctx->source = lane.body->source.get();
    lane.ctx->seam = first.seam;
    lane.ctx->gate = &lane.gate;
    lane.ctx->lane = 1;
    return try_stream(ex, *lane.ctx);
  };
}

// The request's attempts over its model chain; answers the client (or leaves it answered).
// REQUIRES: `catalog` (the snapshot `model` was resolved in) outlives the call.
boost::asio::awaitable<void> run_attempts(Gateway& gw, server::Exchange& ex, upstream::Client& client,
                                          const Caller& caller, Job& job, const routing::Catalog* catalog,
                                          std::string_view model, unsigned required) {
  // The requested model, then the request's own fallbacks, then models.json's, each once.
  std::vector<std::string_view> chain{model};  // views into the request and the catalog
  auto add = [&chain](std::string_view f) {
    if (std::find(chain.begin(), chain.end(), f) == chain.end()) chain.push_back(f);
  };
  for (const auto& f : job.fallbacks) add(f);
  for (const auto& f : catalog->rule(model).fallbacks) add(f);

  auto& board = *gw.health;
  const auto& tier = *caller.tier;
  routing::ScoreBand band{tier.min_provider_score, tier.max_provider_score};
  Budget budget(gw.config.routing_max_attempts, Clock::now() + std::chrono::milliseconds(gw.config.routing_budget_ms));
  bool any_capable = false;
  bool out_of_budget = false;
  std::optional<core::Error> inexpressible;  // a candidate whose protocol cannot express the request
  core::Error last = make_error(ErrorKind::kUpstreamUnavailable, "No provider could serve the request");
  Seam seam;  // active once a stream was cut after content: the rest of the chain continues it

  auto usable = [&](std::string_view m) { return m == model || capability_gap(catalog->rule(m), required).empty(); };
  for (std::size_t at = 0; at < chain.size(); ++at) {
    const auto m = chain[at];
    if (out_of_budget) break;
    if (!usable(m)) continue;
    const bool has_next_model = std::any_of(chain.begin() + static_cast<std::ptrdiff_t>(at) + 1, chain.end(), usable);
    bool too_long = false;  // the request exceeded this model's context window
    const auto& cands = catalog->candidates(m);
    std::vector<std::size_t> slots;
    std::vector<std::size_t> index;  // slots[i] -> cands[index[i]]
    for (std::size_t i = 0; i < cands.size(); ++i) {
      if (cands[i].skipped_caps & required) continue;
      slots.push_back(cands[i].slot);
      index.push_back(i);
    }
    any_capable = any_capable || !slots.empty();
    auto order = routing::plan_attempts(board, slots, band, gw.config.routing_spread_points, Clock::now(), plan_rng());
    std::vector<bool> raced(order.size());  // tried already, as the hedge of the attempt before
    for (std::size_t k = 0; k < order.size(); ++k) {
      if (out_of_budget || too_long) break;
      const auto& c = cands[index[order[k]]];
      if (raced[k] || (seam.active && !accepts_prefill(*catalog, m, c))) continue;
      auto body = build_body(gw, job, c, gw.config.anthropic_default_max_tokens);
      if (!body) {
        inexpressible = body.error();
        continue;
      }
      bool retried = false;
      for (;;) {
        if (budget.attempts_left == 0 || Clock::now() >= budget.deadline) {
          out_of_budget = true;
          break;
        }
        auto ticket = board.claim(c.slot, Clock::now());
        if (!ticket.valid) break;  // taken out meanwhile (another request saw it fail)
        --budget.attempts_left;
        const int attempt_no = ++budget.attempt_no;
        AttemptContext actx{gw, client, caller, job, c, m, body->view, budget.deadline, retried, last, has_next_model};
        actx.source = body->source.get();
        actx.seam = &seam;
        const int cuts = seam.cuts;
        auto t0 = Clock::now();
        AttemptReport rep;
        bool hedge_answered = false;
        if (k + 1 < order.size() && !raced[k + 1] && hedging(gw, job, seam)) {
          HedgeGate gate;
          actx.gate = &gate;
          HedgeLane lane(actx, job, cands[index[order[k + 1]]], gate, budget);
          auto start = hedge_start(ex, lane);
          auto first = try_stream(ex, actx);
          auto result = co_await race(ex, gate, t0 + std::chrono::milliseconds(gw.config.routing_hedge_after_ms),
                                      std::move(first), start);
          rep = result.first;
          if (result.hedge) {
            raced[k + 1] = true;
            hedge_answered = result.hedge->answered;
            result.hedge->obs.wall_ms = wall_ms();
            board.record(lane.ticket, result.hedge->obs, Clock::now());
            log_attempt(ex, lane.c, m, lane.attempt_no, result.hedge->obs.outcome,
                        hedge_answered       ? "answered (hedge)"
                        : result.hedge->lost ? "lost the race"
                                             : last.message,
                        ms_between(t0, Clock::now()));
            count_hedge(gw, job, result);
          }
        } else if (job.canon.stream || job.canon.op == formats::Operation::kSpeech) {
          rep = co_await try_stream(ex, actx);
        } else {
          rep = co_await try_plain(ex, actx);
        }
        rep.obs.wall_ms = wall_ms();
        board.record(ticket, rep.obs, Clock::now());
        log_attempt(ex, c, m, attempt_no, rep.obs.outcome,
                    rep.answered ? "answered"
                    : rep.lost   ? "lost the race"
                                 : last.message,
                    ms_between(t0, Clock::now()));
        if (rep.answered || hedge_answered) co_return;
        if (rep.lost) break;      // (the hedge won, then failed: go on with the next candidate)
        if (seam.cuts != cuts) {  // cut mid-answer: the next candidate continues it, never this one
          gw.counters.continuations.fetch_add(1, std::memory_order_relaxed);
          if (!prefill(job, seam)) co_return co_await end_cut(ex, seam);
          break;
        }
        if (rep.verdict.next == routing::Next::kNextModel) {
          too_long = true;
          break;
        }
        bool probe = ticket.model_probe || ticket.provider_probe;  // single-shot by contract
        if (rep.verdict.next != routing::Next::kRetrySame || retried || probe || budget.attempts_left == 0) break;
        if (Clock::now() + rep.verdict.wait >= budget.deadline) break;
        retried = true;
        if (rep.verdict.wait.count() > 0) co_await wait_for(ex, rep.verdict.wait);
        if (ex.client_gone()) co_return;
      }
    }
    if (too_long) prefer_larger_windows(*catalog, chain, at);
  }
  if (seam.active) co_return co_await end_cut(ex, seam);  // nothing continued it: the first failure
  if (!any_capable)
    co_return co_await reply_error(
        ex,
        make_error(ErrorKind::kInvalidRequest,
                   "No provider of '" + std::string(model) + "' supports: " + oai::capability_names(required),
                   capability_param(job), "capability_not_supported"),
        job.protocol);
  if (budget.attempt_no == 0 && inexpressible) co_return co_await reply_error(ex, *inexpressible, job.protocol);
  if (budget.attempt_no == 0) {
    auto e = no_healthy_provider(gw, ex, *catalog, chain, model);
    record_failure(gw, ex, caller, e, core::http_status(e.kind));
    co_return co_await reply_error(ex, e, job.protocol);
  }
  if (last.kind != ErrorKind::kUpstreamTimeout && last.kind != ErrorKind::kUpstreamUnavailable)
    last.kind = ErrorKind::kUpstreamError;
  record_failure(gw, ex, caller, last, core::http_status(last.kind));
  co_await reply_error(ex, last, job.protocol);
}

}  // namespace

namespace {
// True when every provider of the model and its fallbacks speaks the client's protocol natively
// and none has capability limits: the request then goes upstream as the client sent it and is
// never translated, so the pipeline skips decoding it (job.object stays null).
bool passthrough_only(const routing::Catalog& catalog, const Job& job, std::string_view model) {
  if (job.canon.same_bytes) return false;
  auto untranslated = [&](std::string_view m) {
    if (catalog.rule(m).declared_caps) return false;
    for (const auto& c : catalog.candidates(m))
      if (!same_protocol(job, c) || c.skipped_caps) return false;
    return true;
  };
  if (!untranslated(model)) return false;
  for (const auto& f : catalog.rule(model).fallbacks)
    if (!untranslated(f)) return false;
  return true;
}
}  // namespace

std::string_view served_model(const routing::Catalog& catalog, const formats::Protocol& protocol,
                              std::string_view model) {
  if (!catalog.candidates(model).empty()) return model;
  if (protocol.alternate_model) {
    auto alt = protocol.alternate_model(model);
    if (!alt.empty() && !catalog.candidates(alt).empty()) return alt;
  }
  return {};
}

boost::asio::awaitable<void> dispatch(Gateway& gw, server::Exchange& ex, upstream::Client& client, Route route) {
  const auto started = Clock::now();
  const auto& protocol = route.protocol;
  auto caller = authenticate(gw, ex, true, protocol.keys);
  if (!caller) co_return co_await reply_error(ex, caller.error(), protocol);
  // (co_await only as a whole statement: GCC 12 miscompiles it inside conditions.)
  auto denied = co_await admit(gw, *caller, ex);
  if (denied) co_return co_await reply_error(ex, *denied, protocol);

  json::error_code ec;
  json::monotonic_resource arena;  // one block for the whole parsed request, freed at once
  std::optional<Upload> upload;    // an upload route's body: spooled, its fields as JSON
  json::value form;
  if (route.codec.takes_form()) {
    upload.emplace(spool_dir(gw.config));
    auto fields = co_await read_upload(gw, ex, *upload);
    if (!fields) co_return co_await reply_error(ex, fields.error(), protocol);
    form = std::move(*fields);
  }
  json::value parsed = upload ? std::move(form) : json::parse(ex.body(), ec, &arena);
  if (ec)
    co_return co_await reply_error(
        ex,
        make_error(ErrorKind::kInvalidRequest, "Request body is not valid JSON: " + ec.message(), {}, "invalid_json"),
        protocol);
  auto catalog = gw.catalog.load();
  // A per-request "fallbacks" list is the gateway's, never the provider's: taken out of the body.
  auto request_fallbacks = take_request_fallbacks(*catalog, protocol, parsed);
  if (!request_fallbacks) co_return co_await reply_error(ex, request_fallbacks.error(), protocol);
  std::string stripped;  // the body without it, when it had one
  if (request_fallbacks->present) stripped = json::serialize(parsed);
  const std::string_view client_bytes = request_fallbacks->present ? std::string_view(stripped) : ex.body();
  auto head = route.codec.peek(parsed, route.params);
  if (!head) co_return co_await reply_error(ex, head.error(), protocol);
  Job job(protocol, route.codec, std::move(*head));
  job.started = started;
  job.client_object = &parsed;
  job.client_bytes = client_bytes;
  job.fallbacks = std::move(request_fallbacks->models);
  job.params = route.params;
  if (upload) job.upload = &*upload;
  job.sink = route.sink;

  const std::string model(served_model(*catalog, protocol, job.canon.model));
  if (model.empty())
    co_return co_await reply_error(
        ex,
        make_error(ErrorKind::kNotFound,
                   "The model '" + job.canon.model + "' does not exist or no enabled provider serves it", "model",
                   "model_not_found"),
        protocol);
  unsigned required = 0;
  if (!passthrough_only(*catalog, job, model)) {
    if (!job.canon.same_bytes) {  // (a peek that was not already the whole decode)
      auto canon = route.codec.decode(parsed, route.params);
      if (!canon) co_return co_await reply_error(ex, canon.error(), protocol);
      job.canon = std::move(*canon);
    }
    job.object = job.canon.same_bytes ? &parsed : &job.canon.body;
    if (job.canon.same_bytes) {
      job.bytes = client_bytes;
      const auto* named = parsed.as_object().if_contains("model");
      if (named && named->is_string()) job.bytes_model = std::string(named->get_string());
      job.ask_usage = job.canon.stream && !job.canon.include_usage;
    }  // (else serialised by the first OpenAI-compatible candidate)
    required = required_capabilities(job);
  }
  if (auto gap = capability_gap(catalog->rule(model), required); !gap.empty())
    co_return co_await reply_error(
        ex,
        make_error(ErrorKind::kInvalidRequest, "The model '" + model + "' does not support: " + gap,
                   capability_param(job), "model_capability_missing"),
        protocol);
  auto image_error = co_await inline_request_images(gw, ex, job);  // http(s) image URLs -> data URLs
  if (image_error) co_return co_await reply_error(ex, *image_error, protocol);
  co_await run_attempts(gw, ex, client, *caller, job, catalog.get(), model, required);
}

}  // namespace anygpt::pipeline
