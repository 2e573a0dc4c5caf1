// server: HTTP/1.1 sessions, routing table, CORS. Knows nothing about AI.
#pragma once

#include <array>
#include <boost/asio/awaitable.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <boost/beast/http/message.hpp>
#include <boost/beast/http/string_body.hpp>
#include <functional>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "core/watchdog.hpp"

namespace anygpt::server {

namespace asio = boost::asio;
namespace beast = boost::beast;
namespace http = beast::http;

using HttpRequest = http::request<http::string_body>;
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

// One request and the means to answer it. Owned by the session coroutine; valid until the
// handler's awaitable completes. Only the session's thread may touch it.
//
// A handler answers exactly once: either reply(), or begin_stream() + write_chunk()* + end_stream().
class Exchange {
 public:
  // `scratch` is the session's reusable buffer for response heads (no allocation per request).
  Exchange(asio::ip::tcp::socket& socket, HttpRequest& request, std::string request_id, SessionShared& shared,
           std::string& scratch)
      : socket_(socket),
        request_(request),
        request_id_(std::move(request_id)),
        shared_(shared),
        head_(scratch),
        probe_(*this) {}

  const HttpRequest& request() const { return request_; }
  std::string& body() { return request_.body(); }
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
  void unwatch_client() { probe_.disarm(); }
  bool client_gone() const { return broken_; }

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
  HttpRequest& request_;
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
  unsigned status_ = 0;
};

}  // namespace anygpt::server
