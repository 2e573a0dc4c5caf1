#include "imagefetch/fetcher.hpp"

#include <algorithm>
#include <boost/asio/as_tuple.hpp>
#include <boost/asio/connect.hpp>
#include <boost/asio/ssl/host_name_verification.hpp>
#include <boost/asio/ssl/stream.hpp>
#include <boost/asio/this_coro.hpp>
#include <boost/asio/use_awaitable.hpp>
#include <boost/asio/write.hpp>
#include <boost/beast/core/flat_buffer.hpp>
#include <boost/beast/http/error.hpp>
#include <boost/beast/http/parser.hpp>
#include <boost/beast/http/read.hpp>
#include <boost/beast/http/string_body.hpp>
#include <boost/url/parse.hpp>
#include <boost/url/url.hpp>
#include <optional>

#include "core/watchdog.hpp"
#include "imagefetch/sniff.hpp"

namespace anygpt::imagefetch {
namespace {

namespace beast = boost::beast;
namespace http = beast::http;
namespace ssl = asio::ssl;
using tcp = asio::ip::tcp;

constexpr auto kTuple = asio::as_tuple(asio::use_awaitable);
constexpr std::uint32_t kHeaderLimit = 16 * 1024;
constexpr std::size_t kReadLimit = 64 * 1024;  // the most one read buffers beyond the body

core::Error failure(std::string reason) {
  return core::make_error(core::ErrorKind::kInvalidRequest, std::move(reason), {}, std::string(kFailedCode));
}

bool is_redirect(unsigned status) {
  return status == 301 || status == 302 || status == 303 || status == 307 || status == 308;
}

// The request head of one hop. Values come from the policy-checked target and from options whose
// contract excludes CR and LF.
std::string request_head(const Target& t, const FetchOptions& o, bool send_auth) {
  std::string h;
  h.reserve(512);
  h.append("GET ").append(t.path).append(" HTTP/1.1\r\nHost: ").append(t.host_header);
  h.append("\r\nUser-Agent: ").append(o.user_agent);
  h.append("\r\nAccept: image/avif,image/webp,image/png,image/jpeg,image/gif,image/*;q=0.8\r\n");
  h.append("Accept-Encoding: identity\r\n");
  if (!o.referer.empty()) h.append("Referer: ").append(o.referer).append("\r\n");
  if (send_auth && !o.authorization.empty()) h.append("Authorization: ").append(o.authorization).append("\r\n");
  h.append("Connection: close\r\n\r\n");
  return h;
}

// `location` resolved against `base` (relative references included), or nullopt.
std::optional<std::string> redirect_target(const std::string& base, std::string_view location) {
  auto ref = boost::urls::parse_uri_reference(location);
  if (!ref) return std::nullopt;
  boost::urls::url next(base);
  if (!next.resolve(*ref)) return std::nullopt;
  next.remove_fragment();
  return std::string(next.buffer());
}

// One fetch: its connection of the moment, its parser and the deadline over all of its hops.
// Lives in the fetch_image coroutine's frame; single-threaded.
class Fetch {
 public:
  Fetch(const FetchOptions& o, FetchEnv env) : o_(o), env_(env), buffer_(kReadLimit), watch_(*this) {}

  asio::awaitable<core::Result<Image>> run(std::string url, Clock::time_point deadline);

 private:
  asio::awaitable<core::Result<std::vector<tcp::endpoint>>> endpoints(const Target& t);
  asio::awaitable<core::Result<unsigned>> open(const Target& t, const std::vector<tcp::endpoint>& eps, bool send_auth);
  template <class Stream>
  asio::awaitable<beast::error_code> send_and_read_head(Stream& s, const std::string& head);
  template <class Stream>
  asio::awaitable<core::Result<Image>> read_image(Stream& s);

  std::string header(http::field f) const {
    auto it = parser_->get().find(f);
    return it == parser_->get().end() ? std::string() : std::string(it->value());
  }
  core::Error too_large() const {
    return refusal("the image is larger than " + std::to_string(o_.max_bytes) + " bytes");
  }
  core::Error timed_out() const {
    return failure("no complete answer within " + std::to_string(o_.timeout.count()) + " ms");
  }
  bool expired() const { return watch_.fired() || Clock::now() >= deadline_; }
  core::Error io_error(const std::string& what, const beast::error_code& ec) const {
    if (ec == http::error::body_limit) return too_large();
    if (expired()) return timed_out();
    return failure(what + " (" + ec.message() + ")");
  }
  tcp::socket& socket() { return tls_ ? tls_->next_layer() : *plain_; }
  void close() {
    beast::error_code ec;
    if (tls_ || plain_) socket().close(ec);
  }

  // Closes the socket of the moment at the deadline: its pending operation fails at once.
  class Deadline : public core::DeadlineWatch {
   public:
    explicit Deadline(Fetch& f) : fetch_(f) {}

   protected:
    void on_deadline() override { fetch_.close(); }

   private:
    Fetch& fetch_;
  };

  const FetchOptions& o_;
  FetchEnv env_;
  Clock::time_point deadline_;
  std::optional<tcp::socket> plain_;
  std::optional<ssl::stream<tcp::socket>> tls_;
  beast::flat_buffer buffer_;
  std::optional<http::response_parser<http::string_body>> parser_;
  Deadline watch_;
};

asio::awaitable<core::Result<std::vector<tcp::endpoint>>> Fetch::endpoints(const Target& t) {
  std::vector<asio::ip::address> addresses;
  if (t.literal) {
    addresses.push_back(*t.literal);  // (checked by parse_target)
  } else {
    auto resolved = co_await env_.network.resolve(t.host, deadline_);
    if (!resolved) co_return resolved.error();
    addresses = std::move(*resolved);
    for (const auto& a : addresses)
      if (auto why = address_refusal(a, o_.policy.allow_private)) co_return refusal("the host resolves to a " + *why);
  }
  std::vector<tcp::endpoint> eps;
  for (const auto& a : addresses) eps.push_back(env_.network.dial_endpoint(tcp::endpoint(a, t.port)));
  co_return eps;
}

template <class Stream>
asio::awaitable<beast::error_code> Fetch::send_and_read_head(Stream& s, const std::string& head) {
  auto [wec, wn] = co_await asio::async_write(s, asio::buffer(head), kTuple);
  if (wec) co_return wec;
  auto [rec, rn] = co_await http::async_read_header(s, buffer_, *parser_, kTuple);
  co_return rec;
}

asio::awaitable<core::Result<unsigned>> Fetch::open(const Target& t, const std::vector<tcp::endpoint>& eps,
                                                    bool send_auth) {
  close();
  plain_.reset();
  tls_.reset();
  auto executor = co_await asio::this_coro::executor;
  if (t.tls)
    tls_.emplace(executor, env_.tls);
  else
    plain_.emplace(executor);
  auto [ec, connected] = co_await asio::async_connect(socket(), eps, kTuple);
  if (ec) co_return io_error("cannot connect to the image host", ec);
  if (t.tls) {
    // SNI names a host, never an address (RFC 6066); verification checks the name or the address.
    if (!t.literal && !SSL_set_tlsext_host_name(tls_->native_handle(), t.host.c_str()))
      co_return failure("TLS: cannot set the server name");
    tls_->set_verify_mode(ssl::verify_peer);
    tls_->set_verify_callback(ssl::host_name_verification(t.host));
    auto [hec] = co_await tls_->async_handshake(ssl::stream_base::client, kTuple);
    if (hec) co_return io_error("the TLS handshake with the image host failed", hec);
  }
  parser_.emplace();
  parser_->header_limit(kHeaderLimit);
  parser_->body_limit(o_.max_bytes);
  buffer_.consume(buffer_.size());
  const std::string head = request_head(t, o_, send_auth);
  beast::error_code rec;
  if (tls_)
    rec = co_await send_and_read_head(*tls_, head);
  else
    rec = co_await send_and_read_head(*plain_, head);
  if (rec) co_return io_error("the image host did not answer", rec);
  co_return static_cast<unsigned>(parser_->get().result_int());
}

template <class Stream>
asio::awaitable<core::Result<Image>> Fetch::read_image(Stream& s) {
  auto& p = *parser_;
  const std::string type = header(http::field::content_type);
  if (auto why = content_type_refusal(type)) co_return refusal(*why);
  const auto length = p.content_length();
  if (length && *length > o_.max_bytes) co_return too_large();
  if (length) p.get().body().reserve(static_cast<std::size_t>(*length));
  bool sniffed = false;  // the magic bytes are checked as soon as they arrive: an HTML page stops there
  while (!p.is_done()) {
    auto [ec, n] = co_await http::async_read_some(s, buffer_, p, kTuple);
    if (ec) co_return io_error("the connection broke while reading the image", ec);
    const auto& body = p.get().body();
    if (!sniffed && body.size() >= kSniffBytes) {
      sniffed = true;
      auto mime = image_mime(type, body);
      if (!mime) co_return mime.error();
    }
  }
  std::string body = std::move(p.get().body());
  auto mime = image_mime(type, body);
  if (!mime) co_return mime.error();
  co_return Image(std::string(*mime), std::move(body));
}

asio::awaitable<core::Result<Image>> Fetch::run(std::string url, Clock::time_point deadline) {
  deadline_ = deadline;
  watch_.arm(core::Watchdog::for_this_thread(), deadline_);
  std::vector<std::string> visited;
  std::string first_host;
  for (int hop = 0;; ++hop) {
    std::string prefix;  // the reason of a later hop names where the redirect led
    auto target = parse_target(url, o_.policy);
    if (hop > 0) prefix = "a redirect to host '" + display_host(url) + "': ";
    if (!target) {
      target.error().message.insert(0, prefix);
      co_return target.error();
    }
    if (hop == 0) first_host = target->host;
    if (expired()) co_return timed_out();
    auto eps = co_await endpoints(*target);
    if (!eps) {
      eps.error().message.insert(0, prefix);
      co_return eps.error();
    }
    if (expired()) co_return timed_out();
    auto status = co_await open(*target, *eps, target->host == first_host);
    if (!status) co_return status.error();
    if (!is_redirect(*status)) {
      if (*status < 200 || *status > 299)
        co_return failure(prefix + "the image host answered HTTP " + std::to_string(*status));
      if (tls_) co_return co_await read_image(*tls_);
      co_return co_await read_image(*plain_);
    }
    const std::string location = header(http::field::location);
    if (location.empty()) co_return failure(prefix + "a redirect without a Location header");
    if (hop >= o_.max_redirects)
      co_return refusal("more than " + std::to_string(o_.max_redirects) + " redirects (IMAGE_FETCH_MAX_REDIRECTS)");
    auto next = redirect_target(url, location);
    if (!next) co_return failure(prefix + "a redirect to a Location that is not a URL");
    visited.push_back(std::move(url));
    if (std::find(visited.begin(), visited.end(), *next) != visited.end()) co_return refusal("a redirect loop");
    url = std::move(*next);
  }
}

// Gives the fetch's slot back however the fetch ends.
class SlotHold {
 public:
  explicit SlotHold(FetchSlots& s) : slots_(s) {}
  SlotHold(const SlotHold&) = delete;
  SlotHold& operator=(const SlotHold&) = delete;
  ~SlotHold() { slots_.release(); }

 private:
  FetchSlots& slots_;
};

}  // namespace

asio::awaitable<core::Result<Image>> fetch_image(std::string url, const FetchOptions& options, FetchEnv env) {
  const auto deadline = Clock::now() + options.timeout;  // (the wait for a slot included)
  const bool got = co_await env.slots.acquire(deadline);
  if (!got)
    co_return failure("too many image fetches in progress (IMAGE_FETCH_MAX_CONCURRENCY); none finished within " +
                      std::to_string(options.timeout.count()) + " ms");
  SlotHold hold(env.slots);
  Fetch fetch(options, env);
  co_return co_await fetch.run(std::move(url), deadline);
}

}  // namespace anygpt::imagefetch
