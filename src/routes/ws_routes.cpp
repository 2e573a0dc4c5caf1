// GET /ws: the original AnyGPT's WebSocket protocol (auth, ping, chat.completions) plus
// streaming (chat.delta), cancel and concurrent requests per socket. Each chat.completions runs
// through the same dispatcher as POST /v1/chat/completions (routing, failover, limits and
// accounting on the key's one budget): an Exchange made for it answers into a capture that turns
// the OpenAI answer into socket messages (formats/ws). docs/WEBSOCKET.md.
#include <boost/asio/as_tuple.hpp>
#include <boost/asio/co_spawn.hpp>
#include <boost/asio/detached.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/asio/use_awaitable.hpp>
#include <boost/beast/websocket/rfc6455.hpp>
#include <charconv>
#include <map>

#include "core/log.hpp"
#include "formats/openai/chat_codec.hpp"
#include "formats/ws/ws.hpp"
#include "routes/api_route.hpp"
#include "ws/connection.hpp"

namespace anygpt::routes {
namespace {
namespace wsf = formats::ws;
using Clock = core::SteadyClock;
constexpr auto kTuple = boost::asio::as_tuple(boost::asio::use_awaitable);

std::int64_t ms_since(Clock::time_point t) {
  return std::chrono::duration_cast<std::chrono::milliseconds>(Clock::now() - t).count();
}

std::string_view header_value(const server::Headers& headers, std::string_view name) {
  for (const auto& [k, v] : headers)
    if (boost::beast::iequals(k, name)) return v;
  return {};
}

struct Socket;

// One chat.completions on a socket: receives the dispatcher's HTTP answer and sends it on as
// messages. Cancelling (chat.cancel, the socket closing) is the capture's client-gone.
class ChatCapture final : public server::AnswerCapture {
 public:
  ChatCapture(Socket& socket, std::string request_id, bool stream)
      : socket_(socket), request_id_(request_id), stream_(stream), assembler_(std::move(request_id)) {}

  boost::asio::awaitable<void> reply(const server::Response& r, const server::Headers& headers) override;
  boost::asio::awaitable<bool> begin_stream(unsigned status, std::string_view, const server::Headers& headers) override;
  boost::asio::awaitable<bool> write_chunk(std::string_view data) override;
  boost::asio::awaitable<bool> end_stream() override;

  Clock::time_point started = Clock::now();
  bool completed = false;  // chat.complete (or its error) was sent

 private:
  boost::asio::awaitable<bool> send(std::string message);
  Socket& socket_;
  std::string request_id_;
  bool stream_;
  wsf::AnswerAssembler assembler_;
  std::string provider_;  // x-anygpt-provider (shown to admin keys only, as over HTTP)
  std::optional<wsf::Problem> problem_;
  std::vector<std::string> deltas_;
};

// The state of one /ws connection.
struct Socket {
  Socket(pipeline::Gateway& g, server::Exchange& upgrade, ws::Connection& c)
      : gw(g), ex(upgrade), conn(c), idle(c.executor()) {
    idle.expires_at(boost::asio::steady_timer::time_point::max());
  }
  pipeline::Gateway& gw;
  server::Exchange& ex;  // the upgrade request's exchange (its connection, its caps)
  ws::Connection& conn;
  std::shared_ptr<const auth::KeyEntry> key;  // set by auth
  bool push_usage = false;
  std::map<std::string, ChatCapture*, std::less<>> running;  // by requestId
  std::uint64_t next_id = 0;       // numbers the socket's requests: their log ids and default requestIds
  boost::asio::steady_timer idle;  // cancelled when the last running request ends
};

boost::asio::awaitable<bool> ChatCapture::send(std::string message) {
  if (gone()) co_return false;
  co_return co_await socket_.conn.send(std::move(message));
}

boost::asio::awaitable<void> ChatCapture::reply(const server::Response& r, const server::Headers& headers) {
  completed = true;
  provider_ = std::string(header_value(headers, "x-anygpt-provider"));
  if (r.status != 200) {
    std::int64_t retry_s = 0;
    auto ra = header_value(headers, "Retry-After");
    std::from_chars(ra.data(), ra.data() + ra.size(), retry_s);
    co_await send(wsf::error(wsf::problem_of(r.status, r.body, retry_s, request_id_)));
    co_return;
  }
  auto done = assembler_.complete(r.body, ms_since(started), provider_);
  if (auto* p = std::get_if<wsf::Problem>(&done))
    co_await send(wsf::error(*p));
  else
    co_await send(std::move(std::get<std::string>(done)));
}

boost::asio::awaitable<bool> ChatCapture::begin_stream(unsigned, std::string_view, const server::Headers& headers) {
  provider_ = std::string(header_value(headers, "x-anygpt-provider"));
  co_return !gone();
}

boost::asio::awaitable<bool> ChatCapture::write_chunk(std::string_view data) {
  deltas_.clear();
  if (auto p = assembler_.feed(data, deltas_)) problem_ = std::move(p);
  if (stream_)
    for (auto& d : deltas_) {
      const bool sent = co_await send(std::move(d));
      if (!sent) co_return false;
    }
  co_return !gone();
}

boost::asio::awaitable<bool> ChatCapture::end_stream() {
  completed = true;
  if (problem_) {
    co_await send(wsf::error(*problem_));
    co_return !gone();
  }
  const bool sent = co_await send(assembler_.finish(ms_since(started), provider_));
  co_return sent;
}

pipeline::Route chat_route() {
  return pipeline::Route{formats::openai::protocol(), formats::openai::chat_codec(), formats::RouteParams{}, nullptr};
}

// Runs one chat.completions through the dispatcher. Never throws.
boost::asio::awaitable<void> run_chat(Socket& s, wsf::Inbound in) {
  ChatCapture capture(s, in.request_id, in.stream);
  s.running[in.request_id] = &capture;
  s.conn.set_busy(true);
  try {
    // The request as POST /v1/chat/completions would carry it: the socket's key as Bearer.
    server::RequestHead head;
    head.method(server::http::verb::post);
    head.target("/v1/chat/completions");
    head.set(server::http::field::authorization, "Bearer " + s.key->api_key);
    head.set(server::http::field::content_type, "application/json");
    std::string scratch;
    auto ex =
        s.ex.sibling(head, &in.chat_body, s.ex.request_id() + "." + std::to_string(++s.next_id), scratch, capture);
    const bool started = co_await s.conn.send(wsf::chat_start(in.request_id));
    if (started) {
      co_await pipeline::dispatch(s.gw, *ex, pipeline::thread_client(), chat_route());
    }
    if (capture.gone() && !capture.completed && !s.conn.closing())
      co_await s.conn.send(wsf::chat_cancelled(in.request_id));
    else if (s.push_usage && capture.completed && !s.conn.closing()) {
      const auto& c = *s.key->counters;
      co_await s.conn.send(wsf::usage(in.request_id, c.token_usage.load(std::memory_order_relaxed),
                                      c.request_count.load(std::memory_order_relaxed)));
    }
  } catch (const std::exception& e) {
    core::log(core::LogLevel::kError, std::string("ws chat request failed: ") + e.what());
  }
  s.running.erase(in.request_id);
  if (s.running.empty()) {
    s.conn.set_busy(false);
    s.idle.cancel();
  }
}

// Sends an error message (a plain function: no aggregate is built inside a coroutine, see
// docs/STATUS.md "Gotchas").
boost::asio::awaitable<bool> send_error(Socket& s, std::string_view code, std::string message,
                                        std::string request_id = {}) {
  wsf::Problem p;
  p.code = code;
  p.message = std::move(message);
  p.request_id = std::move(request_id);
  return s.conn.send(wsf::error(p));
}

// 426 for a plain GET /ws (no upgrade asked).
server::Response upgrade_required() {
  const auto& protocol = formats::openai::protocol();
  auto err =
      core::make_error(core::ErrorKind::kInvalidRequest,
                       "GET /ws is a WebSocket endpoint: send an Upgrade: websocket request", {}, "upgrade_required");
  server::Response r(426, "application/json", protocol.error_body(err));
  r.headers.emplace_back("Upgrade", "websocket");
  return r;
}

boost::asio::awaitable<void> on_auth(Socket& s, const wsf::Inbound& in) {
  if (s.key) {
    const bool same = s.key->api_key == in.api_key;
    if (same) co_await s.conn.send(wsf::auth_ok(s.key->tier, s.key->role, true));
    if (!same) co_await send_error(s, "auth", "This socket is already authenticated with another key");
    co_return;
  }
  auto key = s.gw.keys->find(in.api_key);
  if (!key) {
    co_await send_error(s, "auth", "Invalid API key");
    co_return;
  }
  auto tiers = s.gw.tiers.load();
  if (!tiers->contains(key->tier)) {
    co_await send_error(s, "auth", "The key's tier '" + key->tier + "' is not defined in tiers.json");
    co_return;
  }
  s.key = std::move(key);
  s.push_usage = in.push_usage;
  s.ex.mark_authenticated();
  co_await s.conn.send(wsf::auth_ok(s.key->tier, s.key->role, false));
}

boost::asio::awaitable<void> on_message(Socket& s, std::string_view text, int max_in_flight) {
  auto decoded = wsf::decode(text);
  if (auto* p = std::get_if<wsf::Problem>(&decoded)) {
    co_await s.conn.send(wsf::error(*p));
    co_return;
  }
  auto& in = std::get<wsf::Inbound>(decoded);
  switch (in.type) {
    case wsf::Inbound::Type::kPing: co_await s.conn.send(wsf::pong()); co_return;
    case wsf::Inbound::Type::kAuth: co_await on_auth(s, in); co_return;
    case wsf::Inbound::Type::kCancel: {
      auto it = s.running.find(in.request_id);
      if (it == s.running.end()) {
        co_await send_error(s, "bad_request", "No request '" + in.request_id + "' is running", in.request_id);
        co_return;
      }
      it->second->client_gone();  // stops the upstream call at once
      co_return;
    }
    case wsf::Inbound::Type::kUnknown:
      co_await send_error(s, "unknown_type", "Unknown message type '" + in.type_name + "'", in.request_id);
      co_return;
    case wsf::Inbound::Type::kChat: break;
  }
  if (!s.key) {
    co_await send_error(s, "auth_required", "Send {\"type\":\"auth\",\"apiKey\":...} first", in.request_id);
    co_return;
  }
  if (in.request_id.empty()) in.request_id = "ws_" + std::to_string(s.next_id + 1);
  if (s.running.contains(in.request_id)) {
    co_await send_error(s, "bad_request", "Request '" + in.request_id + "' is already running", in.request_id);
    co_return;
  }
  if (static_cast<int>(s.running.size()) >= max_in_flight) {
    co_await send_error(s, "too_many_in_flight",
                        "At most " + std::to_string(max_in_flight) + " requests may run at once on a socket",
                        in.request_id);
    co_return;
  }
  boost::asio::co_spawn(s.conn.executor(), run_chat(s, std::move(in)), boost::asio::detached);
}

boost::asio::awaitable<void> serve(pipeline::Gateway& gw, server::Exchange& ex) {
  if (!boost::beast::websocket::is_upgrade(ex.request())) {
    co_await ex.reply(upgrade_required());
    co_return;
  }
  auto& socket = ex.upgrade();
  ws::Connection conn(socket, ws_options(gw.config), ex.draining());
  const bool accepted = co_await conn.accept(ex.request());
  if (!accepted) co_return;
  Socket s(gw, ex, conn);
  const int max_in_flight = gw.config.ws_max_in_flight;
  auto handle = [&s, max_in_flight](std::string_view text, bool) { return on_message(s, text, max_in_flight); };
  co_await conn.run(handle);
  // The socket is closed: stop what still runs and wait for it (it refers to this frame).
  for (auto& [id, capture] : s.running) capture->client_gone();
  while (!s.running.empty()) co_await s.idle.async_wait(kTuple);
}

}  // namespace

ws::Options ws_options(const config::Config& c) {
  ws::Options o;
  o.max_message_bytes = static_cast<std::size_t>(c.ws_max_message_bytes);
  o.ping_interval_ms = c.ws_ping_interval_ms;
  o.idle_timeout_ms = c.ws_idle_timeout_ms;
  o.write_timeout_ms = c.client_write_timeout_ms;
  o.send_budget_bytes = static_cast<std::size_t>(c.ws_send_buffer_bytes);
  return o;
}

std::vector<ApiRoute> ws_routes(pipeline::Gateway& gw) {
  auto* g = &gw;
  return {{server::http::verb::get, "/ws",
           "WebSocket: auth, ping, chat.completions (streamed as chat.delta), chat.cancel (docs/WEBSOCKET.md)",
           Access::kPublic, [g](server::Exchange& ex) { return serve(*g, ex); }}};
}

}  // namespace anygpt::routes
