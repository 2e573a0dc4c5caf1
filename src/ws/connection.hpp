// ws: WebSocket connections (RFC 6455 over Boost.Beast) on a socket the HTTP server handed over.
// Knows nothing about AI: text messages in, text messages out, pings, deadlines, backpressure.
#pragma once

#include <atomic>
#include <boost/asio/awaitable.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/beast/http/message.hpp>
#include <boost/beast/websocket/stream.hpp>
#include <cstdint>
#include <deque>
#include <functional>
#include <string>
#include <string_view>

#include "core/watchdog.hpp"

namespace anygpt::ws {

namespace asio = boost::asio;
namespace beast = boost::beast;
namespace websocket = beast::websocket;

struct Options {
  std::size_t max_message_bytes = 1 << 20;  // a larger client message closes with 1009
  std::int64_t ping_interval_ms = 30000;    // a ping after this long without a client frame
  std::int64_t idle_timeout_ms = 120000;    // no frame (pong included) for this long: close 4000
  std::int64_t write_timeout_ms = 30000;    // one message not taken by the client: dropped
  std::size_t send_budget_bytes = 1 << 20;  // queued outgoing bytes beyond which send() waits
  std::string subprotocol;                  // answered in the handshake when not empty
};

// Close codes the server uses (RFC 6455 and the application range).
enum CloseCode : std::uint16_t {
  kNormal = 1000,
  kPolicy = 1008,  // e.g. authentication failed where the protocol closes for it
  kTooBig = 1009,  // a message over max_message_bytes
  kInternal = 1011,
  kRestart = 1012,  // the server is draining (SIGTERM)
  kIdle = 4000,     // no frame within idle_timeout_ms
};

// One WebSocket connection. Lives in the HTTP handler's coroutine frame that owns the socket;
// everything runs on the socket's thread. Reads go to the handler given to run(); writes are
// queued (send()) and written by one writer, in order, under the byte budget.
class Connection {
 public:
  Connection(asio::ip::tcp::socket& socket, Options options, const std::atomic<bool>& draining);
  Connection(const Connection&) = delete;
  Connection& operator=(const Connection&) = delete;

  // Completes the handshake answering `request` (an upgrade). False when it failed.
  asio::awaitable<bool> accept(const beast::http::request_header<>& request);

  // Reads messages until either side closes, awaiting `on_message(data, binary)` for each in
  // order (it should start long work elsewhere and return; while it runs, nothing more is read:
  // backpressure on the client). Returns when the connection is closed and the writer stopped.
  asio::awaitable<void> run(std::function<asio::awaitable<void>(std::string_view, bool)> on_message);

  // Queues a message (text unless `binary`). Waits while the queue holds more than the budget
  // (a slow reader stalls its own senders, never the thread). False once the connection is closing.
  asio::awaitable<bool> send(std::string data, bool binary = false);

  // Starts closing with `code` after what is queued is written.
  void close(std::uint16_t code, std::string reason);
  bool closing() const { return closing_; }
  // Set when the server drains: called once with no request in flight the connection closes
  // 1012 (the owner says when it has none: see set_busy()).
  void set_busy(bool busy) { busy_ = busy; }
  asio::any_io_executor executor() { return socket_.get_executor(); }

 private:
  asio::awaitable<void> write_loop();
  void wake_writer();
  void wake_senders();

  // Pings, the idle deadline, the write deadline and drains, on the thread's watchdog.
  class Timing : public core::Watch {
   public:
    explicit Timing(Connection& c) : c_(c) {}

   protected:
    void on_tick(core::SteadyClock::time_point now) override;

   private:
    Connection& c_;
  };

  asio::ip::tcp::socket& socket_;
  websocket::stream<asio::ip::tcp::socket&> ws_;
  Options options_;
  const std::atomic<bool>& draining_;
  struct Outgoing {
    std::string data;
    bool binary = false;
  };
  std::deque<Outgoing> queue_;
  std::size_t queued_bytes_ = 0;
  asio::steady_timer writer_wake_;   // the writer waits on it while the queue is empty
  asio::steady_timer senders_wake_;  // senders over the budget wait on it
  asio::steady_timer writer_gone_;   // run() waits on it for the writer to stop
  bool closing_ = false;
  bool writer_done_ = false;
  bool ping_due_ = false;
  bool busy_ = false;
  bool cut_ = false;  // the socket was cancelled (a deadline): nothing more is written
  std::uint16_t close_code_ = kNormal;
  std::string close_reason_;
  core::SteadyClock::time_point last_heard_;
  core::SteadyClock::time_point last_ping_{};
  core::SteadyClock::time_point write_started_{};
  core::SteadyClock::time_point closing_since_{};
  bool writing_ = false;
  Timing timing_{*this};
};

}  // namespace anygpt::ws
