#include "ws/client.hpp"

#include <openssl/ssl.h>

#include <boost/asio/as_tuple.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <boost/asio/ssl/host_name_verification.hpp>
#include <boost/asio/ssl/stream.hpp>
#include <boost/asio/use_awaitable.hpp>
#include <boost/beast/core/flat_buffer.hpp>
#include <boost/beast/core/tcp_stream.hpp>
#include <boost/beast/http/field.hpp>
#include <boost/beast/ssl/ssl_stream.hpp>
#include <boost/beast/websocket/error.hpp>
#include <boost/beast/websocket/ssl.hpp>
#include <boost/beast/websocket/stream.hpp>

namespace anygpt::ws {
namespace {
namespace asio = boost::asio;
namespace beast = boost::beast;
namespace websocket = beast::websocket;
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
  explicit Socket(Args&&... args) : ws_(std::forward<Args>(args)...) {}
  websocket::stream<Stream>& ws() { return ws_; }

  asio::awaitable<core::Result<Message>> read() override {
    buffer_.clear();
    auto [ec, n] = co_await ws_.async_read(buffer_, kTuple);
    if (ec == websocket::error::closed)
      co_return failure("the upstream closed the WebSocket", static_cast<int>(ws_.reason().code));
    if (ec) co_return failure("the upstream WebSocket failed: " + ec.message());
    const auto data = buffer_.cdata();
    Message m;
    m.data.assign(static_cast<const char*>(data.data()), data.size());
    m.binary = ws_.got_binary();
    co_return m;
  }

  asio::awaitable<bool> write(std::string_view data, bool binary) override {
    ws_.binary(binary);
    auto [ec, n] = co_await ws_.async_write(asio::buffer(data.data(), data.size()), kTuple);
    co_return !ec;
  }

  asio::awaitable<void> close(std::uint16_t code) override {
    auto [ec] = co_await ws_.async_close(websocket::close_reason(static_cast<websocket::close_code>(code)), kTuple);
    if (ec) cut();
  }

  void cut() override { beast::get_lowest_layer(ws_).close(); }

 private:
  websocket::stream<Stream> ws_;
  beast::flat_buffer buffer_;
};

template <typename Stream>
void decorate(websocket::stream<Stream>& ws, const Target& target) {
  ws.set_option(websocket::stream_base::decorator([headers = target.headers](websocket::request_type& req) {
    for (const auto& [k, v] : headers) req.set(k, v);
  }));
}

// The upgrade, with the HTTP status of a refusal.
template <typename Stream>
asio::awaitable<std::optional<core::Error>> upgrade(websocket::stream<Stream>& ws, const Target& target) {
  websocket::response_type res;
  const std::string host = target.host + ":" + target.port;
  auto [ec] = co_await ws.async_handshake(res, host, target.path, kTuple);
  if (!ec) co_return std::nullopt;
  if (res.result_int() != 0 && res.result_int() != 101)
    co_return failure("the upstream refused the WebSocket upgrade (" + std::to_string(res.result_int()) + ")",
                      static_cast<int>(res.result_int()));
  co_return failure("the upstream WebSocket handshake failed: " + ec.message());
}

// Opens the TCP connection of `s` within the deadline already set on its lowest layer.
template <typename Stream>
asio::awaitable<std::optional<core::Error>> connect_tcp(Socket<Stream>& s, const tcp::resolver::results_type& endpoints,
                                                        const Target& target) {
  auto [ec, ep] = co_await beast::get_lowest_layer(s.ws()).async_connect(endpoints, kTuple);
  if (ec == beast::error::timeout)
    co_return core::make_error(core::ErrorKind::kUpstreamTimeout, "upstream connect timed out");
  if (ec) co_return failure("cannot connect to upstream " + target.host + ":" + target.port);
  co_return std::nullopt;
}

// The upgrade of a connected `s`, then its deadline lifted.
template <typename Stream>
asio::awaitable<core::Result<std::unique_ptr<Upstream>>> finish(std::unique_ptr<Socket<Stream>> s,
                                                                const Target& target) {
  decorate(s->ws(), target);
  auto refused = co_await upgrade(s->ws(), target);
  if (refused) co_return *refused;
  beast::get_lowest_layer(s->ws()).expires_never();
  co_return std::unique_ptr<Upstream>(std::move(s));
}
}  // namespace

asio::awaitable<core::Result<std::unique_ptr<Upstream>>> connect(asio::any_io_executor executor, const Target& target,
                                                                 asio::ssl::context* tls,
                                                                 std::chrono::milliseconds timeout) {
  tcp::resolver resolver(executor);
  auto [rec, endpoints] = co_await resolver.async_resolve(target.host, target.port, kTuple);
  if (rec) co_return failure("cannot resolve upstream host " + target.host);
  if (!target.tls) {
    auto s = std::make_unique<Socket<beast::tcp_stream>>(executor);
    beast::get_lowest_layer(s->ws()).expires_after(timeout);
    auto failed = co_await connect_tcp(*s, endpoints, target);
    if (failed) co_return *failed;
    co_return co_await finish(std::move(s), target);
  }
  if (!tls) co_return failure("wss:// needs a TLS context");
  auto s = std::make_unique<Socket<beast::ssl_stream<beast::tcp_stream>>>(executor, *tls);
  beast::get_lowest_layer(s->ws()).expires_after(timeout);
  auto failed = co_await connect_tcp(*s, endpoints, target);
  if (failed) co_return *failed;
  auto& ssl = s->ws().next_layer();
  if (!SSL_set_tlsext_host_name(ssl.native_handle(), target.host.c_str()))
    co_return failure("TLS setup for upstream " + target.host + " failed");
  ssl.set_verify_mode(asio::ssl::verify_peer);
  ssl.set_verify_callback(asio::ssl::host_name_verification(target.host));
  auto [hec] = co_await ssl.async_handshake(asio::ssl::stream_base::client, kTuple);
  if (hec) co_return failure("TLS handshake with upstream " + target.host + " failed");
  co_return co_await finish(std::move(s), target);
}

}  // namespace anygpt::ws
