#include "upstream/client.hpp"

#include <sys/socket.h>

#include <array>
#include <boost/asio/as_tuple.hpp>
#include <boost/asio/connect.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <boost/asio/ssl/host_name_verification.hpp>
#include <boost/asio/ssl/stream.hpp>
#include <boost/asio/use_awaitable.hpp>
#include <boost/asio/write.hpp>
#include <boost/beast/core/flat_buffer.hpp>
#include <boost/beast/http/buffer_body.hpp>
#include <boost/beast/http/parser.hpp>
#include <boost/beast/http/read.hpp>
#include <boost/url/parse.hpp>
#include <cerrno>
#include <optional>
#include <unordered_map>
#include <vector>

#include "core/watchdog.hpp"

namespace anygpt::upstream {
namespace beast = boost::beast;
namespace http = beast::http;
using tcp = asio::ip::tcp;
using core::ErrorKind;
using core::make_error;
using Clock = std::chrono::steady_clock;

namespace {
constexpr auto kTuple = asio::as_tuple(asio::use_awaitable);
constexpr std::size_t kChunk = 16 * 1024;

core::Error transport_error(ErrorKind kind, const std::string& what, const beast::error_code& ec) {
  auto e = make_error(kind, what + ": " + ec.message());
  e.code = ec == beast::error::timeout ? "upstream_timeout" : "upstream_connection_error";
  return e;
}

}  // namespace

core::Result<Endpoint> parse_endpoint(std::string_view url) {
  auto r = boost::urls::parse_uri(url);
  if (!r) return make_error(ErrorKind::kInvalidRequest, "invalid upstream URL: " + r.error().message());
  Endpoint ep;
  auto scheme = r->scheme();
  if (scheme == "https")
    ep.tls = true;
  else if (scheme != "http")
    return make_error(ErrorKind::kInvalidRequest, "upstream URL scheme must be http or https");
  ep.host = std::string(r->encoded_host());
  if (ep.host.size() > 2 && ep.host.front() == '[') ep.host = ep.host.substr(1, ep.host.size() - 2);
  if (ep.host.empty()) return make_error(ErrorKind::kInvalidRequest, "upstream URL has no host");
  ep.port = r->has_port() ? std::string(r->port()) : (ep.tls ? "443" : "80");
  ep.target = std::string(r->encoded_path());
  if (ep.target.empty()) ep.target = "/";
  if (r->has_query()) ep.target += "?" + std::string(r->encoded_query());
  ep.host_header = std::string(r->encoded_host());
  if (r->has_port()) ep.host_header += ":" + ep.port;
  ep.pool_key = std::string(scheme) + "://" + ep.host + ":" + ep.port;
  return ep;
}

// A connection to one upstream host, plain or TLS, with its read buffer, response parser and
// the deadline of its current operation (enforced by the thread's watchdog: no timer per op).
class Connection {
 public:
  Connection() : timeout(*this) {}

  std::string pool_key;
  std::optional<tcp::socket> plain;
  std::optional<asio::ssl::stream<tcp::socket>> tls;
  beast::flat_buffer buffer;
  std::optional<http::response_parser<http::buffer_body>> parser;
  std::array<char, kChunk> chunk;
  std::string head;  // request head of the current call, reused across calls

  tcp::socket& socket() { return tls ? tls->next_layer() : *plain; }

  void arm(Clock::time_point deadline) { timeout.arm(core::Watchdog::for_this_thread(), deadline); }
  void disarm() { timeout.disarm(); }
  bool timed_out() const { return timeout.fired(); }

  Clock::time_point idle_since{};

  // True while the idle connection is still open with nothing unexpected to read. A connection
  // idle for less than a second is trusted without the syscall (a stale one is retried anyway).
  bool still_usable(Clock::time_point now) {
    if (now - idle_since < std::chrono::seconds(1)) return true;
    char c;
    ssize_t n = ::recv(socket().native_handle(), &c, 1, MSG_PEEK | MSG_DONTWAIT);
    return n < 0 && (errno == EAGAIN || errno == EWOULDBLOCK);
  }

  void cancel_io() {
    beast::error_code ec;
    socket().cancel(ec);
  }

 private:
  class Timeout : public core::DeadlineWatch {
   public:
    explicit Timeout(Connection& c) : conn_(c) {}

   protected:
    void on_deadline() override { conn_.cancel_io(); }

   private:
    Connection& conn_;
  };
  Timeout timeout;
};

void Abort::trigger() {
  triggered_ = true;
  if (conn_) conn_->cancel_io();
}

namespace {
// Maps an I/O failure, telling our own deadline and the caller's abort apart from the network.
core::Error io_failure(Connection& conn, Abort* abort, const std::string& phase, const beast::error_code& ec) {
  if (conn.timed_out())
    return transport_error(ErrorKind::kUpstreamTimeout, "upstream timed out " + phase, beast::error::timeout);
  if (abort && abort->triggered())
    return make_error(ErrorKind::kUpstreamError, "upstream call cancelled", {}, "cancelled");
  return transport_error(ErrorKind::kUpstreamError, "upstream connection failed " + phase, ec);
}
}  // namespace

struct Client::Impl {
  asio::io_context& ioc;
  std::shared_ptr<asio::ssl::context> tls;
  tcp::resolver resolver;
  struct Resolved {
    tcp::resolver::results_type results;
    Clock::time_point expires;
  };
  std::unordered_map<std::string, Resolved> dns;
  std::unordered_map<std::string, std::vector<std::unique_ptr<Connection>>> idle;
  explicit Impl(asio::io_context& c, std::shared_ptr<asio::ssl::context> t) : ioc(c), tls(std::move(t)), resolver(c) {}
};

Client::Client(asio::io_context& ioc, std::shared_ptr<asio::ssl::context> tls, ClientOptions options)
    : impl_(std::make_unique<Impl>(ioc, std::move(tls))), options_(options) {}

Client::~Client() = default;

std::shared_ptr<asio::ssl::context> make_tls_context() {
  auto ctx = std::make_shared<asio::ssl::context>(asio::ssl::context::tls_client);
  ctx->set_default_verify_paths();
  ctx->set_verify_mode(asio::ssl::verify_peer);
  ctx->set_options(asio::ssl::context::no_sslv2 | asio::ssl::context::no_sslv3 | asio::ssl::context::no_tlsv1 |
                   asio::ssl::context::no_tlsv1_1);
  return ctx;
}

asio::awaitable<core::Result<std::unique_ptr<Connection>>> Client::acquire(const Endpoint& ep, Abort* abort,
                                                                           bool& reused) {
  auto& pool = impl_->idle[ep.pool_key];
  const auto checked_at = Clock::now();
  while (!pool.empty()) {
    auto conn = std::move(pool.back());
    pool.pop_back();
    if (conn->still_usable(checked_at)) {
      reused = true;
      co_return std::move(conn);
    }
  }
  reused = false;
  std::string dns_key = ep.host + ":" + ep.port;
  auto now = Clock::now();
  auto it = impl_->dns.find(dns_key);
  if (it == impl_->dns.end() || it->second.expires < now) {
    auto [ec, results] = co_await impl_->resolver.async_resolve(ep.host, ep.port, kTuple);
    if (ec) {
      auto e = transport_error(ErrorKind::kUpstreamUnavailable, "cannot resolve upstream host " + ep.host, ec);
      co_return e;
    }
    auto& entry = impl_->dns[dns_key];
    entry.results = std::move(results);
    entry.expires = now + std::chrono::seconds(60);
    it = impl_->dns.find(dns_key);
  }
  auto conn = std::make_unique<Connection>();
  conn->pool_key = ep.pool_key;
  // Large enough for a whole typical answer in one read (Beast reads at most the free capacity;
  // a short read also tells Asio the socket is drained, which spares the next EAGAIN read).
  conn->buffer.reserve(kChunk);
  if (ep.tls)
    conn->tls.emplace(impl_->ioc, *impl_->tls);
  else
    conn->plain.emplace(impl_->ioc);
  if (abort) abort->conn_ = conn.get();
  conn->arm(now + options_.timeouts.connect);
  auto [ec, endpoint] = co_await asio::async_connect(conn->socket(), it->second.results, kTuple);
  if (ec) {
    conn->disarm();
    if (abort) abort->conn_ = nullptr;
    impl_->dns.erase(dns_key);
    if (conn->timed_out() || (abort && abort->triggered())) co_return io_failure(*conn, abort, "while connecting", ec);
    co_return transport_error(ErrorKind::kUpstreamUnavailable, "cannot connect to upstream " + ep.host + ":" + ep.port,
                              ec);
  }
  conn->socket().set_option(tcp::no_delay(true));
  if (ep.tls) {
    if (!SSL_set_tlsext_host_name(conn->tls->native_handle(), ep.host.c_str()))
      co_return make_error(ErrorKind::kUpstreamUnavailable, "TLS: cannot set SNI for " + ep.host);
    conn->tls->set_verify_callback(asio::ssl::host_name_verification(ep.host));
    auto [hec] = co_await conn->tls->async_handshake(asio::ssl::stream_base::client, kTuple);
    if (hec) {
      conn->disarm();
      if (abort) abort->conn_ = nullptr;
      if (conn->timed_out() || (abort && abort->triggered()))
        co_return io_failure(*conn, abort, "during the TLS handshake", hec);
      co_return transport_error(ErrorKind::kUpstreamUnavailable, "TLS handshake with upstream " + ep.host + " failed",
                                hec);
    }
  }
  conn->disarm();
  co_return std::move(conn);
}

void Client::release(std::unique_ptr<Connection> conn) {
  conn->parser.reset();
  conn->disarm();
  conn->idle_since = Clock::now();
  auto& pool = impl_->idle[conn->pool_key];
  if (pool.size() < options_.max_idle_per_host) pool.push_back(std::move(conn));
}

namespace {
// Writes a BodySource's bytes after the head. A source that fails (e.g. its file could not be
// read) ends the call with `source_error` set.
template <class S>
asio::awaitable<beast::error_code> write_source(S& stream, BodySource& source,
                                                std::optional<core::Error>& source_error) {
  for (std::uint64_t at = 0; at < source.size();) {
    auto piece = co_await source.read(at);
    if (!piece || piece->empty()) {
      source_error = piece ? make_error(ErrorKind::kInternal, "upload body ended early") : piece.error();
      co_return asio::error::operation_aborted;
    }
    auto [ec, n] = co_await asio::async_write(stream, asio::buffer(piece->data(), piece->size()), kTuple);
    if (ec) co_return ec;
    at += piece->size();
  }
  co_return beast::error_code{};
}

template <class S>
asio::awaitable<beast::error_code> write_and_read_head(S& stream, Connection& conn, const std::string& head,
                                                       const Request& request,
                                                       std::optional<core::Error>& source_error) {
  std::array<asio::const_buffer, 2> bufs{asio::buffer(head), asio::buffer(request.body.data(), request.body.size())};
  if (request.body_source) bufs[1] = asio::const_buffer{};
  auto [wec, wn] = co_await asio::async_write(stream, bufs, kTuple);
  if (wec) co_return wec;
  if (request.body_source) {
    auto sec = co_await write_source(stream, *request.body_source, source_error);
    if (sec) co_return sec;
  }
  auto [rec, rn] = co_await http::async_read_header(stream, conn.buffer, *conn.parser, kTuple);
  co_return rec;
}

// Starts reading the next piece of body into conn.chunk. Not a coroutine: it returns Beast's
// awaitable directly, sparing a coroutine frame per read (one read per streamed event).
// need_buffer (the chunk is full) is not an error; the size read is chunk_bytes_read().
asio::awaitable<std::tuple<beast::error_code, std::size_t>> start_body_read(Connection& conn) {
  auto& body = conn.parser->get().body();
  body.data = conn.chunk.data();
  body.size = conn.chunk.size();
  if (conn.tls) return http::async_read_some(*conn.tls, conn.buffer, *conn.parser, kTuple);
  return http::async_read_some(*conn.plain, conn.buffer, *conn.parser, kTuple);
}

std::size_t chunk_bytes_read(Connection& conn) {
  return conn.chunk.size() - conn.parser->get().body().size;
}

// The request line and headers, into the connection's reusable buffer.
void write_request_head(std::string& head, const Request& request) {
  const Endpoint& ep = *request.endpoint;
  head.clear();
  head += request.method;
  head += ' ';
  head += ep.target;
  head += " HTTP/1.1\r\nHost: ";
  head += ep.host_header;
  head += "\r\nContent-Type: ";
  head += request.content_type.empty() ? std::string_view("application/json") : request.content_type;
  head += "\r\nAccept: ";
  head += request.expect_stream ? "text/event-stream" : "application/json";
  head += "\r\nUser-Agent: anygpt/0.1\r\nContent-Length: ";
  head += std::to_string(request.body_source ? request.body_source->size() : request.body.size());
  head += "\r\n";
  if (!request.api_key.empty()) {
    if (request.key_header.empty()) {
      head += "Authorization: Bearer ";
    } else {
      head += request.key_header;
      head += ": ";
    }
    head += request.api_key;
    head += "\r\n";
  }
  head += request.extra_headers;
  head += "\r\n";
}

std::string header_value(const http::response_parser<http::buffer_body>& p, http::field f) {
  auto it = p.get().find(f);
  return it == p.get().end() ? std::string() : std::string(it->value());
}
}  // namespace

asio::awaitable<core::Result<std::unique_ptr<Connection>>> Client::send(const Request& request) {
  const Endpoint& ep = *request.endpoint;
  if (request.abort && request.abort->triggered())
    co_return make_error(ErrorKind::kUpstreamError, "upstream call cancelled", {}, "cancelled");
  const auto deadline = std::min(request.deadline, Clock::now() + options_.timeouts.total);
  for (int attempt = 0;; ++attempt) {
    bool reused = false;
    auto conn = co_await acquire(ep, request.abort, reused);
    if (!conn) co_return conn.error();
    auto& c = **conn;
    if (request.abort) request.abort->conn_ = &c;
    write_request_head(c.head, request);
    c.parser.emplace();
    c.parser->body_limit(request.expect_stream ? std::numeric_limits<std::uint64_t>::max()
                                               : options_.max_response_bytes);
    c.arm(std::min(deadline, Clock::now() + options_.timeouts.first_byte));
    std::optional<core::Error> source_error;
    beast::error_code ec;  // (no co_await inside ?: : GCC 12 miscompiles it)
    if (c.tls)
      ec = co_await write_and_read_head(*c.tls, c, c.head, request, source_error);
    else
      ec = co_await write_and_read_head(*c.plain, c, c.head, request, source_error);
    c.disarm();
    if (!ec) co_return std::move(*conn);
    if (request.abort) request.abort->conn_ = nullptr;
    if (source_error) co_return std::move(*source_error);
    // A pooled connection the server closed meanwhile: retry once on a fresh one.
    if (reused && attempt == 0 && !c.timed_out() && !(request.abort && request.abort->triggered()) &&
        !c.parser->got_some())
      continue;
    co_return io_failure(c, request.abort, "before the response headers", ec);
  }
}

asio::awaitable<core::Result<Response>> Client::call(const Request& request) {
  const auto deadline = std::min(request.deadline, Clock::now() + options_.timeouts.total);
  auto sent = co_await send(request);
  if (!sent) co_return sent.error();
  auto conn = std::move(*sent);
  Response resp;
  resp.status = conn->parser->get().result_int();
  resp.content_type = header_value(*conn->parser, http::field::content_type);
  resp.retry_after = header_value(*conn->parser, http::field::retry_after);
  if (auto len = conn->parser->content_length()) resp.body.reserve(static_cast<std::size_t>(*len));
  while (!conn->parser->is_done()) {
    conn->arm(std::min(deadline, Clock::now() + options_.timeouts.idle));
    auto [ec, n] = co_await start_body_read(*conn);
    conn->disarm();
    if (ec == http::error::need_buffer) ec = {};
    const std::size_t got = chunk_bytes_read(*conn);
    if (ec) {
      if (request.abort) request.abort->conn_ = nullptr;
      co_return io_failure(*conn, request.abort, "while reading the response body", ec);
    }
    resp.body.append(conn->chunk.data(), got);
  }
  if (request.abort) request.abort->conn_ = nullptr;
  if (conn->parser->keep_alive()) release(std::move(conn));
  co_return resp;
}

asio::awaitable<core::Result<Stream>> Client::open_stream(const Request& request) {
  auto sent = co_await send(request);
  if (!sent) co_return sent.error();
  co_return Stream(*this, std::move(*sent), request.abort);
}

Stream::Stream(Client& client, std::unique_ptr<Connection> conn, Abort* abort)
    : client_(&client),
      conn_(std::move(conn)),
      abort_(abort),
      status_(conn_->parser->get().result_int()),
      content_type_(header_value(*conn_->parser, http::field::content_type)),
      retry_after_(header_value(*conn_->parser, http::field::retry_after)),
      deadline_(Clock::now() + client.options().timeouts.total) {}

Stream::Stream(Stream&& other) noexcept = default;

Stream::~Stream() {
  if (abort_ && conn_ && abort_->conn_ == conn_.get()) abort_->conn_ = nullptr;
}

asio::awaitable<core::Result<std::string_view>> Stream::next() {
  if (!conn_ || done_) co_return std::string_view{};
  for (;;) {
    if (conn_->parser->is_done()) {
      done_ = true;
      if (abort_) abort_->conn_ = nullptr;
      if (conn_->parser->keep_alive())
        client_->release(std::move(conn_));
      else
        conn_.reset();
      co_return std::string_view{};
    }
    conn_->arm(std::min(deadline_, Clock::now() + client_->options().timeouts.idle));
    auto [ec, n] = co_await start_body_read(*conn_);
    conn_->disarm();
    if (ec == http::error::need_buffer) ec = {};
    const std::size_t got = chunk_bytes_read(*conn_);
    if (ec) {
      auto err = io_failure(*conn_, abort_, "while streaming the response body", ec);
      if (abort_) abort_->conn_ = nullptr;
      conn_.reset();
      done_ = true;
      co_return err;
    }
    if (got > 0) co_return std::string_view(conn_->chunk.data(), got);
  }
}

asio::ssl::context& Client::tls() const {
  return *impl_->tls;
}

}  // namespace anygpt::upstream
