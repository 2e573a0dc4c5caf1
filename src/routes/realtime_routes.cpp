// GET /v1/realtime?model=M: the OpenAI Realtime relay. The client's WebSocket is relayed to an
// openai-protocol provider serving M (chosen by the routing, failing over while the upstream has
// not opened), frames unchanged both ways. Limits: the session is one request at connect, each
// client response.create one more (quota checked at both); each response.done's usage is billed.
// docs/WEBSOCKET.md "/v1/realtime".
#include <boost/asio/as_tuple.hpp>
#include <boost/asio/co_spawn.hpp>
#include <boost/asio/detached.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/asio/use_awaitable.hpp>
#include <boost/asio/write.hpp>
#include <boost/beast/websocket/rfc6455.hpp>
#include <boost/json/parse.hpp>
#include <random>

#include "core/json_text.hpp"
#include "routes/api_route.hpp"
#include "routing/plan.hpp"
#include "ws/client.hpp"
#include "ws/connection.hpp"
#include "ws/frames.hpp"

namespace anygpt::routes {
namespace {
namespace json = boost::json;
constexpr auto kTuple = boost::asio::as_tuple(boost::asio::use_awaitable);
constexpr std::string_view kKeyProtocol = "openai-insecure-api-key.";

// What the upgrade request offers: the client's key (Bearer, api-key, ?api-key=, ?apikey=, or the
// subprotocol openai-insecure-api-key.<key> browsers send) and whether it offers "realtime".
struct Offer {
  std::string_view key;
  bool realtime_protocol = false;
};

Offer read_offer(const server::Exchange& ex) {
  Offer o;
  static constexpr formats::KeySources kSources{true, {"api-key", "", ""}, "api-key"};
  o.key = pipeline::extract_api_key(ex, kSources);
  if (o.key.empty()) o.key = ex.query_value("apikey");
  auto list = ex.header(server::http::field::sec_websocket_protocol);
  while (!list.empty()) {
    auto comma = list.find(',');
    auto item = list.substr(0, comma);
    while (!item.empty() && item.front() == ' ') item.remove_prefix(1);
    while (!item.empty() && item.back() == ' ') item.remove_suffix(1);
    if (item == "realtime") o.realtime_protocol = true;
    if (o.key.empty() && item.starts_with(kKeyProtocol)) o.key = item.substr(kKeyProtocol.size());
    if (comma == std::string_view::npos) break;
    list.remove_prefix(comma + 1);
  }
  return o;
}

// A Realtime `error` event.
std::string error_event(std::string_view type, std::string_view code, std::string_view message) {
  std::string out = "{\"type\":\"error\",\"event_id\":null,\"error\":{\"type\":";
  core::append_json_string(out, type);
  out += ",\"code\":";
  core::append_json_string(out, code);
  out += ",\"message\":";
  core::append_json_string(out, message);
  out += ",\"param\":null,\"event_id\":null}}";
  return out;
}

std::string error_event(const core::Error& e) {
  const char* type = e.kind == core::ErrorKind::kRateLimited || e.kind == core::ErrorKind::kQuotaExceeded
                         ? "rate_limit_exceeded"
                     : e.kind == core::ErrorKind::kUpstreamUnavailable || e.kind == core::ErrorKind::kUpstreamTimeout
                         ? "server_error"
                         : "invalid_request_error";
  return error_event(type, e.code, e.message);
}

// The client event's "type", when the text is a JSON object that has one.
std::string event_type(std::string_view text) {
  json::error_code ec;
  auto v = json::parse(text, ec);
  if (ec || !v.is_object()) return {};
  const auto* t = v.as_object().if_contains("type");
  return t && t->is_string() ? std::string(t->as_string()) : std::string();
}

// The total tokens of a response.done event (0 when it has none).
std::int64_t done_tokens(std::string_view text) {
  json::error_code ec;
  auto v = json::parse(text, ec);
  if (ec || !v.is_object()) return 0;
  const auto* r = v.as_object().if_contains("response");
  const auto* u = r && r->is_object() ? r->as_object().if_contains("usage") : nullptr;
  const auto* t = u && u->is_object() ? u->as_object().if_contains("total_tokens") : nullptr;
  return t && t->is_int64() ? t->as_int64() : 0;
}

// The upstream URL of a candidate: its chat endpoint with /chat/completions -> /realtime, plus
// ?model=<upstream model>.
ws::Target realtime_target(const routing::Candidate& c) {
  const auto& ep = c.endpoint(formats::Operation::kChat, false);
  ws::Target t;
  t.tls = ep.tls;
  t.host = ep.host;
  t.port = ep.port;
  std::string_view target = ep.target;
  auto q = target.find('?');
  std::string path(target.substr(0, q));
  std::string query = q == std::string_view::npos ? std::string() : std::string(target.substr(q + 1));
  constexpr std::string_view kChat = "/chat/completions";
  if (path.ends_with(kChat)) path.resize(path.size() - kChat.size());
  while (!path.empty() && path.back() == '/') path.pop_back();
  path += "/realtime?";
  if (!query.empty()) path += query + "&";
  path += "model=" + c.upstream_model;
  t.path = std::move(path);
  t.headers.emplace_back("Authorization", "Bearer " + c.provider->provider.api_key);
  t.headers.emplace_back("OpenAI-Beta", "realtime=v1");
  return t;
}

std::mt19937_64& rng() {
  thread_local std::mt19937_64 r{std::random_device{}()};
  return r;
}

// The candidates serving `model` over the OpenAI protocol, in the routing's order.
std::vector<routing::Candidate> ordered_candidates(pipeline::Gateway& gw, const pipeline::Caller& caller,
                                                   std::string_view model) {
  auto catalog = gw.catalog.load();
  const auto& cands = catalog->candidates(model);
  std::vector<std::size_t> slots, index;
  for (std::size_t i = 0; i < cands.size(); ++i) {
    const auto& p = cands[i].provider;
    if (p->codec || p->provider.protocol != config::ProviderProtocol::kOpenAI) continue;
    slots.push_back(cands[i].slot);
    index.push_back(i);
  }
  routing::ScoreBand band{caller.tier->min_provider_score, caller.tier->max_provider_score};
  auto order =
      routing::plan_attempts(*gw.health, slots, band, gw.config.routing_spread_points, routing::Clock::now(), rng());
  std::vector<routing::Candidate> out;
  for (auto k : order) out.push_back(cands[index[k]]);
  return out;
}

// One relayed session: the client's socket and the upstream's, bytes both ways. Frames pass on
// unchanged (the client's stay masked, as the upstream needs; the upstream's unmasked, as the
// client needs); text messages are held until whole and looked into: a client response.create
// is admitted first, an upstream response.done is billed.
struct Session {
  Session(pipeline::Gateway& g, server::Exchange& e, boost::asio::ip::tcp::socket& c, pipeline::Caller k)
      : gw(g), ex(e), client(c), caller(std::move(k)), wake(c.get_executor()) {
    wake.expires_at(boost::asio::steady_timer::time_point::max());
  }
  pipeline::Gateway& gw;
  server::Exchange& ex;
  boost::asio::ip::tcp::socket& client;
  pipeline::Caller caller;
  std::unique_ptr<ws::Upstream> upstream;
  bool client_busy = false;        // a write to the client is running (both pumps write to it)
  int pumps = 0;                   // pumps still running
  boost::asio::steady_timer wake;  // cancelled when a client write or a pump ends
  core::SteadyClock::time_point last_activity = core::SteadyClock::now();
  std::size_t max_message = 0;
  bool ended = false;

  void end() {
    if (ended) return;
    ended = true;
    boost::system::error_code ec;
    client.cancel(ec);
    client.shutdown(boost::asio::ip::tcp::socket::shutdown_both, ec);
    upstream->cut();
  }
};

boost::asio::awaitable<bool> write_client(Session& s, std::string_view bytes) {
  while (s.client_busy) co_await s.wake.async_wait(kTuple);
  s.client_busy = true;
  auto [ec, n] = co_await boost::asio::async_write(s.client, boost::asio::buffer(bytes.data(), bytes.size()), kTuple);
  s.client_busy = false;
  s.wake.cancel();
  co_return !ec;
}

// Cuts a session whose sockets were silent for the idle timeout or whose writes stalled.
class SessionWatch : public core::Watch {
 public:
  SessionWatch(Session& s, std::chrono::milliseconds idle) : s_(s), idle_(idle) {}

 protected:
  void on_tick(core::SteadyClock::time_point now) override {
    if (now - s_.last_activity < idle_) return;
    disarm();
    s_.end();
  }

 private:
  Session& s_;
  std::chrono::milliseconds idle_;
};

// Bills an upstream response.done.
void bill(Session& s, std::string_view text) {
  if (text.find("\"response.done\"") != std::string_view::npos)
    if (auto tokens = done_tokens(text); tokens > 0) auth::KeyRegistry::account(*s.caller.key, tokens);
}

// A fragmented text message, held until its last frame.
struct Held {
  std::string raw, text;
  bool active = false;
};

boost::asio::awaitable<bool> flush(Session& s, bool to_client, std::string& out) {
  if (out.empty()) co_return true;
  bool ok = false;
  if (to_client)
    ok = co_await write_client(s, out);
  else
    ok = co_await s.upstream->write(out);
  out.clear();
  co_return ok;
}

// Whether a client text message that may be a response.create passes: one is admitted as a request
// of the key's budget first (false: refused, and the client told); nullopt when the client is gone.
boost::asio::awaitable<std::optional<bool>> admit_create(Session& s, std::string_view text) {
  if (event_type(text) != "response.create") co_return true;
  auto again = pipeline::authenticate_key(s.gw, s.ex, s.caller.key->api_key, true);
  std::optional<core::Error> refused;
  if (!again) refused = again.error();
  if (!refused) refused = co_await pipeline::admit(s.gw, s.caller, s.ex);
  if (!refused) co_return true;
  const bool told = co_await write_client(s, ws::server_text_frame(error_event(*refused)));
  if (!told) co_return std::nullopt;
  co_return false;
}

// One direction: reads its side, passes frames on, whole reads written whole. A text message
// in one frame (the usual) is looked into where it lies (a masked one through a scratch copy);
// a fragmented one is held until its last frame. Ends the session when it stops.
boost::asio::awaitable<void> pump(Session& s, bool to_client, std::string buffer) {
  constexpr std::size_t kRead = 64 * 1024;
  Held held;
  std::string out, scratch;
  bool ok = true;
  bool closed = false;          // a close frame went through
  std::uint16_t fail_code = 0;  // why this side is cut (sent to the client)
  while (ok) {
    std::size_t pos = 0;
    for (;;) {
      const std::string_view rest = std::string_view(buffer).substr(pos);
      ws::FrameHeader h;
      const auto scan = ws::scan_frame(rest, h);
      if (scan == ws::Scan::kMalformed) {
        ok = false;
        fail_code = 1002;  // protocol error
        break;
      }
      if (scan == ws::Scan::kNeedMore || rest.size() - h.header_size < h.length) break;
      const auto raw = rest.substr(0, h.header_size + h.length);
      pos += raw.size();
      const bool text = h.opcode == 1 || (h.opcode == 0 && held.active);
      if (h.control() || !text) {
        closed = closed || h.opcode == 8;
        out += raw;
        continue;
      }
      const auto payload = raw.substr(h.header_size);
      std::string_view whole;  // the message's text, once whole
      if (!held.active && h.fin) {
        if (h.masked) {
          scratch.clear();
          ws::append_unmasked(scratch, payload, h);
          whole = scratch;
        } else {
          whole = payload;
        }
      } else {
        held.active = true;
        held.raw += raw;
        ws::append_unmasked(held.text, payload, h);
        if (!h.fin) {
          if (held.text.size() <= s.max_message) continue;
          ok = false;
          fail_code = ws::kTooBig;
          break;
        }
        whole = held.text;
      }
      if (whole.size() > s.max_message) {
        ok = false;
        fail_code = ws::kTooBig;
        break;
      }
      std::optional<bool> pass = true;
      if (to_client) {
        bill(s, whole);
      } else if (whole.find("response.create") != std::string_view::npos) {
        // A response.create waits for admission: what came before it goes first.
        ok = co_await flush(s, to_client, out);
        if (ok) pass = co_await admit_create(s, whole);
        if (!ok || !pass) {
          ok = false;
          break;
        }
      }
      if (*pass) out += held.active ? std::string_view(held.raw) : raw;
      held.raw.clear();
      held.text.clear();
      held.active = false;
    }
    if (pos == buffer.size())
      buffer.clear();
    else
      buffer.erase(0, pos);
    if (ok) ok = co_await flush(s, to_client, out);
    if (ok && buffer.size() > s.max_message + 16) fail_code = ws::kTooBig;
    if (!ok || fail_code) break;
    const std::size_t had = buffer.size();
    buffer.resize(had + kRead);
    std::size_t n = 0;
    if (to_client) {
      n = co_await s.upstream->read_some(buffer.data() + had, kRead);
    } else {
      auto [ec, got] = co_await s.client.async_read_some(boost::asio::buffer(buffer.data() + had, kRead), kTuple);
      n = ec ? 0 : got;
    }
    buffer.resize(had + n);
    if (n == 0) {
      if (to_client && !closed) fail_code = ws::kInternal;  // the upstream dropped the connection
      break;
    }
    s.last_activity = core::SteadyClock::now();
  }
  // The client learns why, unless a close already went its way (or it is the one that left).
  if (fail_code && !s.ended && (to_client || fail_code != ws::kInternal))
    co_await write_client(s, ws::server_close_frame(fail_code));
  s.end();
  --s.pumps;
  s.wake.cancel();
}

// Opens the upstream on the first candidate that accepts, in order.
boost::asio::awaitable<core::Result<std::unique_ptr<ws::Upstream>>> open_upstream(
    pipeline::Gateway& gw, const std::vector<routing::Candidate>& cands, boost::asio::any_io_executor executor) {
  core::Error last = core::make_error(core::ErrorKind::kUpstreamUnavailable, "No provider could open the session");
  for (const auto& c : cands) {
    const auto target = realtime_target(c);
    auto up = co_await ws::connect(executor, target, &pipeline::thread_client().tls(),
                                   std::chrono::milliseconds(gw.config.upstream_connect_timeout_ms));
    if (up) co_return std::move(*up);
    last = up.error();
    last.code = "upstream_unavailable";
  }
  co_return last;
}

boost::asio::awaitable<void> refuse(ws::Connection& conn, std::string event) {
  co_await conn.send(std::move(event));
  conn.close(ws::kPolicy, "refused");
}

boost::asio::awaitable<void> run_session(Session& s) {
  SessionWatch watch(s, std::chrono::milliseconds(s.gw.config.ws_idle_timeout_ms));
  core::Watchdog::for_this_thread().arm(watch);
  s.pumps = 2;
  boost::asio::co_spawn(s.client.get_executor(), pump(s, true, std::move(s.upstream->leftover)), boost::asio::detached);
  boost::asio::co_spawn(s.client.get_executor(), pump(s, false, std::string()), boost::asio::detached);
  while (s.pumps > 0) co_await s.wake.async_wait(kTuple);
}

boost::asio::awaitable<void> serve(pipeline::Gateway& gw, server::Exchange& ex) {
  if (!boost::beast::websocket::is_upgrade(ex.request())) {
    const auto err = core::make_error(core::ErrorKind::kInvalidRequest,
                                      "GET /v1/realtime is a WebSocket endpoint: send an Upgrade: websocket request",
                                      {}, "upgrade_required");
    server::Response r(426, "application/json", formats::openai::protocol().error_body(err));
    r.headers.emplace_back("Upgrade", "websocket");
    co_await ex.reply(std::move(r));
    co_return;
  }
  const auto offer = read_offer(ex);
  const std::string model(ex.query_value("model"));
  ws::Options options = ws_options(gw.config);
  if (offer.realtime_protocol) options.subprotocol = "realtime";
  auto caller = pipeline::authenticate_key(gw, ex, offer.key, true);
  auto& socket = ex.upgrade();
  ws::Connection conn(socket, options, ex.draining());
  const bool accepted = co_await conn.accept(ex.request());
  if (!accepted) co_return;
  // Refusals are Realtime error events on the opened socket (what the SDKs read), then a close.
  std::optional<std::string> refusal;
  if (!caller) refusal = error_event(caller.error());
  if (!refusal && model.empty())
    refusal = error_event("invalid_request_error", "missing_model", "Name the model: /v1/realtime?model=...");
  std::vector<routing::Candidate> cands;
  if (!refusal) cands = ordered_candidates(gw, *caller, model);
  if (!refusal && cands.empty())
    refusal = error_event("invalid_request_error", "model_not_found",
                          "No OpenAI-compatible provider serves the model '" + model + "' for realtime");
  if (!refusal) {
    auto denied = co_await pipeline::admit(gw, *caller, ex);
    if (denied) refusal = error_event(*denied);
  }
  if (refusal) {
    auto idle = [](std::string_view, bool) -> boost::asio::awaitable<void> { co_return; };
    co_await refuse(conn, std::move(*refusal));
    co_await conn.run(idle);
    co_return;
  }
  auto up = co_await open_upstream(gw, cands, conn.executor());
  if (!up) {
    auto idle = [](std::string_view, bool) -> boost::asio::awaitable<void> { co_return; };
    co_await conn.send(error_event(up.error()));
    conn.close(ws::kInternal, "no upstream");
    co_await conn.run(idle);
    co_return;
  }
  Session s(gw, ex, socket, std::move(*caller));
  s.upstream = std::move(*up);
  s.max_message = options.max_message_bytes;
  gw.counters.realtime_sessions.fetch_add(1, std::memory_order_relaxed);
  gw.counters.realtime_open.fetch_add(1, std::memory_order_relaxed);
  co_await run_session(s);
  gw.counters.realtime_open.fetch_sub(1, std::memory_order_relaxed);
}

}  // namespace

std::vector<ApiRoute> realtime_routes(pipeline::Gateway& gw) {
  auto* g = &gw;
  return {{server::http::verb::get, "/v1/realtime",
           "OpenAI Realtime relay (WebSocket upgrade; ?model=): frames relayed to a provider serving the model",
           Access::kKey, [g](server::Exchange& ex) { return serve(*g, ex); }}};
}

}  // namespace anygpt::routes
