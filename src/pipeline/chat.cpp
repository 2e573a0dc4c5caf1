#include "pipeline/chat.hpp"

#include <boost/json.hpp>

#include "core/json_text.hpp"
#include "core/log.hpp"
#include "formats/openai/openai.hpp"

namespace anygpt::pipeline {
namespace json = boost::json;
namespace oai = formats::openai;
using core::ErrorKind;
using core::make_error;

namespace {

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

// Failures after which the next provider is tried.
bool should_fail_over(unsigned status) {
  return status == 401 || status == 403 || status == 408 || status == 409 || status == 429 || status >= 500;
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

void log_attempt(const server::Exchange& ex, const routing::Candidate& c, std::string_view outcome) {
  if (!core::log_enabled(core::LogLevel::kDebug)) return;
  std::string fields = "\"request_id\":";
  core::append_json_string(fields, ex.request_id());
  fields += ",\"provider\":";
  core::append_json_string(fields, c.provider->provider.id);
  fields += ",\"outcome\":";
  core::append_json_string(fields, outcome);
  core::log(core::LogLevel::kDebug, "upstream attempt", fields);
}

void account(const Caller& caller, const core::Usage& usage) {
  auth::KeyRegistry::account(*caller.key, usage.present ? usage.total_tokens : 0);
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

enum class Attempt { kDone, kFailOver };

boost::asio::awaitable<Attempt> try_plain(server::Exchange& ex, upstream::Client& client, const Caller& caller,
                                          const routing::Candidate& c, std::string_view body, core::Error& last) {
  upstream::Abort abort;
  upstream::Request req{c.endpoint, body, c.provider->provider.api_key, false, &abort};
  ex.watch_client([&abort] { abort.trigger(); });
  auto res = co_await client.call(req);
  ex.unwatch_client();
  if (ex.client_gone()) {
    log_attempt(ex, c, "client_gone");
    co_return Attempt::kDone;  // nobody to answer; the upstream call was cancelled
  }
  if (!res) {
    last = res.error();
    last.provider = c.provider->provider.id;
    log_attempt(ex, c, res.error().message);
    co_return Attempt::kFailOver;
  }
  auto& r = *res;
  log_attempt(ex, c, std::to_string(r.status));
  if (should_fail_over(r.status)) {
    last = upstream_status_error(c, r.status);
    co_return Attempt::kFailOver;
  }
  if (r.status >= 400) {
    co_await relay_client_error(ex, r.status, r.content_type, r.body, c.provider->provider.api_key);
    co_return Attempt::kDone;
  }
  auto usage = oai::usage_from_body(r.body);
  if (!usage) {
    last = make_error(ErrorKind::kUpstreamError,
                      "Provider '" + c.provider->provider.id + "' returned a body that is not a JSON object", {},
                      "upstream_bad_response");
    co_return Attempt::kFailOver;
  }
  account(caller, *usage);
  server::Response out{
      r.status, r.content_type.empty() ? "application/json" : std::move(r.content_type), std::move(r.body), {}};
  if (caller.key->is_admin()) out.headers.emplace_back("x-anygpt-provider", c.provider->provider.id);
  co_await ex.reply(std::move(out));
  co_return Attempt::kDone;
}

// Relays SSE events as they arrive. Tracks usage; drops the usage-only chunk when the client
// did not ask for it. Returns when the upstream body ended (cleanly or not) or the client left.
boost::asio::awaitable<void> pump_events(server::Exchange& ex, upstream::Stream& stream,
                                         const oai::ChatRequestInfo& info, core::Usage& usage) {
  oai::SseSplitter splitter;
  std::string out;
  for (;;) {
    auto piece = co_await stream.next();
    if (!piece) {
      // Cut or stalled mid-way: never let it look like success (no [DONE]).
      std::string event = oai::stream_error_event(piece.error());
      co_await ex.write_chunk(event);
      co_return;
    }
    if (piece->empty()) co_return;
    if (splitter.empty() && piece->ends_with("\n\n") && !oai::has_usage_object(*piece)) {
      // Whole events with nothing to account or drop: relay the bytes as they are.
      if (!co_await ex.write_chunk(*piece)) co_return;
      continue;
    }
    splitter.append(*piece);
    out.clear();
    while (auto ev = splitter.next_event()) {
      if (oai::has_usage_object(*ev)) {
        if (auto data = oai::event_data(*ev)) {
          json::error_code ec;
          auto v = json::parse(*data, ec);
          if (!ec && v.is_object()) {
            auto u = oai::usage_from(v.as_object());
            if (u.present) usage = u;
            const auto* choices = v.as_object().if_contains("choices");
            bool usage_only = u.present && choices && choices->is_array() && choices->as_array().empty();
            if (usage_only && !info.include_usage) continue;
          }
        }
      }
      out.append(ev->data(), ev->size());
      out += "\n\n";
    }
    if (!out.empty() && !co_await ex.write_chunk(out)) co_return;
  }
}

// The client probe armed by try_stream stays armed for the whole relay: a client that leaves
// aborts the upstream read even while the upstream is silent.
boost::asio::awaitable<void> relay_stream(server::Exchange& ex, upstream::Stream& stream, const Caller& caller,
                                          const oai::ChatRequestInfo& info) {
  core::Usage usage;
  co_await pump_events(ex, stream, info, usage);
  account(caller, usage);
  if (!ex.client_gone()) co_await ex.end_stream();
}

boost::asio::awaitable<Attempt> try_stream(server::Exchange& ex, upstream::Client& client, const Caller& caller,
                                           const routing::Candidate& c, std::string_view body,
                                           const oai::ChatRequestInfo& info, core::Error& last) {
  upstream::Abort abort;
  upstream::Request req{c.endpoint, body, c.provider->provider.api_key, true, &abort};
  ex.watch_client([&abort] { abort.trigger(); });
  struct Unwatch {
    explicit Unwatch(server::Exchange& e) : ex(e) {}
    ~Unwatch() { ex.unwatch_client(); }
    server::Exchange& ex;
  } unwatch(ex);
  auto opened = co_await client.open_stream(req);
  if (ex.client_gone()) co_return Attempt::kDone;
  if (!opened) {
    last = opened.error();
    last.provider = c.provider->provider.id;
    log_attempt(ex, c, opened.error().message);
    co_return Attempt::kFailOver;
  }
  auto& stream = *opened;
  log_attempt(ex, c, std::to_string(stream.status()));
  if (stream.status() >= 400 || stream.content_type().rfind("text/event-stream", 0) != 0) {
    std::string all;
    for (;;) {
      auto piece = co_await stream.next();
      if (!piece) {
        last = piece.error();
        co_return Attempt::kFailOver;
      }
      if (piece->empty()) break;
      all.append(piece->data(), piece->size());
    }
    if (should_fail_over(stream.status())) {
      last = upstream_status_error(c, stream.status());
      co_return Attempt::kFailOver;
    }
    if (stream.status() >= 400) {
      co_await relay_client_error(ex, stream.status(), stream.content_type(), all, c.provider->provider.api_key);
      co_return Attempt::kDone;
    }
    // A 2xx that is not SSE (a provider that ignores "stream"): relay it as it is.
    server::Response out{stream.status(), stream.content_type(), std::move(all), {}};
    co_await ex.reply(std::move(out));
    co_return Attempt::kDone;
  }
  server::Headers headers;
  if (caller.key->is_admin()) headers.emplace_back("x-anygpt-provider", c.provider->provider.id);
  if (!co_await ex.begin_stream(200, "text/event-stream", std::move(headers))) co_return Attempt::kDone;
  co_await relay_stream(ex, stream, caller, info);
  co_return Attempt::kDone;
}

}  // namespace

boost::asio::awaitable<void> chat_completions(Gateway& gw, server::Exchange& ex, upstream::Client& client) {
  auto caller = authenticate(gw, ex, true);
  if (!caller) co_return co_await reply_error(ex, caller.error());
  if (auto denied = admit(*caller, ex)) co_return co_await reply_error(ex, *denied);

  json::error_code ec;
  json::monotonic_resource arena;  // one block for the whole parsed request, freed at once
  auto parsed = json::parse(ex.body(), ec, &arena);
  if (ec)
    co_return co_await reply_error(
        ex,
        make_error(ErrorKind::kInvalidRequest, "Request body is not valid JSON: " + ec.message(), {}, "invalid_json"));
  auto info = oai::inspect_chat_request(parsed);
  if (!info) co_return co_await reply_error(ex, info.error());

  auto catalog = gw.catalog;
  const auto& candidates = catalog->candidates(info->model);
  if (candidates.empty())
    co_return co_await reply_error(
        ex, make_error(ErrorKind::kNotFound,
                       "The model '" + info->model + "' does not exist or no enabled provider serves it", "model",
                       "model_not_found"));

  core::Error last = make_error(ErrorKind::kUpstreamUnavailable, "No provider could serve the request");
  for (const auto& c : candidates) {
    auto body = build_body(ex.body(), parsed, *info, c);
    Attempt a = info->stream ? co_await try_stream(ex, client, *caller, c, body.view, *info, last)
                             : co_await try_plain(ex, client, *caller, c, body.view, last);
    if (a == Attempt::kDone) co_return;
  }
  if (last.kind != ErrorKind::kUpstreamTimeout && last.kind != ErrorKind::kUpstreamUnavailable)
    last.kind = ErrorKind::kUpstreamError;
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
