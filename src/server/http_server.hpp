#pragma once

#include <atomic>
#include <functional>
#include <memory>
#include <string>
#include <unordered_map>
#include <vector>

#include "core/error.hpp"
#include "core/string_hash.hpp"
#include "server/connection_gate.hpp"
#include "server/exchange.hpp"

namespace anygpt::server {

using Handler = std::function<asio::awaitable<void>(Exchange&)>;
// Renders a server-level error (404, 405, 413, 400 for unparsable HTTP) in the JSON shape of
// the API family `path` belongs to (path without query; may be empty).
using ErrorRenderer = std::function<Response(const core::Error&, std::string_view path)>;

// `path` is exact, or a pattern with one "{name}" placeholder ("/v2/models/{model}:embed"):
// the placeholder matches any non-empty text (slashes included) and reaches the handler as
// Exchange::path_param(), percent-decoded. Exact paths win; among patterns, the longest literal.
// `streams_body`: the handler reads the body itself, as it arrives (Exchange::body_reader());
// otherwise the whole body is read before the handler runs.
struct Route {
  http::verb method;
  std::string path;
  Handler handler;
  bool streams_body = false;
};

struct MethodHandler {
  http::verb method;
  Handler handler;
  bool streams_body = false;
};
using Handlers = std::vector<MethodHandler>;

struct PatternRoute {
  std::string prefix;  // the literal before the placeholder
  std::string suffix;  // the literal after it
  Handlers handlers;
};

struct CorsPolicy {
  std::string origins = "*";  // "*" or a comma-separated list of allowed origins
  std::string methods;
  std::string headers;
};

struct ServerOptions {
  std::string host = "127.0.0.1";
  std::uint16_t port = 0;
  int threads = 1;
  std::int64_t max_body_bytes = 50LL * 1024 * 1024;
  std::int64_t keep_alive_idle_ms = 65000;  // wait for the first byte of a kept-alive connection's next request
  // Deadlines on slow clients (each closes the connection when it passes):
  std::int64_t header_timeout_ms = 10000;  // request head, from accept or from the request's first byte
  std::int64_t body_timeout_ms = 20000;    // request body, extended by each byte at body_min_rate
  std::int64_t body_min_rate = 1024;       // bytes/s a body must keep up to earn more time (0: no extension)
  std::int64_t write_timeout_ms = 30000;   // one write of the answer to a client that does not read
  int max_connections = 0;                 // open client connections in all (0: no cap)
  int max_unauthenticated_per_ip = 0;      // per client address, before a request authenticated (0: no cap)
  CorsPolicy cors;
  bool access_log = true;  // one info line per request
};

// State every session of the server reads (immutable after start, except the atomics).
struct SessionShared {
  std::unordered_map<std::string, Handlers, core::StringHash, std::equal_to<>> routes;
  std::vector<PatternRoute> patterns;  // longest literal first
  ErrorRenderer render_error;
  ServerOptions options;
  std::atomic<bool> draining{false};
  std::atomic<int> in_flight{0};  // requests being handled
  std::unique_ptr<ConnectionGate> gate;
  std::string refusal_total;   // the whole HTTP answer to a connection over max_connections
  std::string refusal_per_ip;  // ... over max_unauthenticated_per_ip
  std::atomic<std::uint64_t> refused_total{0};
  std::atomic<std::uint64_t> refused_per_ip{0};
  std::atomic<std::uint64_t> timed_out{0};  // connections closed by a header, body or write deadline
};

// The HTTP server: one io_context and one SO_REUSEPORT acceptor per thread, a coroutine per
// connection. Construct, add routes, start(); stop via drain() + stop(). Thread-safe where noted.
class HttpServer {
 public:
  HttpServer(ServerOptions options, ErrorRenderer render_error);
  ~HttpServer();

  void add_route(Route route);  // REQUIRES: before start()

  // Binds (throws on failure: start-up only) and runs the worker threads. Returns the bound port.
  // `on_thread_start` runs first on each worker thread with its io_context (per-thread resources).
  std::uint16_t start(std::function<void(asio::io_context&)> on_thread_start = {});

  // Stops accepting, closes idle connections, lets busy ones finish their current request.
  // Thread-safe.
  void drain();
  int in_flight() const { return shared_->in_flight.load(); }
  ConnectionStats connection_stats() const;  // thread-safe
  // Stops all event loops and joins the threads. Thread-safe; idempotent.
  void stop();

 private:
  struct Worker;
  std::shared_ptr<SessionShared> shared_;
  std::vector<std::unique_ptr<Worker>> workers_;
};

}  // namespace anygpt::server
