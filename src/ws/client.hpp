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

// One message read from the upstream.
struct Message {
  std::string data;
  bool binary = false;
};

// An open upstream WebSocket. Reads and writes may run at once (one of each).
class Upstream {
 public:
  virtual ~Upstream() = default;
  // The next message; an error when the upstream closed (kUpstreamUnavailable with the close
  // code in upstream_status) or failed.
  virtual boost::asio::awaitable<core::Result<Message>> read() = 0;
  virtual boost::asio::awaitable<bool> write(std::string_view data, bool binary) = 0;
  // Closes with `code` (best effort).
  virtual boost::asio::awaitable<void> close(std::uint16_t code) = 0;
  // Cuts the connection at once (every pending operation ends).
  virtual void cut() = 0;
};

// Connects, handshakes (TLS first for `target.tls`, verified against `tls`) and upgrades, all
// within `timeout`. Errors: kUpstreamUnavailable (cannot connect, TLS failed, upgrade refused:
// upstream_status carries the HTTP status when there was one), kUpstreamTimeout.
boost::asio::awaitable<core::Result<std::unique_ptr<Upstream>>> connect(boost::asio::any_io_executor executor,
                                                                        const Target& target,
                                                                        boost::asio::ssl::context* tls,
                                                                        std::chrono::milliseconds timeout);

}  // namespace anygpt::ws
