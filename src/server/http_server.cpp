#include "server/http_server.hpp"

#include <boost/asio/as_tuple.hpp>
#include <boost/asio/co_spawn.hpp>
#include <boost/asio/detached.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/asio/post.hpp>
#include <boost/asio/socket_base.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/asio/this_coro.hpp>
#include <boost/asio/use_awaitable.hpp>
#include <boost/asio/write.hpp>
#include <boost/beast/core/flat_buffer.hpp>
#include <boost/beast/core/string.hpp>
#include <boost/beast/http/buffer_body.hpp>
#include <boost/beast/http/error.hpp>
#include <boost/beast/http/parser.hpp>
#include <boost/beast/http/read.hpp>
#include <boost/beast/http/status.hpp>
#include <optional>
#include <random>
#include <thread>

#include "core/json_text.hpp"
#include "core/log.hpp"
#include "core/watchdog.hpp"

namespace anygpt::server {
namespace {
using tcp = asio::ip::tcp;
constexpr auto kTuple = asio::as_tuple(asio::use_awaitable);

std::string new_request_id() {
  thread_local std::mt19937_64 rng{std::random_device{}()};
  static const char* digits = "0123456789abcdef";
  std::uint64_t v = rng();
  std::string id = "req_";  // 15 characters: fits the small-string buffer, no allocation
  for (int i = 0; i < 11; ++i, v >>= 4) id += digits[v & 0xf];
  return id;
}

// A client's x-request-id is reused when it is short and printable (it ends up in logs).
bool acceptable_request_id(std::string_view id) {
  if (id.empty() || id.size() > 128) return false;
  for (char c : id)
    if (c < 0x21 || c > 0x7e) return false;
  return true;
}

std::string_view path_of(std::string_view target) {
  auto q = target.find('?');
  auto p = target.substr(0, q);
  if (p.size() > 1 && p.back() == '/') p.remove_suffix(1);
  return p;
}
}  // namespace

struct HttpServer::Worker {
  // Each socket is used by its own thread only: no reactor locking (posts still lock).
  asio::io_context ioc{BOOST_ASIO_CONCURRENCY_HINT_UNSAFE_IO};
  tcp::acceptor acceptor{ioc};
  std::thread thread;
};

namespace {
// The whole HTTP answer sent to a connection refused at accept (its request was not read).
std::string refusal_answer(const ErrorRenderer& render, core::Error error) {
  Response r = render(error, "");
  std::string out = "HTTP/1.1 " + std::to_string(r.status) + " ";
  auto reason = http::obsolete_reason(static_cast<http::status>(r.status));
  out.append(reason.data(), reason.size());
  out += "\r\nContent-Type: " + r.content_type + "\r\nContent-Length: " + std::to_string(r.body.size()) +
         "\r\nRetry-After: 1\r\nConnection: close\r\n\r\n" + r.body;
  return out;
}
}  // namespace

HttpServer::HttpServer(ServerOptions options, ErrorRenderer render_error) : shared_(std::make_shared<SessionShared>()) {
  shared_->options = std::move(options);
  shared_->render_error = std::move(render_error);
  const auto& opt = shared_->options;
  shared_->gate = std::make_unique<ConnectionGate>(opt.max_connections, opt.max_unauthenticated_per_ip);
  shared_->refusal_total = refusal_answer(
      shared_->render_error, core::make_error(core::ErrorKind::kUpstreamUnavailable,
                                              "The server is at its limit of " + std::to_string(opt.max_connections) +
                                                  " connections (MAX_CONNECTIONS); retry shortly",
                                              {}, "too_many_connections"));
  shared_->refusal_per_ip = refusal_answer(
      shared_->render_error,
      core::make_error(core::ErrorKind::kRateLimited,
                       "Too many connections from your address that have not yet authenticated a request (limit " +
                           std::to_string(opt.max_unauthenticated_per_ip) + ")",
                       {}, "too_many_connections_from_address"));
}

ConnectionStats HttpServer::connection_stats() const {
  return ConnectionStats{shared_->gate->open(), shared_->refused_total.load(std::memory_order_relaxed),
                         shared_->refused_per_ip.load(std::memory_order_relaxed),
                         shared_->timed_out.load(std::memory_order_relaxed)};
}

HttpServer::~HttpServer() {
  stop();
}

void HttpServer::add_route(Route route) {
  auto open = route.path.find('{');
  auto close = route.path.find('}', open);
  if (open == std::string::npos || close == std::string::npos) {
    shared_->routes[route.path].push_back(MethodHandler{route.method, std::move(route.handler), route.streams_body});
    return;
  }
  std::string prefix = route.path.substr(0, open);
  std::string suffix = route.path.substr(close + 1);
  auto& patterns = shared_->patterns;
  auto it = std::find_if(patterns.begin(), patterns.end(),
                         [&](const PatternRoute& p) { return p.prefix == prefix && p.suffix == suffix; });
  if (it == patterns.end()) {
    patterns.push_back(PatternRoute{std::move(prefix), std::move(suffix), {}});
    it = std::prev(patterns.end());
  }
  it->handlers.push_back(MethodHandler{route.method, std::move(route.handler), route.streams_body});
  std::stable_sort(patterns.begin(), patterns.end(), [](const PatternRoute& a, const PatternRoute& b) {
    return a.prefix.size() + a.suffix.size() > b.prefix.size() + b.suffix.size();
  });
}

namespace {

int hex_value(char c) {
  if (c >= '0' && c <= '9') return c - '0';
  if (c >= 'a' && c <= 'f') return c - 'a' + 10;
  if (c >= 'A' && c <= 'F') return c - 'A' + 10;
  return -1;
}

std::string percent_decode(std::string_view s) {
  std::string out;
  out.reserve(s.size());
  for (std::size_t i = 0; i < s.size(); ++i) {
    int hi = 0;
    int lo = 0;
    if (s[i] == '%' && i + 2 < s.size() && (hi = hex_value(s[i + 1])) >= 0 && (lo = hex_value(s[i + 2])) >= 0) {
      out += static_cast<char>(hi * 16 + lo);
      i += 2;
    } else {
      out += s[i];
    }
  }
  return out;
}

// The handlers for `path` (exact, else the longest matching pattern, whose placeholder text goes
// to `param`), or nullptr.
const Handlers* find_route(const SessionShared& shared, std::string_view path, std::string& param) {
  if (auto it = shared.routes.find(path); it != shared.routes.end()) return &it->second;
  for (const auto& p : shared.patterns) {
    if (path.size() <= p.prefix.size() + p.suffix.size()) continue;
    if (path.substr(0, p.prefix.size()) != p.prefix || path.substr(path.size() - p.suffix.size()) != p.suffix) continue;
    param = percent_decode(path.substr(p.prefix.size(), path.size() - p.prefix.size() - p.suffix.size()));
    return &p.handlers;
  }
  return nullptr;
}

// The handler serving `method` (HEAD served by GET), or nullptr.
const MethodHandler* find_method(const Handlers* handlers, http::verb method) {
  if (!handlers) return nullptr;
  for (const auto& h : *handlers)
    if (h.method == method || (method == http::verb::head && h.method == http::verb::get)) return &h;
  return nullptr;
}

// Runs the route's handler for the exchange (`handlers` as find_route gave them).
asio::awaitable<void> dispatch(Exchange& ex, SessionShared& shared, const Handlers* handlers) {
  const auto& req = ex.request();
  auto path = path_of(std::string_view(req.target().data(), req.target().size()));
  if (!handlers) {
    co_await ex.reply(shared.render_error(
        core::make_error(core::ErrorKind::kNotFound,
                         "Unknown route: " + std::string(req.method_string()) + " " + std::string(path), {},
                         "not_found"),
        path));
    co_return;
  }
  if (const auto* h = find_method(handlers, req.method())) {
    bool threw = false;
    try {
      co_await h->handler(ex);
    } catch (const std::exception& e) {
      core::log(core::LogLevel::kError, std::string("handler threw: ") + e.what());
      threw = true;
    }
    if (threw && !ex.answered())
      co_await ex.reply(shared.render_error(core::make_error(core::ErrorKind::kInternal, "internal error"), path));
    if (!ex.answered() && !ex.aborted())
      co_await ex.reply(
          shared.render_error(core::make_error(core::ErrorKind::kInternal, "handler gave no answer"), path));
    co_return;
  }
  std::string allow;
  for (const auto& h : *handlers) {
    if (!allow.empty()) allow += ", ";
    allow += std::string(http::to_string(h.method));
  }
  allow += ", OPTIONS";
  if (req.method() == http::verb::options) {
    const auto& cors = shared.options.cors;
    Response r{204,
               "",
               "",
               {{"Allow", allow},
                {"Access-Control-Allow-Methods", cors.methods},
                {"Access-Control-Allow-Headers", cors.headers},
                {"Access-Control-Max-Age", "86400"}}};
    co_await ex.reply(std::move(r));
    co_return;
  }
  auto r = shared.render_error(core::make_error(core::ErrorKind::kMethodNotAllowed,
                                                "Method " + std::string(req.method_string()) + " is not allowed on " +
                                                    std::string(path) + "; allowed: " + allow,
                                                {}, "method_not_allowed"),
                               path);
  r.headers.emplace_back("Allow", allow);
  co_await ex.reply(std::move(r));
}

// One JSON line per request at info level (formatted here, written by the logger's thread).
// The query string is left out: clients put keys there.
void log_access(const Exchange& ex, core::SteadyClock::time_point started) {
  const auto& req = ex.request();
  auto us = std::chrono::duration_cast<std::chrono::microseconds>(core::SteadyClock::now() - started).count();
  std::string fields = "\"request_id\":";
  core::append_json_string(fields, ex.request_id());
  fields += ",\"method\":";
  core::append_json_string(fields, std::string_view(req.method_string().data(), req.method_string().size()));
  fields += ",\"path\":";
  core::append_json_string(fields, path_of(std::string_view(req.target().data(), req.target().size())));
  fields += ",\"status\":" + std::to_string(ex.status()) + ",\"ms\":" + std::to_string(us / 1000) + "." +
            std::to_string(us % 1000 / 100);
  if (ex.client_gone()) fields += ",\"client_gone\":true";
  core::log(core::LogLevel::kInfo, "request", fields);
}

// Answers a request the parser rejected, then the connection closes.
// `path`: the request's path when its head was read (else empty), for the error's shape.
asio::awaitable<void> reply_parse_error(tcp::socket& socket, SessionShared& shared, beast::error_code ec,
                                        std::string path) {
  core::Error err = ec == http::error::body_limit
                        ? core::make_error(core::ErrorKind::kPayloadTooLarge,
                                           "Request body exceeds the limit of " +
                                               std::to_string(shared.options.max_body_bytes) + " bytes",
                                           {}, "payload_too_large")
                        : core::make_error(core::ErrorKind::kInvalidRequest, "Malformed HTTP request: " + ec.message(),
                                           {}, "bad_request");
  RequestHead dummy;
  std::string scratch;
  Exchange ex(socket, dummy, false, nullptr, new_request_id(), shared, scratch);
  co_await ex.reply(shared.render_error(err, path));
}

// What a session is waiting for while its IdleWatch is armed.
enum class Wait {
  kIdle,       // the next request on a kept-alive connection: a drain ends it, its deadline is quiet
  kFirstHead,  // a new connection's first head: a drain ends it, its deadline is a slow client's
  kRead,       // the rest of a request on its way: only its deadline (a slow client's) ends it
};

// Armed while a session waits for or reads a request: cancels the read when its deadline
// passes or (as `Wait` says) when the server drains.
class IdleWatch : public core::Watch {
 public:
  IdleWatch(tcp::socket& socket, SessionShared& shared) : socket_(socket), shared_(shared) {}
  void arm(core::SteadyClock::time_point deadline, Wait wait) {
    deadline_ = deadline;
    wait_ = wait;
    core::Watchdog::for_this_thread().arm(*this);
  }
  // Moves the deadline of the armed read.
  void extend(core::SteadyClock::duration by) { deadline_ += by; }

 protected:
  void on_tick(core::SteadyClock::time_point now) override {
    const bool drained = wait_ != Wait::kRead && shared_.draining.load(std::memory_order_relaxed);
    if (now < deadline_ && !drained) return;
    if (!drained && wait_ != Wait::kIdle) shared_.timed_out.fetch_add(1, std::memory_order_relaxed);
    disarm();
    beast::error_code ec;
    socket_.cancel(ec);
  }

 private:
  tcp::socket& socket_;
  SessionShared& shared_;
  core::SteadyClock::time_point deadline_{};
  Wait wait_ = Wait::kIdle;
};

std::chrono::milliseconds ms(std::int64_t v) {
  return std::chrono::milliseconds(v);
}

// How much more time `bytes` of body earn at the server's minimum body rate.
core::SteadyClock::duration earned(const ServerOptions& opt, std::size_t bytes) {
  if (opt.body_min_rate <= 0) return {};
  return std::chrono::microseconds(static_cast<std::int64_t>(bytes) * 1000000 / opt.body_min_rate);
}

// The body of a streams_body route, read piece by piece into a fixed buffer as the handler asks.
class StreamedBody final : public BodyReader {
 public:
  using Parser = http::request_parser<http::buffer_body>;
  StreamedBody(tcp::socket& socket, beast::flat_buffer& buffer, Parser& parser, IdleWatch& idle,
               const ServerOptions& options)
      : socket_(socket),
        buffer_(buffer),
        parser_(parser),
        idle_(idle),
        options_(options),
        deadline_(core::SteadyClock::now() + ms(options.body_timeout_ms)) {}

  asio::awaitable<core::Result<std::string_view>> next() override {
    for (;;) {
      if (parser_.is_done()) co_return std::string_view{};
      auto& body = parser_.get().body();
      body.data = piece_.data();
      body.size = piece_.size();
      idle_.arm(deadline_, Wait::kRead);
      auto [ec, n] = co_await http::async_read_some(socket_, buffer_, parser_, kTuple);
      idle_.disarm();
      if (ec == http::error::need_buffer) ec = {};
      const std::size_t got = piece_.size() - parser_.get().body().size;
      deadline_ += earned(options_, n);
      if (ec == http::error::body_limit)
        co_return core::make_error(
            core::ErrorKind::kPayloadTooLarge,
            "Request body exceeds the limit of " + std::to_string(options_.max_body_bytes) + " bytes", {},
            "payload_too_large");
      if (ec)
        co_return core::make_error(core::ErrorKind::kInvalidRequest,
                                   "The request body did not arrive whole: " + ec.message(), {}, "incomplete_body");
      if (got > 0) co_return std::string_view(piece_.data(), got);
    }
  }
  bool done() const override { return parser_.is_done(); }

 private:
  tcp::socket& socket_;
  beast::flat_buffer& buffer_;
  Parser& parser_;
  IdleWatch& idle_;
  const ServerOptions& options_;
  core::SteadyClock::time_point deadline_;  // CLIENT_BODY_TIMEOUT_MS, extended as bytes arrive
  std::array<char, 64 * 1024> piece_;
};

// After answering a request whose body was left unread (and sending FIN): reads and drops what
// the client is still sending, for a bounded time, so that closing with unread data does not
// reset the connection before the client has read the answer (a "lingering close").
asio::awaitable<void> drain_unread(tcp::socket& socket, IdleWatch& idle) {
  constexpr auto kLinger = std::chrono::seconds(2);
  std::array<char, 16 * 1024> sink;
  idle.arm(core::SteadyClock::now() + kLinger, Wait::kIdle);
  for (;;) {
    auto [ec, n] = co_await socket.async_read_some(asio::buffer(sink), kTuple);
    if (ec) break;
  }
  idle.disarm();
}

// Reads the rest of a request's body into `parser` under the body deadline: body_timeout_ms
// from now, extended by each byte received at body_min_rate (a slow drip runs out of time, a
// large upload at a decent rate does not).
asio::awaitable<beast::error_code> read_body(tcp::socket& socket, beast::flat_buffer& buffer,
                                             http::request_parser<http::string_body>& parser, IdleWatch& watch,
                                             const ServerOptions& opt) {
  watch.arm(core::SteadyClock::now() + ms(opt.body_timeout_ms), Wait::kRead);
  beast::error_code ec;
  while (!ec && !parser.is_done()) {
    auto [e, n] = co_await http::async_read_some(socket, buffer, parser, kTuple);
    ec = e;
    watch.extend(earned(opt, n));
  }
  watch.disarm();
  co_return ec;
}

asio::awaitable<void> session(tcp::socket socket, std::shared_ptr<SessionShared> shared, ConnectionTicket ticket) {
  beast::flat_buffer buffer;
  buffer.reserve(16 * 1024);
  const auto& opt = shared->options;
  IdleWatch idle(socket, *shared);
  bool unread_body = false;  // the last request was answered before its body was read
  bool first = true;         // the connection's first request: its head deadline counts from accept
  std::string scratch;       // response heads, reused by every request of the connection
  scratch.reserve(512);
  for (;; first = false) {
    if (shared->draining.load()) break;
    if (!first && buffer.size() == 0) {
      // Kept alive: wait for the next request's first bytes (a quiet client may take its time).
      idle.arm(core::SteadyClock::now() + ms(opt.keep_alive_idle_ms), Wait::kIdle);
      auto [ec, n] = co_await socket.async_read_some(buffer.prepare(16 * 1024), kTuple);
      idle.disarm();
      if (ec) break;
      buffer.commit(n);
    }
    http::request_parser<http::string_body> parser;
    parser.header_limit(64 * 1024);
    parser.body_limit(static_cast<std::uint64_t>(opt.max_body_bytes));
    // A drain cuts a new connection's first head, not a later request on its way.
    idle.arm(core::SteadyClock::now() + ms(opt.header_timeout_ms), first ? Wait::kFirstHead : Wait::kRead);
    auto [ec, n] = co_await http::async_read_header(socket, buffer, parser, kTuple);
    idle.disarm();
    std::string path_param;
    const Handlers* handlers = nullptr;
    std::optional<StreamedBody::Parser> streamed;  // the parser, converted, for a streams_body route
    if (!ec) {
      const auto& target = parser.get().target();
      handlers = find_route(*shared, path_of(std::string_view(target.data(), target.size())), path_param);
    }
    if (!ec && !parser.is_done()) {
      // curl and others wait (1 s) for this before sending a large body.
      if (beast::iequals(parser.get()[http::field::expect], "100-continue")) {
        static constexpr std::string_view kContinue = "HTTP/1.1 100 Continue\r\n\r\n";
        std::tie(ec, n) = co_await asio::async_write(socket, asio::buffer(kContinue), kTuple);
      }
      const auto* h = find_method(handlers, parser.get().method());
      if (!ec && h && h->streams_body)
        streamed.emplace(std::move(parser));
      else if (!ec)
        ec = co_await read_body(socket, buffer, parser, idle, opt);
    }
    if (ec) {
      if (ec.category() == http::make_error_code(http::error::body_limit).category() &&
          ec != http::error::end_of_stream && ec != http::error::partial_message) {
        std::string path(path_of(std::string_view(parser.get().target().data(), parser.get().target().size())));
        co_await reply_parse_error(socket, *shared, ec, std::move(path));
        unread_body = ec == http::error::body_limit;
      }
      break;
    }
    // (On the heap, for these routes only: an optional of its 64 KB buffer in the coroutine frame
    // is zeroed on every request.)
    std::unique_ptr<StreamedBody> body_reader;
    if (streamed) body_reader = std::make_unique<StreamedBody>(socket, buffer, *streamed, idle, opt);
    const RequestHead& req = streamed ? static_cast<const RequestHead&>(streamed->get()) : parser.get();
    const bool keep_alive = streamed ? streamed->get().keep_alive() : parser.get().keep_alive();
    auto rid = std::string_view(req["x-request-id"].data(), req["x-request-id"].size());
    shared->in_flight.fetch_add(1);
    Exchange ex(socket, req, keep_alive, streamed ? nullptr : &parser.get().body(),
                acceptable_request_id(rid) ? std::string(rid) : new_request_id(), *shared, scratch, body_reader.get());
    ex.set_path_param(std::move(path_param));
    ex.set_ticket(&ticket);
    const auto started = core::SteadyClock::now();
    co_await dispatch(ex, *shared, handlers);
    shared->in_flight.fetch_sub(1);
    if (opt.access_log && core::log_enabled(core::LogLevel::kInfo)) log_access(ex, started);
    unread_body = body_reader && !body_reader->done();
    if (!ex.keep_alive()) break;
  }
  beast::error_code ignored;
  socket.shutdown(tcp::socket::shutdown_send, ignored);
  if (unread_body) co_await drain_unread(socket, idle);
  socket.close(ignored);
}

// Turns away a connection over a cap, cheaply: one non-blocking send of the prepared answer
// (and a read of what already arrived, so the close is less likely to reset it), then close.
void refuse(tcp::socket& socket, const std::string& answer) {
  const int fd = socket.native_handle();
  [[maybe_unused]] auto sent = ::send(fd, answer.data(), answer.size(), MSG_DONTWAIT | MSG_NOSIGNAL);
  std::array<char, 4096> sink;
  [[maybe_unused]] auto got = ::recv(fd, sink.data(), sink.size(), MSG_DONTWAIT);
  beast::error_code ignored;
  socket.shutdown(tcp::socket::shutdown_both, ignored);
  socket.close(ignored);
}

asio::awaitable<void> accept_loop(tcp::acceptor& acceptor, std::shared_ptr<SessionShared> shared) {
  for (;;) {
    auto [ec, socket] = co_await acceptor.async_accept(kTuple);
    if (ec) {
      if (ec == asio::error::operation_aborted || !acceptor.is_open()) co_return;
      continue;  // e.g. EMFILE: keep accepting
    }
    auto peer = socket.remote_endpoint(ec);
    if (ec) continue;  // already gone
    ConnectionTicket ticket;
    switch (shared->gate->admit(peer.address(), ticket)) {
      case ConnectionGate::Verdict::kAdmitted: break;
      case ConnectionGate::Verdict::kTooManyConnections:
        shared->refused_total.fetch_add(1, std::memory_order_relaxed);
        refuse(socket, shared->refusal_total);
        continue;
      case ConnectionGate::Verdict::kTooManyFromAddress:
        shared->refused_per_ip.fetch_add(1, std::memory_order_relaxed);
        refuse(socket, shared->refusal_per_ip);
        continue;
    }
    socket.set_option(tcp::no_delay(true), ec);
    asio::co_spawn(acceptor.get_executor(), session(std::move(socket), shared, std::move(ticket)), asio::detached);
  }
}

// Drives this thread's watchdog (timeouts, idle connections, client probes).
asio::awaitable<void> tick_loop() {
  asio::steady_timer timer(co_await asio::this_coro::executor);
  for (;;) {
    timer.expires_after(core::kWatchdogTick);
    auto [ec] = co_await timer.async_wait(kTuple);
    if (ec) co_return;
    core::Watchdog::for_this_thread().tick(core::SteadyClock::now());
  }
}

}  // namespace

std::uint16_t HttpServer::start(std::function<void(asio::io_context&)> on_thread_start) {
  const auto& opt = shared_->options;
  auto address = asio::ip::make_address(opt.host);
  std::uint16_t port = opt.port;
  for (int i = 0; i < std::max(1, opt.threads); ++i) {
    auto w = std::make_unique<Worker>();
    tcp::endpoint ep(address, port);
    w->acceptor.open(ep.protocol());
    w->acceptor.set_option(asio::socket_base::reuse_address(true));
    int one = 1;
    ::setsockopt(w->acceptor.native_handle(), SOL_SOCKET, SO_REUSEPORT, &one, sizeof one);
    w->acceptor.bind(ep);
    w->acceptor.listen(asio::socket_base::max_listen_connections);
    port = w->acceptor.local_endpoint().port();
    workers_.push_back(std::move(w));
  }
  for (auto& w : workers_) {
    asio::co_spawn(w->ioc, accept_loop(w->acceptor, shared_), asio::detached);
    asio::co_spawn(w->ioc, tick_loop(), asio::detached);
    Worker* wp = w.get();
    w->thread = std::thread([wp, on_thread_start] {
      if (on_thread_start) on_thread_start(wp->ioc);
      wp->ioc.run();
    });
  }
  return port;
}

void HttpServer::drain() {
  shared_->draining.store(true);
  for (auto& w : workers_) {
    Worker* wp = w.get();
    asio::post(wp->ioc, [wp] {
      beast::error_code ec;
      wp->acceptor.close(ec);  // idle sessions notice the drain at their next watchdog tick
    });
  }
}

void HttpServer::stop() {
  for (auto& w : workers_) w->ioc.stop();
  for (auto& w : workers_)
    if (w->thread.joinable()) w->thread.join();
}

}  // namespace anygpt::server
