#include "ws/client.hpp"

#include <openssl/rand.h>
#include <openssl/sha.h>
#include <openssl/ssl.h>
#include <cstdlib>

#include <boost/asio/as_tuple.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <boost/asio/ssl/host_name_verification.hpp>
#include <boost/asio/ssl/stream.hpp>
#include <boost/asio/use_awaitable.hpp>
#include <boost/asio/write.hpp>
#include <boost/beast/core/flat_buffer.hpp>
#include <boost/beast/core/string.hpp>
#include <boost/beast/core/tcp_stream.hpp>
#include <boost/beast/http/empty_body.hpp>
#include <boost/beast/http/parser.hpp>
#include <boost/beast/http/read.hpp>
#include <boost/beast/ssl/ssl_stream.hpp>

#include "core/base64.hpp"

namespace anygpt::ws {
namespace {
namespace asio = boost::asio;
namespace beast = boost::beast;
namespace http = beast::http;
using tcp = asio::ip::tcp;
constexpr auto kTuple = asio::as_tuple(asio::use_awaitable);

core::Error failure(std::string message, int status = 0) {
  auto e = core::make_error(core::ErrorKind::kUpstreamUnavailable, std::move(message));
  e.upstream_status = status;
  return e;
}

template <typename Stream>
class Socket final : public Upstream {
 public:
  template <typename... Args>
  explicit Socket(Args&&... args) : stream_(std::forward<Args>(args)...) {}
  Stream& stream() { return stream_; }

  asio::awaitable<std::size_t> read_some(char* into, std::size_t size) override {
    auto [ec, n] = co_await stream_.async_read_some(asio::buffer(into, size), kTuple);
    co_return ec ? 0 : n;
  }
  asio::awaitable<bool> write(std::string_view bytes) override {
    auto [ec, n] = co_await asio::async_write(stream_, asio::buffer(bytes.data(), bytes.size()), kTuple);
    co_return !ec;
  }
  void cut() override { beast::get_lowest_layer(stream_).close(); }

 private:
  Stream stream_;
};

// Sec-WebSocket-Accept for `key` (RFC 6455 4.2.2).
std::string accept_of(std::string_view key) {
  const std::string joined = std::string(key) + "258EAFA5-E914-47DA-95CA-C5AB0DC85B11";
  unsigned char digest[SHA_DIGEST_LENGTH];
  SHA1(reinterpret_cast<const unsigned char*>(joined.data()), joined.size(), digest);
  return core::base64_encode(std::string_view(reinterpret_cast<const char*>(digest), sizeof digest));
}

// The upgrade over a connected `s`; its answer's leftover bytes into `s.leftover`; the deadline
// lifted after.
template <typename Stream>
asio::awaitable<core::Result<std::unique_ptr<Upstream>>> upgrade(std::unique_ptr<Socket<Stream>> s,
                                                                 const Target& target) {
  unsigned char nonce[16];
  RAND_bytes(nonce, sizeof nonce);
  const std::string key = core::base64_encode(std::string_view(reinterpret_cast<const char*>(nonce), sizeof nonce));
  std::string req = "GET " + target.path + " HTTP/1.1\r\nHost: " + target.host;
  if (target.port != (target.tls ? "443" : "80")) req += ":" + target.port;
  req += "\r\nUpgrade: websocket\r\nConnection: Upgrade\r\nSec-WebSocket-Version: 13\r\nSec-WebSocket-Key: " + key +
         "\r\n";
  for (const auto& [k, v] : target.headers) req += k + ": " + v + "\r\n";
  req += "\r\n";
  auto& stream = s->stream();
  auto [wec, wn] = co_await asio::async_write(stream, asio::buffer(req), kTuple);
  if (wec) co_return failure("cannot send the WebSocket upgrade to upstream " + target.host);
  beast::flat_buffer buffer;
  http::response_parser<http::empty_body> parser;
  parser.header_limit(16 * 1024);
  auto [rec, rn] = co_await http::async_read_header(stream, buffer, parser, kTuple);
  if (rec == beast::error::timeout)
    co_return core::make_error(core::ErrorKind::kUpstreamTimeout, "upstream upgrade timed out");
  if (rec) co_return failure("the upstream did not answer the WebSocket upgrade");
  const auto& res = parser.get();
  if (res.result_int() != 101)
    co_return failure("the upstream refused the WebSocket upgrade (" + std::to_string(res.result_int()) + ")",
                      static_cast<int>(res.result_int()));
  const auto accept = res[http::field::sec_websocket_accept];
  if (std::string_view(accept.data(), accept.size()) != accept_of(key))
    co_return failure("the upstream's WebSocket upgrade answer is invalid (Sec-WebSocket-Accept)");
  const auto rest = buffer.cdata();
  s->leftover.assign(static_cast<const char*>(rest.data()), rest.size());
  beast::get_lowest_layer(stream).expires_never();
  co_return std::unique_ptr<Upstream>(std::move(s));
}

// Opens the TCP connection of `s` within the deadline already set on its lowest layer.
template <typename Stream>
asio::awaitable<std::optional<core::Error>> connect_tcp(Socket<Stream>& s, const tcp::resolver::results_type& endpoints,
                                                        const Target& target) {
  auto [ec, ep] = co_await beast::get_lowest_layer(s.stream()).async_connect(endpoints, kTuple);
  if (ec == beast::error::timeout)
    co_return core::make_error(core::ErrorKind::kUpstreamTimeout, "upstream connect timed out");
  if (ec) co_return failure("cannot connect to upstream " + target.host + ":" + target.port);
  co_return std::nullopt;
}
}  // namespace

asio::awaitable<core::Result<std::unique_ptr<Upstream>>> connect(asio::any_io_executor executor, const Target& target,
                                                                 asio::ssl::context* tls,
                                                                 std::chrono::milliseconds timeout) {
  // A numeric host needs no resolver (whose lookups run on a thread of their own).
  tcp::resolver resolver(executor);
  tcp::resolver::results_type endpoints;
  boost::system::error_code nec;
  const auto address = asio::ip::make_address(target.host, nec);
  const auto port = static_cast<unsigned short>(std::strtoul(target.port.c_str(), nullptr, 10));
  if (!nec) {
    endpoints = tcp::resolver::results_type::create(tcp::endpoint(address, port), target.host, target.port);
  } else {
    auto [rec, found] = co_await resolver.async_resolve(target.host, target.port, kTuple);
    if (rec) co_return failure("cannot resolve upstream host " + target.host);
    endpoints = std::move(found);
  }
  if (!target.tls) {
    auto s = std::make_unique<Socket<beast::tcp_stream>>(executor);
    beast::get_lowest_layer(s->stream()).expires_after(timeout);
    auto failed = co_await connect_tcp(*s, endpoints, target);
    if (failed) co_return *failed;
    co_return co_await upgrade(std::move(s), target);
  }
  if (!tls) co_return failure("wss:// needs a TLS context");
  auto s = std::make_unique<Socket<beast::ssl_stream<beast::tcp_stream>>>(executor, *tls);
  beast::get_lowest_layer(s->stream()).expires_after(timeout);
  auto failed = co_await connect_tcp(*s, endpoints, target);
  if (failed) co_return *failed;
  auto& ssl = s->stream();
  if (!SSL_set_tlsext_host_name(ssl.native_handle(), target.host.c_str()))
    co_return failure("TLS setup for upstream " + target.host + " failed");
  ssl.set_verify_mode(asio::ssl::verify_peer);
  ssl.set_verify_callback(asio::ssl::host_name_verification(target.host));
  auto [hec] = co_await ssl.async_handshake(asio::ssl::stream_base::client, kTuple);
  if (hec) co_return failure("TLS handshake with upstream " + target.host + " failed");
  co_return co_await upgrade(std::move(s), target);
}

}  // namespace anygpt::ws
