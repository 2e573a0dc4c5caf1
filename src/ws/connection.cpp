#include "ws/connection.hpp"

#include <boost/asio/as_tuple.hpp>
#include <boost/asio/buffer.hpp>
#include <boost/asio/co_spawn.hpp>
#include <boost/asio/detached.hpp>
#include <boost/asio/use_awaitable.hpp>
#include <boost/beast/core/flat_buffer.hpp>
#include <boost/beast/http/empty_body.hpp>
#include <boost/beast/http/field.hpp>
#include <boost/beast/websocket/error.hpp>
#include <chrono>

namespace anygpt::ws {
namespace {
constexpr auto kTuple = asio::as_tuple(asio::use_awaitable);
constexpr auto kCloseGrace = std::chrono::seconds(5);  // for the client's answer to our close

void park(asio::steady_timer& t) {
  t.expires_at(asio::steady_timer::time_point::max());  // woken by cancel(), never by time
}
}  // namespace

Connection::Connection(asio::ip::tcp::socket& socket, Options options, const std::atomic<bool>& draining)
    : socket_(socket),
      ws_(socket),
      options_(std::move(options)),
      draining_(draining),
      writer_wake_(socket.get_executor()),
      senders_wake_(socket.get_executor()),
      writer_gone_(socket.get_executor()),
      last_heard_(core::SteadyClock::now()) {
  park(writer_wake_);
  park(senders_wake_);
  park(writer_gone_);
  ws_.read_message_max(options_.max_message_bytes);
  ws_.auto_fragment(false);
  if (!options_.subprotocol.empty())
    ws_.set_option(websocket::stream_base::decorator([sp = options_.subprotocol](websocket::response_type& res) {
      res.set(beast::http::field::sec_websocket_protocol, sp);
    }));
  ws_.control_callback([this](websocket::frame_type, beast::string_view) { last_heard_ = core::SteadyClock::now(); });
}

asio::awaitable<bool> Connection::accept(const beast::http::request_header<>& request) {
  beast::http::request<beast::http::empty_body> req(request);
  auto [ec] = co_await ws_.async_accept(req, kTuple);
  co_return !ec;
}

asio::awaitable<void> Connection::run(std::function<asio::awaitable<void>(std::string_view, bool)> on_message) {
  last_heard_ = core::SteadyClock::now();
  core::Watchdog::for_this_thread().arm(timing_);
  asio::co_spawn(socket_.get_executor(), write_loop(), asio::detached);
  beast::flat_buffer buffer;
  for (;;) {
    auto [ec, n] = co_await ws_.async_read(buffer, kTuple);
    if (ec) {
      if (ec == websocket::error::message_too_big) close(kTooBig, "message too big");
      break;
    }
    last_heard_ = core::SteadyClock::now();
    const auto data = buffer.cdata();
    co_await on_message(std::string_view(static_cast<const char*>(data.data()), data.size()), ws_.got_binary());
    buffer.consume(buffer.size());
  }
  if (!closing_) close(kNormal, "");
  wake_writer();
  if (!writer_done_) co_await writer_gone_.async_wait(kTuple);
  timing_.disarm();
}

asio::awaitable<bool> Connection::send(std::string data, bool binary) {
  while (!closing_ && queued_bytes_ > options_.send_budget_bytes) co_await senders_wake_.async_wait(kTuple);
  if (closing_) co_return false;
  queued_bytes_ += data.size();
  auto& out = queue_.emplace_back();  // (no braced aggregate in a coroutine: GCC 12)
  out.data = std::move(data);
  out.binary = binary;
  wake_writer();
  co_return true;
}

void Connection::close(std::uint16_t code, std::string reason) {
  if (closing_) return;
  closing_ = true;
  closing_since_ = core::SteadyClock::now();
  close_code_ = code;
  close_reason_ = std::move(reason);
  wake_writer();
  wake_senders();
}

void Connection::wake_writer() {
  writer_wake_.cancel();
}

void Connection::wake_senders() {
  senders_wake_.cancel();
}

asio::awaitable<void> Connection::write_loop() {
  for (;;) {
    if (cut_) break;
    if (ping_due_) {
      ping_due_ = false;
      writing_ = true;
      write_started_ = core::SteadyClock::now();
      auto [ec] = co_await ws_.async_ping(websocket::ping_data{}, kTuple);
      writing_ = false;
      if (ec) break;
      continue;
    }
    if (!queue_.empty()) {
      Outgoing message = std::move(queue_.front());
      queue_.pop_front();
      writing_ = true;
      write_started_ = core::SteadyClock::now();
      ws_.binary(message.binary);
      auto [ec, n] = co_await ws_.async_write(asio::buffer(message.data), kTuple);
      writing_ = false;
      queued_bytes_ -= message.data.size();
      wake_senders();
      if (ec) break;
      continue;
    }
    if (closing_) {
      websocket::close_reason why(static_cast<websocket::close_code>(close_code_), close_reason_);
      writing_ = true;
      write_started_ = core::SteadyClock::now();
      co_await ws_.async_close(why, kTuple);  // (an error here: the client is gone anyway)
      writing_ = false;
      break;
    }
    co_await writer_wake_.async_wait(kTuple);
  }
  writer_done_ = true;
  closing_ = true;
  queue_.clear();
  queued_bytes_ = 0;
  wake_senders();
  writer_gone_.cancel();
}

void Connection::Timing::on_tick(core::SteadyClock::time_point now) {
  auto& c = c_;
  const auto ms = [](std::int64_t v) { return std::chrono::milliseconds(v); };
  const bool write_stuck = c.writing_ && now - c.write_started_ > ms(c.options_.write_timeout_ms);
  const bool close_unanswered = c.closing_ && now - c.closing_since_ > kCloseGrace;
  if (write_stuck || close_unanswered) {
    // Nothing more can be said to this client: cut the socket (every pending operation ends).
    c.cut_ = true;
    c.closing_ = true;
    beast::error_code ec;
    c.socket_.cancel(ec);
    c.socket_.close(ec);
    disarm();
    return;
  }
  if (c.closing_) return;
  if (c.draining_.load(std::memory_order_relaxed) && !c.busy_) {
    c.close(kRestart, "server restarting");
    return;
  }
  if (now - c.last_heard_ > ms(c.options_.idle_timeout_ms)) {
    c.close(kIdle, "idle timeout");
    return;
  }
  if (now - c.last_heard_ > ms(c.options_.ping_interval_ms) && now - c.last_ping_ > ms(c.options_.ping_interval_ms)) {
    c.last_ping_ = now;
    c.ping_due_ = true;
    c.wake_writer();
  }
}

}  // namespace anygpt::ws
