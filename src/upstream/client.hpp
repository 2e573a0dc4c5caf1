// upstream: the HTTP(S) client anygpt uses to call providers: per-host keep-alive pools,
// TLS with verification and SNI, separate connect / first-byte / idle timeouts.
#pragma once

#include <boost/asio/awaitable.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/asio/ssl/context.hpp>
#include <chrono>
#include <cstdint>
#include <memory>
#include <string>
#include <string_view>

#include "core/error.hpp"

namespace anygpt::upstream {

namespace asio = boost::asio;

// A parsed upstream endpoint.
struct Endpoint {
  bool tls = false;
  std::string host;
  std::string port;
  std::string target;  // path + query
  std::string host_header;
  std::string pool_key;  // scheme://host:port
};

core::Result<Endpoint> parse_endpoint(std::string_view url);

struct Timeouts {
  std::chrono::milliseconds connect{5000};
  std::chrono::milliseconds first_byte{60000};
  std::chrono::milliseconds idle{30000};
  std::chrono::milliseconds total{120000};
};

struct ClientOptions {
  Timeouts timeouts;
  std::size_t max_idle_per_host = 64;
  std::size_t max_response_bytes = 64 * 1024 * 1024;
};

class Connection;

// Lets the caller cancel an in-flight call from outside, e.g. when its own client went away.
// Owned by the caller; must outlive the call (or stream) it is passed to. Same thread only.
class Abort {
 public:
  // Cancels the pending I/O of the call; it then fails with kUpstreamError "cancelled".
  void trigger();
  bool triggered() const { return triggered_; }

 private:
  friend class Client;
  friend class Stream;
  Connection* conn_ = nullptr;
  bool triggered_ = false;
};

// A request body produced piece by piece (e.g. an upload kept in a file), readable again from
// the start for a retry. Used by one call at a time.
class BodySource {
 public:
  virtual ~BodySource() = default;
  virtual std::uint64_t size() const = 0;
  // The bytes at `offset` (at least one while offset < size()), valid until the next call.
  virtual asio::awaitable<core::Result<std::string_view>> read(std::uint64_t offset) = 0;
};

struct Request {
  const Endpoint* endpoint = nullptr;
  std::string_view body;
  // Instead of `body` when set: the body is written from it as it is read.
  BodySource* body_source = nullptr;
  std::string_view content_type;  // "" = application/json
  std::string_view api_key;       // the provider's key ("" = none sent); never logged
  // The header that carries the key as it is ("x-api-key", "x-goog-api-key"); empty: the key goes
  // as "Authorization: Bearer <key>".
  std::string_view key_header;
  // More header lines, each ending in "\r\n" ("anthropic-version: 2023-06-01\r\n"); may be empty.
  std::string_view extra_headers;
  bool expect_stream = false;
  Abort* abort = nullptr;  // optional
  // The caller's own budget: caps the wait for the response head and, for call(), the whole
  // exchange (a stream's body is bounded by the client's idle and total timeouts instead).
  std::chrono::steady_clock::time_point deadline = std::chrono::steady_clock::time_point::max();
  std::string_view method = "POST";  // "GET" for reads such as GET /responses/{id} (body empty)
};

struct Response {
  unsigned status = 0;
  std::string content_type;
  std::string retry_after;  // the Retry-After header, as sent
  std::string body;
};

// An open streamed response. next() yields body bytes as they arrive (decoded from chunked
// encoding); an empty view means the body ended cleanly. Destroying the stream before the end
// closes the connection; a completed stream returns it to the pool.
class Stream {
 public:
  Stream(class Client& client, std::unique_ptr<Connection> conn, Abort* abort);
  Stream(Stream&&) noexcept;
  ~Stream();

  unsigned status() const { return status_; }
  const std::string& content_type() const { return content_type_; }
  const std::string& retry_after() const { return retry_after_; }

  asio::awaitable<core::Result<std::string_view>> next();

 private:
  Client* client_;
  std::unique_ptr<Connection> conn_;
  Abort* abort_;
  unsigned status_;
  std::string content_type_;
  std::string retry_after_;
  std::chrono::steady_clock::time_point deadline_;
  bool done_ = false;
};

// One per event-loop thread (not thread-safe): owns that thread's connection pools.
class Client {
 public:
  Client(asio::io_context& ioc, std::shared_ptr<asio::ssl::context> tls, ClientOptions options);
  ~Client();

  // A whole request/response exchange (the body is read completely).
  asio::awaitable<core::Result<Response>> call(const Request& request);

  // Sends the request and reads the response head; the body is read through Stream::next().
  asio::awaitable<core::Result<Stream>> open_stream(const Request& request);

  const ClientOptions& options() const { return options_; }
  // The TLS context upstream connections verify against (also for other clients of the same
  // upstreams, e.g. WebSocket relays).
  asio::ssl::context& tls() const;

 private:
  friend class Stream;
  asio::awaitable<core::Result<std::unique_ptr<Connection>>> acquire(const Endpoint& ep, Abort* abort, bool& reused);
  void release(std::unique_ptr<Connection> conn);
  asio::awaitable<core::Result<std::unique_ptr<Connection>>> send(const Request& request);

  struct Impl;
  std::unique_ptr<Impl> impl_;
  ClientOptions options_;
};

// The TLS context: peer verification against the system CA store (honours SSL_CERT_FILE).
std::shared_ptr<asio::ssl::context> make_tls_context();

}  // namespace anygpt::upstream
