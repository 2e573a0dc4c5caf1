// ws: a WebSocket client connection to an upstream (ws://, or wss:// with the certificate and
// host name verified), for relays. Knows nothing about AI.
#pragma once

#include <boost/asio/any_io_executor.hpp>
#include <boost/asio/awaitable.hpp>
#include <boost/asio/ssl/context.hpp>
#include <chrono>
#include <memory>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "core/error.hpp"

namespace anygpt::ws {

struct Target {
  bool tls = false;
  std::string host;
  std::string port;
  std::string path;                                          // path + query
  std::vector<std::pair<std::string, std::string>> headers;  // sent with the handshake
};

// An open upstream WebSocket, as bytes: the relay passes frames on unchanged (ws/frames scans
// them). One read and one write may run at once.
class Upstream {
 public:
  virtual ~Upstream() = default;
  // Some bytes as the upstream sent them; 0 at its end or on an error.
  virtual boost::asio::awaitable<std::size_t> read_some(char* into, std::size_t size) = 0;
  virtual boost::asio::awaitable<bool> write(std::string_view bytes) = 0;
  // Cuts the connection at once (every pending operation ends).
  virtual void cut() = 0;

  std::string leftover;  // bytes that came with the handshake's answer: the first frames
};

// Connects, handshakes (TLS first for `target.tls`, verified against `tls`) and upgrades (our own
// HTTP/1.1 upgrade, Sec-WebSocket-Accept checked), all within `timeout`. Errors: kUpstreamUnavailable (cannot connect,
// TLS failed, upgrade refused: upstream_status carries the HTTP status when there was one), kUpstreamTimeout.
boost::asio::awaitable<core::Result<std::unique_ptr<Upstream>>> connect(boost::asio::any_io_executor executor,
                                                                        const Target& target,
                                                                        boost::asio::ssl::context* tls,
                                                                        std::chrono::milliseconds timeout);

}  // namespace anygpt::ws
