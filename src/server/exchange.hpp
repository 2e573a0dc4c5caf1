// server: HTTP/1.1 sessions, routing table, CORS. Knows nothing about AI.
#pragma once

#include <array>
#include <atomic>
#include <boost/asio/awaitable.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <boost/beast/http/message.hpp>
#include <boost/beast/http/string_body.hpp>
#include <functional>
#include <memory>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "core/error.hpp"
#include "core/watchdog.hpp"

namespace anygpt::server {

namespace asio = boost::asio;
namespace beast = boost::beast;
namespace http = beast::http;

using HttpRequest = http::request<http::string_body>;
using RequestHead = http::request_header<>;
using Headers = std::vector<std::pair<std::string, std::string>>;

// A complete (non-streamed) response.
// (Has constructors rather than aggregate init on purpose: GCC 12 double-destroys members of
// aggregates brace-initialised inside coroutines.)
struct Response {
  Response() = default;
  Response(unsigned s, std::string type, std::string b, Headers h = {})
      : status(s), content_type(std::move(type)), body(std::move(b)), headers(std::move(h)) {}

  unsigned status = 200;
  std::string content_type = "application/json";
  std::string body;
  Headers headers;
};

struct SessionShared;
class ConnectionTicket;

// The body of a request whose route reads it as it arrives (Route::streams_body), in pieces.
// Owned by the session; single-threaded.
class BodyReader {
 public:
  virtual ~BodyReader() = default;
  // The next piece of the body (valid until the next call); empty at the end. Errors:
  // kPayloadTooLarge past the server's body limit, kInvalidRequest when the client stopped
  // sending (deadline, malformed chunking, closed connection).
  virtual asio::awaitable<core::Result<std::string_view>> next() = 0;
  // True once the whole body was read.
  virtual bool done() const = 0;
};

// Where an exchange's answer goes when not to its socket: an in-process client (a request made
// over a WebSocket) that takes the HTTP answer as it would arrive. Its awaitables return false
// when that client is gone. Single-threaded: the connection's thread.
class AnswerCapture {
 public:
  virtual ~AnswerCapture() = default;
  // A whole answer. `headers`: the response's headers and the exchange's added ones.
  virtual asio::awaitable<void> reply(const Response& response, const Headers& headers) = 0;
  virtual asio::awaitable<bool> begin_stream(unsigned status, std::string_view content_type,
                                             const Headers& headers) = 0;
  virtual asio::awaitable<bool> write_chunk(std::string_view data) = 0;
  virtual asio::awaitable<bool> end_stream() = 0;

  // The client cancelled or left: runs the exchange's client-gone callback (which cancels the
  // upstream work), once.
  void client_gone() {
    if (gone_) return;
    gone_ = true;
    if (on_gone_) std::exchange(on_gone_, nullptr)();
  }
  bool gone() const { return gone_; }

 private:
  friend class Exchange;
  std::function<void()> on_gone_;
  bool gone_ = false;
};

// One request and the means to answer it. Owned by the session coroutine; valid until the
// handler's awaitable completes. Only the session's thread may touch it.
//
// A handler answers exactly once: either reply(), or begin_stream() + write_chunk()* + end_stream().
class Exchange {
 public:
  // `scratch` is the session's reusable buffer for response heads (no allocation per request).
  // `body`: the body read whole (nullptr for a body read through `reader`). `keep_alive`: what
  // the request asked for.
  Exchange(asio::ip::tcp::socket& socket, const RequestHead& request, bool keep_alive, std::string* body,
           std::string request_id, SessionShared& shared, std::string& scratch, BodyReader* reader = nullptr)
      : socket_(socket),
        request_(request),
        request_keep_alive_(keep_alive),
        body_(body),
        reader_(reader),
        request_id_(std::move(request_id)),
        shared_(shared),
        head_(scratch),
        probe_(*this) {}

  const RequestHead& request() const { return request_; }
  // The whole body (empty for a route that streams its body: see body_reader()).
  std::string& body() { return body_ ? *body_ : no_body_; }
  // The body as it arrives, for routes added with streams_body (nullptr otherwise). A handler
  // that answers before reading it all closes the connection after the answer.
  BodyReader* body_reader() { return reader_; }
  std::string_view header(http::field f) const;
  std::string_view header(std::string_view name) const;
  const std::string& request_id() const { return request_id_; }
  // The text a pattern route's placeholder matched (percent-decoded); empty for exact routes.
  const std::string& path_param() const { return path_param_; }
  void set_path_param(std::string param) { path_param_ = std::move(param); }
  // The query string (after '?'), empty when none.
  std::string_view query() const;
  // The value of query parameter `name` (not percent-decoded: for plain tokens), empty when absent.
  std::string_view query_value(std::string_view name) const;
  asio::any_io_executor executor() { return socket_.get_executor(); }

  // Sends the answer to `capture` instead of the socket (REQUIRES: before any answer). The
  // socket stays the connection's: an exchange made for a request that arrived otherwise (over
  // a WebSocket on it) only uses its executor.
  void set_capture(AnswerCapture* capture) { capture_ = capture; }
  // Hands the connection over to a protocol upgrade (WebSocket): the exchange counts as
  // answered (101, by the caller), and the connection closes when the handler returns.
  asio::ip::tcp::socket& upgrade();
  // An exchange for a request that reached this connection by other means (a WebSocket
  // message), answered to `capture`. `head`, `body`, `scratch` and `capture` outlive it.
  std::unique_ptr<Exchange> sibling(const RequestHead& head, std::string* body, std::string request_id,
                                    std::string& scratch, AnswerCapture& capture);
  // True once the server drains (SIGTERM): long-lived upgraded connections wind down.
  const std::atomic<bool>& draining() const;

  // The connection's place under the server's caps (set by the session).
  void set_ticket(ConnectionTicket* ticket) { ticket_ = ticket; }
  // A request on this connection was authenticated: the connection stops counting against its
  // address's cap on unauthenticated connections. (Const: it changes the connection's state,
  // not this request's; called by the authenticating layer.)
  void mark_authenticated() const;

  // Headers added to whatever answer this exchange sends (e.g. rate-limit headers).
  // REQUIRES: `name` has static storage (a literal); at most kMaxExtraHeaders per exchange.
  void add_header(std::string_view name, std::string value);
  static constexpr std::size_t kMaxExtraHeaders = 8;

  // Not coroutines themselves: they move their arguments into the exchange before the first
  // suspension (GCC 12 mis-copies aggregate temporaries into coroutine frames).
  asio::awaitable<void> reply(Response response);

  // Chunked streaming. Each returns false when the client is gone (the stream is then dead).
  asio::awaitable<bool> begin_stream(unsigned status, std::string_view content_type, Headers headers = {});
  asio::awaitable<bool> write_chunk(std::string_view data);
  asio::awaitable<bool> end_stream();

  // Completes when the client closes its connection (EOF or error) - never otherwise.
  // Costs an awaitable per call: for holding a request open (e.g. the mock), not the hot path.
  asio::awaitable<void> wait_client_gone();

  // While watched, the client's socket is probed at each watchdog tick (from the second tick
  // on, so fast requests cost nothing); when the client is found gone, `on_gone` runs once.
  // The hot path's way to cancel upstream work on disconnect.
  void watch_client(std::function<void()> on_gone);
  void unwatch_client();
  bool client_gone() const { return broken_ || (capture_ && capture_->gone()); }

  // Resets the connection (TCP RST, no response or no end of stream): for fault injection
  // and for cutting a request at shutdown.
  void abort();
  bool aborted() const { return aborted_; }

  bool answered() const { return answered_; }
  bool streaming() const { return streaming_; }
  bool keep_alive() const { return keep_alive_ && !broken_ && !aborted_; }
  unsigned status() const { return status_; }

 private:
  // Status line and headers of the answer into head_.
  void build_head(unsigned status, std::string_view content_type, const Headers& headers, std::size_t content_length,
                  bool chunked);
  asio::awaitable<void> send_response();
  asio::awaitable<bool> send_stream_head(unsigned status, std::string_view content_type);
  // Writes `buffers` whole, under the write deadline: a client that reads nothing for
  // write_timeout_ms loses its connection. Sets broken_ on failure.
  template <typename Buffers>
  asio::awaitable<void> write_all(const Buffers& buffers);

  // Cancels the socket's pending write when its deadline passes.
  class WriteWatch : public core::DeadlineWatch {
   public:
    explicit WriteWatch(Exchange& ex) : ex_(ex) {}

   protected:
    void on_deadline() override;

   private:
    Exchange& ex_;
  };

  // Probes the client socket for EOF while armed.
  class ClientProbe : public core::Watch {
   public:
    explicit ClientProbe(Exchange& ex) : ex_(ex) {}
    std::function<void()> on_gone;
    bool seen_once = false;  // probe only after a whole tick without a successful write

   protected:
    void on_tick(core::SteadyClock::time_point now) override;

   private:
    Exchange& ex_;
  };

  asio::ip::tcp::socket& socket_;
  const RequestHead& request_;
  bool request_keep_alive_;
  std::string* body_;
  std::string no_body_;
  BodyReader* reader_;
  std::string request_id_;
  std::string path_param_;
  SessionShared& shared_;
  // Fixed slots: no allocation per request for the usual few (rate-limit headers...).
  std::array<std::pair<std::string_view, std::string>, kMaxExtraHeaders> extra_headers_;
  std::size_t extra_count_ = 0;
  std::string& head_;
  Response response_;
  Headers stream_headers_;
  bool answered_ = false;
  bool streaming_ = false;
  bool keep_alive_ = true;
  bool broken_ = false;
  bool aborted_ = false;
  ClientProbe probe_;
  WriteWatch write_watch_{*this};
  ConnectionTicket* ticket_ = nullptr;
  AnswerCapture* capture_ = nullptr;
  unsigned status_ = 0;
};

}  // namespace anygpt::server
