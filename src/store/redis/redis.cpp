#include "store/redis/redis.hpp"

#include <hiredis/hiredis.h>

#include <array>
#include <boost/asio/as_tuple.hpp>
#include <boost/asio/deferred.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <boost/asio/ssl/host_name_verification.hpp>
#include <boost/asio/ssl/stream.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/asio/use_awaitable.hpp>
#include <boost/asio/write.hpp>
#include <charconv>
#include <deque>
#include <tuple>

namespace anygpt::store::redis {
namespace ssl = asio::ssl;
using tcp = asio::ip::tcp;
using boost::system::error_code;
using core::ErrorKind;
using core::make_error;

namespace {

constexpr std::size_t kReadChunk = 16 * 1024;
constexpr std::size_t kKeepOutputCapacity = 1024 * 1024;  // larger write buffers are released after use

struct ReaderFree {
  void operator()(redisReader* r) const { redisReaderFree(r); }
};
using ReaderPtr = std::unique_ptr<redisReader, ReaderFree>;

struct ReplyFree {
  void operator()(void* r) const { freeReplyObject(r); }
};

Reply to_reply(const redisReply& r) {
  Reply out;
  switch (r.type) {
    case REDIS_REPLY_STRING: out.type = Reply::Type::kString; break;
    case REDIS_REPLY_STATUS: out.type = Reply::Type::kStatus; break;
    case REDIS_REPLY_ERROR: out.type = Reply::Type::kError; break;
    case REDIS_REPLY_INTEGER: out.type = Reply::Type::kInteger; break;
    case REDIS_REPLY_ARRAY: out.type = Reply::Type::kArray; break;
    default: out.type = Reply::Type::kNil; break;
  }
  if (out.type == Reply::Type::kInteger) out.integer = r.integer;
  if (out.type == Reply::Type::kString || out.type == Reply::Type::kStatus || out.type == Reply::Type::kError)
    out.str.assign(r.str, r.len);
  if (out.type == Reply::Type::kArray) {
    out.elements.reserve(r.elements);
    for (std::size_t i = 0; i < r.elements; ++i) out.elements.push_back(to_reply(*r.element[i]));
  }
  return out;
}

std::string ms_text(std::chrono::milliseconds d) {
  return std::to_string(d.count()) + " ms";
}

// The server's words, minus the password should a proxy ever echo it.
std::string scrub(std::string text, const std::string& secret) {
  if (secret.empty()) return text;
  for (auto at = text.find(secret); at != std::string::npos; at = text.find(secret, at + 3))
    text.replace(at, secret.size(), "***");
  return text;
}

std::shared_ptr<ssl::context> default_tls_context() {
  auto ctx = std::make_shared<ssl::context>(ssl::context::tls_client);
  ctx->set_default_verify_paths();
  ctx->set_verify_mode(ssl::verify_peer);
  ctx->set_options(ssl::context::no_sslv2 | ssl::context::no_sslv3 | ssl::context::no_tlsv1 | ssl::context::no_tlsv1_1);
  return ctx;
}

// A name resolution the caller may stop waiting for: getaddrinfo cannot be cancelled, so its
// result lands in shared state that outlives an abandoned wait.
struct PendingResolve {
  explicit PendingResolve(asio::io_context& ioc) : resolver(ioc), finished(ioc) {}
  tcp::resolver resolver;
  asio::steady_timer finished;  // cancelled when the resolution completes
  error_code ec;
  tcp::resolver::results_type results;
  bool done = false;
};

// An optional Message from a pub/sub push ([s]message channel payload, pmessage pattern channel
// payload); nullopt for confirmations and pongs.
std::optional<Connection::Message> as_message(Reply& r) {
  if (r.type != Reply::Type::kArray || r.elements.size() < 3) return std::nullopt;
  const auto& kind = r.elements[0].str;
  if ((kind == "message" || kind == "smessage") && r.elements.size() == 3)
    return Connection::Message{std::move(r.elements[1].str), std::move(r.elements[2].str)};
  if (kind == "pmessage" && r.elements.size() == 4)
    return Connection::Message{std::move(r.elements[2].str), std::move(r.elements[3].str)};
  return std::nullopt;
}

}  // namespace

// The state of one connection. Every I/O step is bounded by the connection's timer (armed once
// per call with the call's deadline): an expiry cancels the pending I/O.
struct Connection::Impl {
  Impl(asio::io_context& c, Options o, std::shared_ptr<ssl::context> t)
      : ioc(c), options(std::move(o)), tls_ctx(std::move(t)), timer(c), reader(redisReaderCreate()) {}

  // Outcome of one I/O step: `timed_out` when the deadline won, else the operation's own result.
  struct Step {
    error_code ec;
    std::size_t n = 0;
    bool timed_out = false;
  };

  asio::io_context& ioc;
  Options options;
  std::shared_ptr<ssl::context> tls_ctx;
  std::optional<tcp::socket> plain;
  std::optional<ssl::stream<tcp::socket>> tls;
  asio::steady_timer timer;
  std::uint64_t race_gen = 0;  // identifies the I/O step a timer expiry belongs to
  bool race_fired = false;
  ReaderPtr reader;
  std::array<char, kReadChunk> chunk{};
  std::string out;            // encoded commands of the current call
  std::deque<Message> early;  // messages that arrived with subscribe confirmations
  bool open = false;
  bool subscribed = false;

  tcp::socket& socket() { return tls ? tls->next_layer() : *plain; }

  // Closes the socket but keeps the stream objects: an operation still pending on them (another
  // coroutine's next_message) completes with operation_aborted against live objects.
  void close() {
    if (tls || plain) {
      error_code ignored;
      socket().close(ignored);
    }
    open = false;
    subscribed = false;
    early.clear();
    reader.reset(redisReaderCreate());
  }

  // Runs one I/O step (`start(token)` launches it) bounded by `timer`'s expiry: if that passes
  // first, the socket's pending I/O is cancelled and the step reports timed_out. A read that
  // completed with data as the timer fired still counts: dropping received bytes would
  // desynchronise the stream. (A timer that cancels, not a parallel_group: with GCC 12 and
  // Asio 1.81 the group resumed stale coroutine frames after a reconnect.)
  template <class Start>
  asio::awaitable<Step> race(Start start) {
    const std::uint64_t gen = ++race_gen;
    race_fired = false;
    timer.async_wait([this, gen](const error_code& ec) {
      if (ec || gen != race_gen) return;  // cancelled, or a later step is running
      race_fired = true;
      error_code ignored;
      if (tls || plain) socket().cancel(ignored);
    });
    auto result = co_await start(asio::as_tuple(asio::use_awaitable));
    ++race_gen;
    timer.cancel();
    Step step;
    step.ec = std::get<0>(result);
    if constexpr (std::tuple_size_v<decltype(result)> == 2) step.n = std::get<1>(result);
    step.timed_out = race_fired && step.ec == asio::error::operation_aborted;
    co_return step;
  }

  asio::awaitable<Step> read_some() {
    auto buffer = asio::buffer(chunk);
    if (tls) co_return co_await race([&](auto token) { return tls->async_read_some(buffer, token); });
    co_return co_await race([&](auto token) { return plain->async_read_some(buffer, token); });
  }

  asio::awaitable<Step> write_out() {
    Step step;
    auto buffer = asio::buffer(out);
    if (tls)
      step = co_await race([&](auto token) { return asio::async_write(*tls, buffer, token); });
    else
      step = co_await race([&](auto token) { return asio::async_write(*plain, buffer, token); });
    if (out.capacity() > kKeepOutputCapacity) std::string().swap(out);
    co_return step;
  }

  core::Error fail(const Step& step, std::chrono::milliseconds budget) {
    const bool was_open = open;
    close();
    if (!was_open) return make_error(ErrorKind::kUpstreamUnavailable, "redis: connection closed");
    if (step.timed_out) return make_error(ErrorKind::kUpstreamTimeout, "redis: no reply within " + ms_text(budget));
    return make_error(ErrorKind::kUpstreamUnavailable, "redis: connection lost: " + step.ec.message());
  }

  core::Error protocol_error(const std::string& what) {
    close();
    return make_error(ErrorKind::kUpstreamError, "redis: protocol error: " + what);
  }

  // Stores the next complete reply in `reply`: parsed from bytes already read, else read until one
  // is complete. False when the timer's deadline passes first (the connection stays open; a
  // partial reply stays in the reader). `budget` only words the error. (An out-parameter rather
  // than optional<Reply>: GCC 12 -O2 with ASan warns maybe-uninitialized on the latter.)
  asio::awaitable<core::Result<bool>> read_reply(Reply& reply, std::chrono::milliseconds budget) {
    for (;;) {
      void* raw = nullptr;
      if (redisReaderGetReply(reader.get(), &raw) != REDIS_OK) co_return protocol_error(reader->errstr);
      if (raw) {
        std::unique_ptr<void, ReplyFree> owned(raw);
        reply = to_reply(*static_cast<redisReply*>(raw));
        co_return true;
      }
      auto step = co_await read_some();
      if (!open) co_return fail(step, budget);  // close() was called meanwhile
      if (step.timed_out) co_return false;
      if (step.ec) co_return fail(step, budget);
      if (redisReaderFeed(reader.get(), chunk.data(), step.n) != REDIS_OK) co_return protocol_error(reader->errstr);
    }
  }

  // read_reply() for a request/response exchange: the deadline passing is a failure.
  asio::awaitable<core::Result<bool>> expect_reply(Reply& reply) {
    auto got = co_await read_reply(reply, options.command_timeout);
    if (got && !*got) co_return fail(Step{{}, 0, true}, options.command_timeout);
    co_return got;
  }

  asio::awaitable<core::Result<tcp::resolver::results_type>> resolve() {
    auto pending = std::make_shared<PendingResolve>(ioc);
    pending->finished.expires_at(timer.expiry());
    pending->resolver.async_resolve(options.host, options.port,
                                    [pending](const error_code& ec, tcp::resolver::results_type results) {
                                      pending->ec = ec;
                                      pending->results = std::move(results);
                                      pending->done = true;
                                      pending->finished.cancel();
                                    });
    co_await pending->finished.async_wait(asio::as_tuple(asio::use_awaitable));
    if (!pending->done) {
      pending->resolver.cancel();
      co_return make_error(ErrorKind::kUpstreamTimeout,
                           "redis: cannot resolve " + options.host + " within " + ms_text(options.connect_timeout));
    }
    if (pending->ec)
      co_return make_error(ErrorKind::kUpstreamUnavailable,
                           "redis: cannot resolve " + options.host + ": " + pending->ec.message());
    co_return std::move(pending->results);
  }

  // Opens the transport (TCP, then TLS if asked) within connect_timeout.
  asio::awaitable<core::Result<bool>> open_transport() {
    const std::string where = options.host + ":" + options.port;
    timer.expires_after(options.connect_timeout);
    auto resolved = co_await resolve();
    if (!resolved) co_return resolved.error();
    plain.reset();
    tls.reset();
    if (options.tls) {
      if (!tls_ctx) tls_ctx = default_tls_context();
      tls.emplace(ioc, *tls_ctx);
    } else {
      plain.emplace(ioc);
    }
    const auto timeout = [&](const std::string& phase) {
      close();
      return make_error(ErrorKind::kUpstreamTimeout,
                        "redis: " + phase + " " + where + " within " + ms_text(options.connect_timeout));
    };
    error_code last = asio::error::host_not_found;
    for (const auto& entry : *resolved) {
      error_code ignored;
      socket().close(ignored);
      const tcp::endpoint endpoint = entry.endpoint();
      auto step = co_await race([&](auto token) { return socket().async_connect(endpoint, token); });
      if (step.timed_out) co_return timeout("cannot connect to");
      last = step.ec;
      if (!last) break;
    }
    if (last) {
      close();
      co_return make_error(ErrorKind::kUpstreamUnavailable,
                           "redis: cannot connect to " + where + ": " + last.message());
    }
    error_code ignored;
    socket().set_option(tcp::no_delay(true), ignored);
    if (tls) {
      error_code literal;
      asio::ip::make_address(options.host, literal);
      // SNI carries host names only (RFC 6066 section 3); an IP address is still verified.
      if (literal && !SSL_set_tlsext_host_name(tls->native_handle(), options.host.c_str())) {
        close();
        co_return make_error(ErrorKind::kUpstreamUnavailable, "redis: TLS: cannot set SNI for " + options.host);
      }
      tls->set_verify_mode(ssl::verify_peer);
      tls->set_verify_callback(ssl::host_name_verification(options.host));
      auto step = co_await race([&](auto token) { return tls->async_handshake(ssl::stream_base::client, token); });
      if (step.timed_out) co_return timeout("no TLS handshake with");
      if (step.ec) {
        close();
        co_return make_error(ErrorKind::kUpstreamUnavailable,
                             "redis: TLS handshake with " + where + " failed: " + step.ec.message());
      }
    }
    open = true;
    co_return true;
  }
};

Connection::Connection(asio::io_context& ioc, Options options, std::shared_ptr<asio::ssl::context> tls)
    : impl_(std::make_unique<Impl>(ioc, std::move(options), std::move(tls))) {}

Connection::~Connection() = default;

bool Connection::connected() const {
  return impl_->open;
}

void Connection::close() {
  impl_->close();
}

asio::awaitable<core::Result<bool>> Connection::connect() {
  auto& s = *impl_;
  s.close();
  auto opened = co_await s.open_transport();
  if (!opened) co_return opened.error();
  std::vector<std::vector<std::string>> setup;
  if (!s.options.password.empty()) {
    if (s.options.username.empty())
      setup.push_back({"AUTH", s.options.password});
    else
      setup.push_back({"AUTH", s.options.username, s.options.password});
  }
  if (s.options.db != 0) setup.push_back({"SELECT", std::to_string(s.options.db)});
  if (setup.empty()) co_return true;
  auto replies = co_await pipeline(setup);
  if (!replies) co_return replies.error();
  for (std::size_t i = 0; i < replies->size(); ++i) {
    const auto& r = (*replies)[i];
    if (r.type != Reply::Type::kError) continue;
    s.close();
    const std::string what = setup[i][0] == "AUTH" ? "AUTH" : "SELECT " + std::to_string(s.options.db);
    co_return make_error(ErrorKind::kUpstreamError,
                         "redis: " + what + " rejected: " + scrub(r.str, s.options.password));
  }
  co_return true;
}

asio::awaitable<core::Result<std::vector<Reply>>> Connection::pipeline(
    const std::vector<std::vector<std::string>>& commands) {
  auto& s = *impl_;
  if (!s.open) co_return make_error(ErrorKind::kUpstreamUnavailable, "redis: not connected");
  if (s.subscribed)
    co_return make_error(ErrorKind::kInvalidRequest, "redis: the connection is subscribed; use next_message()");
  std::vector<Reply> replies;
  if (commands.empty()) co_return replies;
  s.out.clear();
  for (const auto& c : commands) append_command(s.out, c);
  s.timer.expires_after(s.options.command_timeout);
  auto step = co_await s.write_out();
  if (step.ec || step.timed_out || !s.open) co_return s.fail(step, s.options.command_timeout);
  replies.reserve(commands.size());
  while (replies.size() < commands.size()) {
    auto got = co_await s.expect_reply(replies.emplace_back());
    if (!got) co_return got.error();
  }
  co_return replies;
}

asio::awaitable<core::Result<Reply>> Connection::command(const std::vector<std::string>& args) {
  std::vector<std::vector<std::string>> one;  // not a braced temporary: GCC 12 miscompiles those in co_await
  one.push_back(args);
  auto replies = co_await pipeline(one);
  if (!replies) co_return replies.error();
  co_return std::move(replies->front());
}

asio::awaitable<core::Result<bool>> Connection::subscribe(const std::vector<std::string>& channels) {
  auto& s = *impl_;
  if (!s.open) co_return make_error(ErrorKind::kUpstreamUnavailable, "redis: not connected");
  if (channels.empty()) co_return make_error(ErrorKind::kInvalidRequest, "redis: subscribe() needs a channel");
  std::vector<std::string> args{"SUBSCRIBE"};
  args.insert(args.end(), channels.begin(), channels.end());
  s.out.clear();
  append_command(s.out, args);
  s.timer.expires_after(s.options.command_timeout);
  auto step = co_await s.write_out();
  if (step.ec || step.timed_out || !s.open) co_return s.fail(step, s.options.command_timeout);
  for (std::size_t confirmed = 0; confirmed < channels.size();) {
    Reply r;
    auto got = co_await s.expect_reply(r);
    if (!got) co_return got.error();
    if (r.type == Reply::Type::kError) {
      s.close();
      co_return make_error(ErrorKind::kUpstreamError, "redis: SUBSCRIBE rejected: " + r.str);
    }
    if (auto m = as_message(r)) {
      s.early.push_back(std::move(*m));
    } else if (r.type == Reply::Type::kArray && !r.elements.empty() && r.elements[0].str == "subscribe") {
      ++confirmed;
    } else {
      co_return s.protocol_error("unexpected reply to SUBSCRIBE");
    }
  }
  s.subscribed = true;
  co_return true;
}

asio::awaitable<core::Result<std::optional<Connection::Message>>> Connection::next_message(
    std::chrono::milliseconds wait) {
  auto& s = *impl_;
  if (!s.open) co_return make_error(ErrorKind::kUpstreamUnavailable, "redis: not connected");
  if (!s.subscribed) co_return make_error(ErrorKind::kInvalidRequest, "redis: next_message() before subscribe()");
  if (!s.early.empty()) {
    auto m = std::move(s.early.front());
    s.early.pop_front();
    co_return std::optional<Message>(std::move(m));
  }
  s.timer.expires_after(wait);
  for (;;) {
    Reply r;
    auto got = co_await s.read_reply(r, wait);
    if (!got) co_return got.error();
    if (!*got) co_return std::optional<Message>();
    if (auto m = as_message(r)) co_return m;
    // Anything else (confirmations of a later subscribe, pongs) is not a message: keep waiting.
  }
}

void append_command(std::string& out, const std::vector<std::string>& args) {
  char digits[24];
  const auto append_header = [&](char kind, std::size_t n) {
    out += kind;
    auto end = std::to_chars(digits, digits + sizeof digits, n).ptr;
    out.append(digits, end);
    out += "\r\n";
  };
  append_header('*', args.size());
  for (const auto& a : args) {
    append_header('$', a.size());
    out += a;
    out += "\r\n";
  }
}

// ---- URL parsing ----------------------------------------------------------------------------

namespace {

core::Error bad_url(const std::string& what) {
  return make_error(ErrorKind::kInvalidRequest, "redis URL: " + what);
}

std::optional<std::string> percent_decode(std::string_view in) {
  std::string out;
  out.reserve(in.size());
  for (std::size_t i = 0; i < in.size(); ++i) {
    if (in[i] != '%') {
      out += in[i];
      continue;
    }
    unsigned value = 0;
    if (i + 2 >= in.size()) return std::nullopt;
    auto [end, ec] = std::from_chars(in.data() + i + 1, in.data() + i + 3, value, 16);
    if (ec != std::errc() || end != in.data() + i + 3) return std::nullopt;
    out += static_cast<char>(value);
    i += 2;
  }
  return out;
}

// Fills host and port from "host", "host:port", "[v6]" or "[v6]:port".
std::optional<core::Error> parse_host_port(std::string_view hp, Options& o) {
  std::string_view port;
  if (!hp.empty() && hp.front() == '[') {
    auto close = hp.find(']');
    if (close == std::string_view::npos) return bad_url("unterminated [ in the IPv6 address");
    o.host = std::string(hp.substr(1, close - 1));
    auto rest = hp.substr(close + 1);
    if (!rest.empty() && rest.front() != ':') return bad_url("unexpected text after the IPv6 address");
    if (!rest.empty()) port = rest.substr(1);
    if (rest == ":") return bad_url("empty port");
  } else {
    auto colon = hp.find(':');
    if (colon != std::string_view::npos && hp.find(':', colon + 1) != std::string_view::npos)
      return bad_url("an IPv6 address must be written in brackets, like [::1]:6379");
    o.host = std::string(hp.substr(0, colon));
    if (colon != std::string_view::npos) {
      port = hp.substr(colon + 1);
      if (port.empty()) return bad_url("empty port");
    }
  }
  if (o.host.empty()) return bad_url("no host");
  if (!port.empty()) {
    unsigned value = 0;
    auto [end, ec] = std::from_chars(port.data(), port.data() + port.size(), value);
    if (ec != std::errc() || end != port.data() + port.size() || value == 0 || value > 65535)
      return bad_url("the port must be a number from 1 to 65535");
    o.port = std::string(port);
  }
  return std::nullopt;
}

}  // namespace

core::Result<Options> parse_url(std::string_view url) {
  Options o;
  std::string_view rest = url;
  bool scheme = false;
  if (rest.starts_with("redis://")) {
    rest.remove_prefix(8);
    scheme = true;
  } else if (rest.starts_with("rediss://")) {
    rest.remove_prefix(9);
    scheme = o.tls = true;
  } else if (rest.find("://") != std::string_view::npos) {
    return bad_url("the scheme must be redis:// or rediss://");
  }
  if (rest.find_first_of("?#") != std::string_view::npos) return bad_url("query and fragment are not supported");
  if (!scheme) {
    if (rest.find('@') != std::string_view::npos) return bad_url("credentials need a redis:// or rediss:// URL");
    if (rest.find('/') != std::string_view::npos) return bad_url("a database number needs a redis:// URL");
    if (auto e = parse_host_port(rest, o)) return *e;
    return o;
  }
  auto slash = rest.find('/');
  std::string_view authority = rest.substr(0, slash);
  std::string_view path = slash == std::string_view::npos ? std::string_view() : rest.substr(slash + 1);
  // The last '@' ends the user info: an unencoded '@' in a password is tolerated.
  if (auto at = authority.rfind('@'); at != std::string_view::npos) {
    auto userinfo = authority.substr(0, at);
    authority.remove_prefix(at + 1);
    auto colon = userinfo.find(':');
    if (colon == std::string_view::npos) return bad_url("a user name needs a password (user:password@)");
    auto user = percent_decode(userinfo.substr(0, colon));
    if (!user) return bad_url("bad percent-encoding in the user name");
    auto pass = percent_decode(userinfo.substr(colon + 1));
    if (!pass) return bad_url("bad percent-encoding in the password");
    if (pass->empty()) return bad_url("empty password");
    o.username = std::move(*user);
    o.password = std::move(*pass);
  }
  if (auto e = parse_host_port(authority, o)) return *e;
  if (!path.empty()) {
    int db = -1;
    auto [end, ec] = std::from_chars(path.data(), path.data() + path.size(), db);
    if (ec != std::errc() || end != path.data() + path.size() || db < 0)
      return bad_url("the database must be a non-negative integer");
    o.db = db;
  }
  return o;
}

}  // namespace anygpt::store::redis
